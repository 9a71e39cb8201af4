"""The audit end to end: the stand-ins over HTTP, the real adapters, the real prongs. Each class
of drift is made as a person would (in Shopify's admin, at a Shopify POS, by deleting a row),
found by an audit run, and a second run repeats nothing."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest

from cards.vocab import CardStatus, Metric, ReceiptAction
from config.layout import GiftCards, Receipts
from prongs import audit
from prongs.audit import AuditConfig, AuditProgress
from prongs.audit_state import MemoryStore
from prongs.audit_tally import DriftClass
from prongs.report import Budget, OpenGate, RunReport
from tests.e2e.store_helpers import StoreWorld, dec, store_online

pytestmark = pytest.mark.slow
OPERATOR = "ops@example.com"


@dataclass
class Audited:
    world: StoreWorld
    store: MemoryStore = field(default_factory=MemoryStore)
    config: AuditConfig = field(
        default_factory=lambda: AuditConfig(
            currency="USD",
            interval=timedelta(0),  # every run is an incremental one
            settle=timedelta(0),
            overlap=timedelta(minutes=1),
            settle_transactions=timedelta(0),
            alert_email=OPERATOR,
        )
    )

    def __post_init__(self) -> None:
        self.progress = AuditProgress(self.store)

    def run(self, *, full: bool = False) -> RunReport:
        if full:
            self.progress.request_full()
        deps = self.world.deps
        return audit.run_once(
            deps, self.config, Budget(deps.clock, 60), OpenGate(), progress=self.progress
        )

    def issue(self, amount: str = "50.00") -> str:
        request = self.world.creation(amount, email="holder@example.com")
        self.world.run()
        return self.world.card_of(request)

    def gid(self, card_id: str) -> str:
        return str(self.world.row(card_id)[GiftCards.SHOPIFY_GIFT_CARD_ID])

    def number(self, card_id: str) -> int:
        return int(self.gid(card_id).rsplit("/", 1)[-1])

    def audit_receipts(self) -> dict[str, dict[str, Any]]:
        return {
            ref: r
            for ref, r in self.world.receipts().items()
            if ref.startswith(("drift:", "card-txn:"))
        }

    def quiet_again(self) -> None:
        """A second incremental run and a full pass repeat nothing."""
        before = self.audit_receipts()
        rows = self.world.online.rows(GiftCards.TABLE)
        assert self.run().processed == 0
        assert self.run(full=True).processed == 0
        assert self.audit_receipts() == before
        assert self.world.online.rows(GiftCards.TABLE) == rows


@pytest.fixture
def au() -> Iterator[Audited]:
    with store_online() as world:
        audited = Audited(world)
        yield audited


def settled(au: Audited) -> str:
    card = au.issue()
    report = au.run()
    assert report.processed == 0 and not report.errors, report
    assert au.progress.tally.full_passes_finished == 1
    return card


def test_balance_changed_in_shopify_admin(au: Audited) -> None:
    card = settled(au)
    txn = au.world.online.shop.adjust_card(au.number(card), "-12.50", note="damaged card")

    report = au.run()

    assert report.outcomes[DriftClass.BALANCE.value] == 1
    au.world.assert_mirrored(card, "37.50")
    receipts = au.audit_receipts()
    adjusted = receipts[f"card-txn:{txn.number}:adjusted"]
    assert dec(adjusted[Receipts.AMOUNT]) == Decimal("-12.50")
    assert dec(adjusted[Receipts.BALANCE_AFTER]) == Decimal("37.50")
    detected = [r for r in receipts.values() if r[Receipts.ACTION] == "Drift Detected"]
    assert len(detected) == 1
    assert detected[0][Receipts.DETAILS] == "balance: Airtable 50.00 USD, Shopify 37.50 USD"
    assert detected[0][Receipts.SOURCE] == "Shopify"
    au.quiet_again()


def test_expiry_changed_in_shopify(au: Audited) -> None:
    card = settled(au)
    au.world.online.shop.set_card_expiry(au.number(card), date(2031, 3, 31))
    au.run()
    assert au.world.row(card)[GiftCards.EXPIRES_ON] == "2031-03-31"
    assert {r.split(":")[2] for r in au.audit_receipts()} == {"expiry"}
    au.quiet_again()


def test_card_disabled_in_shopify(au: Audited) -> None:
    card = settled(au)
    au.world.online.shop.deactivate_card(au.number(card))
    au.run()
    row = au.world.row(card)
    assert row[GiftCards.STATUS] == CardStatus.VOIDED.value
    assert "deactivated in Shopify" in row[GiftCards.VOID_REASON]
    au.quiet_again()


@pytest.mark.parametrize(
    ("amount", "action", "after"),
    [("-20.00", "redeemed-online", "30.00"), ("5.00", "refunded-online", "55.00")],
)
def test_pos_debit_or_credit_no_receipt_accounts_for(
    au: Audited, amount: str, action: str, after: str
) -> None:
    card = settled(au)
    txn = au.world.online.shop.adjust_card(au.number(card), amount)  # no note: a Shopify POS
    au.run()
    receipt = au.audit_receipts()[f"card-txn:{txn.number}:{action}"]
    assert dec(receipt[Receipts.AMOUNT]) == abs(Decimal(amount))
    assert receipt[Receipts.SHOPIFY_REFERENCE].endswith(f"/{txn.number}")
    au.world.assert_mirrored(card, after)
    au.quiet_again()


def test_checkout_redemption_recorded_by_the_online_prong_is_not_drift(au: Audited) -> None:
    card = settled(au)
    code = au.world.code_for("holder@example.com")
    au.world.online.shop.checkout_with_gift_cards([code])
    au.world.online.redemptions()
    assert any(
        r[Receipts.ACTION] == ReceiptAction.REDEEMED_ONLINE.value
        for r in au.world.receipts().values()
    )
    assert au.run().processed == 0
    assert not au.audit_receipts()
    assert au.world.row(card)[GiftCards.BALANCE] is not None


def test_deleted_gift_cards_row_of_our_card_is_restored_not_reissued(au: Audited) -> None:
    card = settled(au)
    row = au.world.row(card)
    cards_in_shopify = len(au.world.online.shop.data.cards)
    au.world.online.base.delete(GiftCards.TABLE, card)

    report = au.run(full=True)

    assert report.outcomes[DriftClass.MISSING_ROW.value] == 1
    rows = [
        r
        for r in au.world.online.rows(GiftCards.TABLE)
        if r.get(GiftCards.ORIGIN_KEY) == row[GiftCards.ORIGIN_KEY]
    ]
    assert len(rows) == 1
    (restored,) = rows
    assert restored[GiftCards.SHOPIFY_GIFT_CARD_ID] == row[GiftCards.SHOPIFY_GIFT_CARD_ID]
    assert restored[GiftCards.MASKED_CODE] == row[GiftCards.MASKED_CODE]
    assert dec(restored[GiftCards.BALANCE]) == Decimal("50.00")
    assert restored[GiftCards.STATUS] == CardStatus.ACTIVE.value
    assert len(au.world.online.shop.data.cards) == cards_in_shopify
    kinds = {ref.split(":")[1:3][1] for ref in au.audit_receipts()}
    assert kinds == {"row"}
    au.quiet_again()
    assert len(au.world.online.shop.data.cards) == cards_in_shopify


def test_shopify_card_gone_is_alerted_and_nothing_changed(au: Audited) -> None:
    card = settled(au)
    row = au.world.row(card)
    au.world.online.shop.remove_card(au.number(card))

    report = au.run(full=True)

    def own(fields: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in fields.items() if k != "Receipts"}  # Airtable's reciprocal link

    assert own(au.world.row(card)) == own(row)
    assert list(au.audit_receipts()) == [f"drift:{card}:card:gone:detected"]
    alerts = au.world.online.klaviyo.events_for(Metric.ALERT.value, OPERATOR)
    assert len(alerts) == 1 and alerts[0].properties["subject"] == card
    assert au.progress.tally.needs_person
    assert report.outcomes

    au.run(full=True)
    assert list(au.audit_receipts()) == [f"drift:{card}:card:gone:detected"]
    assert len(au.world.online.klaviyo.events_for(Metric.ALERT.value, OPERATOR)) == 1
