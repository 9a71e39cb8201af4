"""Findings of an independent review of the Shopify prongs, each pinned by a test.

Every test here failed before its fix: see the docstrings for what went wrong.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from cards.vocab import CardStatus, OrderKind, OrderOutcome
from config.layout import GiftCards, ShopifyOrders
from prongs.report import Budget, OpenGate
from prongs.shopify_purchases import run_once
from tests.fakes import World
from tests.prongs_shopify.conftest import (
    SKU,
    TAG_P,
    card_rows,
    order_rows,
    purchases_config,
    purchases_deps,
    run_purchases,
    until_quiet,
    usd,
)


def test_a_refunded_order_whose_native_cards_were_never_issued_is_recorded_skipped(
    world: World,
) -> None:
    """An order for a native gift card refunded before fulfilment never gets its card from
    Shopify. The prong waited for that card on every run ("Awaiting Shopify's cards") for the
    whole order window, and never recorded the order Skipped as a dead order should be."""
    line = world.shopify.line_item(usd("30.00"), is_gift_card=True)
    order = world.shopify.place_order(line, financial_status="REFUNDED")

    until_quiet(lambda: run_purchases(world))

    rows = order_rows(world, order.id)
    assert rows[OrderKind.PURCHASE][ShopifyOrders.OUTCOME] == OrderOutcome.SKIPPED
    assert TAG_P in world.shopify.orders[order.id].tags
    assert card_rows(world) == []


def test_an_order_refunded_after_some_units_were_issued_needs_attention(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run cut short between units leaves cards issued (and emailed) for the order. If the
    order is refunded before the next run, it was recorded Skipped with no cards linked: live,
    paid-for value nobody is told about. It must be Needs Attention, linking those cards."""
    line = world.shopify.line_item(usd("25.00"), sku=SKU, quantity=3)
    order = world.shopify.place_order(line)
    real_create = world.shopify.create_card

    def slow_create(*args: Any) -> Any:
        world.clock.advance(3)  # each card takes 3 s of the 5 s budget
        return real_create(*args)

    monkeypatch.setattr(world.shopify, "create_card", slow_create)
    first = run_once(purchases_deps(world), purchases_config(), Budget(world.clock, 5), OpenGate())
    monkeypatch.undo()
    assert first.budget_exhausted
    issued = [r["id"] for r in card_rows(world) if r[GiftCards.STATUS] == CardStatus.ACTIVE]
    assert issued
    world.shopify.orders[order.id] = replace(order, financial_status="REFUNDED")

    until_quiet(lambda: run_purchases(world))

    row = order_rows(world, order.id)[OrderKind.PURCHASE]
    assert row[ShopifyOrders.OUTCOME] == OrderOutcome.NEEDS_ATTENTION
    assert set(row[ShopifyOrders.GIFT_CARDS]) == set(issued)
    assert len(card_rows(world)) == len(issued)  # nothing more issued for a dead order
    assert TAG_P in world.shopify.orders[order.id].tags
