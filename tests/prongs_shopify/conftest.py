"""Shared builders for the Shopify order prong tests: a world, known cards, configs, runs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import pytest
from cryptography.fernet import Fernet

from cards.money import Money
from cards.policy import AmountLimits, ExpiryPolicy
from cards.vocab import CardSource, CardStatus, Kind, OrderKind
from clients.records import ShopifyCard
from config.layout import GiftCards, Receipts, ShopifyOrders
from prongs.deps import CardConfig, Deps
from prongs.orders_sweep import RefundSweep
from prongs.report import Budget, Gate, OpenGate, RunReport
from prongs.shopify_purchases import PurchasesConfig
from prongs.shopify_purchases import run_once as run_purchases_once
from prongs.shopify_redemptions import RedemptionsConfig, run_once
from tests.fakes import World

USD = "USD"
TAG_R = "giftbridge-redeemed"
TAG_P = "giftbridge-processed"


def usd(value: str) -> Money:
    return Money.of(value, USD)


@pytest.fixture
def world() -> World:
    return World.build(USD)


@dataclass
class KnownCard:
    row_id: str
    card: ShopifyCard

    @property
    def gid(self) -> str:
        return self.card.id


def known_card(
    world: World, code: str, value: str, status: CardStatus = CardStatus.ACTIVE
) -> KnownCard:
    """A card giftbridge knows: in Shopify and with its Gift Cards row (Balance mirrored)."""
    card = world.shopify.issue_native(code, usd(value))
    row_id = world.airtable.insert(
        GiftCards.TABLE,
        {
            GiftCards.SHOPIFY_GIFT_CARD_ID: card.id,
            GiftCards.MASKED_CODE: "\u2022" * 8 + code[-4:],
            GiftCards.LAST_CHARACTERS: code[-4:],
            GiftCards.STATUS: status,
            GiftCards.KIND: Kind.GIFT_CARD,
            GiftCards.CURRENCY: USD,
            GiftCards.INITIAL_VALUE: usd(value),
            GiftCards.BALANCE: usd(value),
            GiftCards.SOURCE: CardSource.STORE,
        },
    )
    return KnownCard(row_id, card)


def unknown_card(world: World, code: str, value: str) -> ShopifyCard:
    """A card only Shopify knows (historical, or sold online before giftbridge)."""
    return world.shopify.issue_native(code, usd(value))


def redemptions_config(**overrides: Any) -> RedemptionsConfig:
    return replace(RedemptionsConfig(currency=USD, page_size=2), **overrides)


@dataclass
class RedemptionsProcess:
    """What one daemon process holds for the redemptions prong: the world's deps and the
    late-refund sweep it keeps between runs (a new one is a restarted process)."""

    deps: Deps
    sweep: RefundSweep = field(default_factory=RefundSweep)

    def run(self, config: RedemptionsConfig, budget: Budget, gate: Gate) -> RunReport:
        return run_once(self.deps, config, budget, gate, sweep=self.sweep)


def redemptions_process(world: World) -> RedemptionsProcess:
    return RedemptionsProcess(world.deps())


def run_redemptions(
    world: World,
    process: RedemptionsProcess | None = None,
    config: RedemptionsConfig | None = None,
    gate: Gate | None = None,
) -> RunReport:
    return (process or redemptions_process(world)).run(
        config or redemptions_config(), Budget(world.clock, 30), gate or OpenGate()
    )


def until_quiet(run: Callable[[], RunReport], limit: int = 12) -> list[RunReport]:
    """Run until a run finds nothing to do and fails nothing; fail the test if it never does."""
    reports = []
    for _ in range(limit):
        report = run()
        reports.append(report)
        if not report.found_work and not report.errors:
            return reports
    raise AssertionError(f"never quiet after {limit} runs: {reports[-1]}")


def order_rows(world: World, order_id: str) -> dict[OrderKind, dict[str, Any]]:
    return {
        OrderKind(r[ShopifyOrders.KIND]): r
        for r in world.airtable.rows(ShopifyOrders.TABLE)
        if r[ShopifyOrders.ORDER_ID] == order_id
    }


def receipts_by_reference(world: World) -> dict[str, dict[str, Any]]:
    rows = world.airtable.receipts()
    by_ref = {str(r[Receipts.REFERENCE]): r for r in rows}
    assert len(by_ref) == len(rows), "two receipts share a reference"
    return by_ref


def card_rows(world: World) -> list[dict[str, Any]]:
    return world.airtable.rows(GiftCards.TABLE)


def card_row(world: World, row_id: str) -> dict[str, Any]:
    return world.airtable.row(GiftCards.TABLE, row_id)


# --- purchases ----------------------------------------------------------------------------

SKU = "GC-50"
PEPPER = "p" * 40
CODE_KEY = Fernet.generate_key().decode()


def card_config(**overrides: Any) -> CardConfig:
    config = CardConfig(
        currency=USD,
        business_name="Test Shop",
        code_length=12,
        limits=AmountLimits(usd("5.00"), usd("1000.00")),
        expiry=ExpiryPolicy(0),
        pepper=PEPPER,
        code_key=CODE_KEY,
        email_attempts=2,
        email_retry_seconds=0,
    )
    return replace(config, **overrides)


def purchases_config(**overrides: Any) -> PurchasesConfig:
    config = PurchasesConfig(card=card_config(), gift_card_skus=frozenset({SKU}), page_size=2)
    return replace(config, **overrides)


def purchases_deps(world: World) -> Deps:
    return world.deps()


def run_purchases(
    world: World, config: PurchasesConfig | None = None, gate: Gate | None = None
) -> RunReport:
    return run_purchases_once(
        purchases_deps(world),
        config or purchases_config(),
        Budget(world.clock, 30),
        gate or OpenGate(),
    )
