"""The Shopify purchases prong: gift-card SKUs giftbridge issues, native cards it records."""

from __future__ import annotations

from typing import Any

import pytest

from cards.codes import unseal
from cards.keys import ActionKey, key_from_note
from cards.vocab import (
    Audience,
    CardSource,
    CardStatus,
    Metric,
    OrderKind,
    OrderOutcome,
    ReceiptAction,
    ReceiptSource,
    Theme,
)
from config.layout import GiftCards, Receipts, ShopifyOrders
from prongs.report import Budget, OpenGate
from prongs.shopify_purchases import run_once
from tests.fakes import World
from tests.prongs_shopify.conftest import (
    CODE_KEY,
    SKU,
    TAG_P,
    card_rows,
    order_rows,
    purchases_config,
    purchases_deps,
    receipts_by_reference,
    run_purchases,
    until_quiet,
    usd,
)


def our_shopify_cards(world: World) -> list[str]:
    """Notes of the cards giftbridge created in Shopify."""
    return [str(c.card.note) for c in world.shopify.cards.values() if key_from_note(c.card.note)]


def test_a_gift_sku_is_issued_to_the_named_recipient_and_the_buyer_is_told(world: World) -> None:
    line = world.shopify.line_item(
        usd("50.00"),
        sku=SKU,
        attributes={
            " recipient EMAIL ": "rita@example.com",
            "Recipient_Name": "Rita",
            "MESSAGE": "Happy birthday",
            "_theme": "birthday",
        },
    )
    order = world.shopify.place_order(line)

    report = run_purchases(world)

    key = ActionKey.order_unit(order.id, line.id, 1)
    assert our_shopify_cards(world) == [key.note]
    (row,) = card_rows(world)
    assert row[GiftCards.ORIGIN_KEY] == str(key)
    assert row[GiftCards.SOURCE] == CardSource.ONLINE
    assert row[GiftCards.STATUS] == CardStatus.ACTIVE
    assert row[GiftCards.SHOPIFY_ORDER] == order.name
    assert row[GiftCards.BALANCE] == usd("50.00")
    assert row[GiftCards.RECIPIENT_EMAIL] == "rita@example.com"
    assert row[GiftCards.RECIPIENT_NAME] == "Rita"
    assert row[GiftCards.PURCHASER_EMAIL] == "buyer@example.com"
    assert row[GiftCards.MESSAGE] == "Happy birthday"
    assert row[GiftCards.THEME] == Theme.BIRTHDAY
    issued = world.email.by_unique_id(key.unique_id(Audience.RECIPIENT))
    assert [(e.metric, e.email) for e in issued] == [(Metric.ISSUED, "rita@example.com")]
    code = unseal(row[GiftCards.CODE_SEALED], CODE_KEY)
    assert issued[0].properties["code"] == code.reveal()
    confirmation = world.email.by_unique_id(key.unique_id(Audience.PURCHASER))
    assert [(e.metric, e.email) for e in confirmation] == [
        (Metric.PURCHASE_CONFIRMATION, "buyer@example.com")
    ]
    assert "code" not in confirmation[0].properties
    receipts = receipts_by_reference(world)
    assert set(receipts) == {
        key.reference(ReceiptAction.CREATED),
        key.reference(ReceiptAction.PURCHASED_ONLINE),
        key.reference(ReceiptAction.SENT, Audience.RECIPIENT),
        key.reference(ReceiptAction.SENT, Audience.PURCHASER),
    }
    purchased = receipts[key.reference(ReceiptAction.PURCHASED_ONLINE)]
    assert purchased[Receipts.SOURCE] == ReceiptSource.ONLINE
    assert purchased[Receipts.AMOUNT] == usd("50.00")
    rows = order_rows(world, order.id)
    assert rows[OrderKind.PURCHASE][ShopifyOrders.OUTCOME] == OrderOutcome.PROCESSED
    assert rows[OrderKind.PURCHASE][ShopifyOrders.GIFT_CARDS] == (row["id"],)
    assert TAG_P in world.shopify.orders[order.id].tags
    assert report.outcomes["Card issued"] == 1 and report.outcomes["Processed"] == 1


def test_every_unit_of_a_sku_line_is_its_own_card(world: World) -> None:
    line = world.shopify.line_item(usd("25.00"), sku=SKU, quantity=3)
    order = world.shopify.place_order(line)

    until_quiet(lambda: run_purchases(world))

    keys = {str(ActionKey.order_unit(order.id, line.id, unit)) for unit in (1, 2, 3)}
    assert {r[GiftCards.ORIGIN_KEY] for r in card_rows(world)} == keys
    assert len({r[GiftCards.CODE_DIGEST] for r in card_rows(world)}) == 3
    assert len(our_shopify_cards(world)) == 3
    assert len(order_rows(world, order.id)[OrderKind.PURCHASE][ShopifyOrders.GIFT_CARDS]) == 3


def test_a_line_without_a_recipient_goes_to_the_customer_with_no_confirmation(
    world: World,
) -> None:
    line = world.shopify.line_item(usd("20.00"), sku=SKU)
    order = world.shopify.place_order(line, customer_email="self@example.com")

    run_purchases(world)

    key = ActionKey.order_unit(order.id, line.id, 1)
    assert [e.email for e in world.email.events] == ["self@example.com"]
    assert world.email.events[0].unique_id == key.unique_id(Audience.RECIPIENT)
    (row,) = card_rows(world)
    assert row[GiftCards.RECIPIENT_EMAIL] == "self@example.com"  # the holder, for later emails


def test_a_recipient_who_is_the_buyer_is_not_a_gift(world: World) -> None:
    line = world.shopify.line_item(
        usd("20.00"), sku=SKU, attributes={"Recipient email": "BUYER@example.com"}
    )
    world.shopify.place_order(line)

    run_purchases(world)

    assert [e.metric for e in world.email.events] == [Metric.ISSUED]


def test_a_malformed_recipient_email_sends_the_card_to_the_buyer_and_needs_attention(
    world: World,
) -> None:
    line = world.shopify.line_item(
        usd("20.00"), sku=SKU, attributes={"Recipient email": "not-an-address"}
    )
    order = world.shopify.place_order(line)

    run_purchases(world)

    assert [(e.metric, e.email) for e in world.email.events] == [
        (Metric.ISSUED, "buyer@example.com")
    ]
    row = order_rows(world, order.id)[OrderKind.PURCHASE]
    assert row[ShopifyOrders.OUTCOME] == OrderOutcome.NEEDS_ATTENTION
    assert TAG_P in world.shopify.orders[order.id].tags


def test_no_email_anywhere_still_issues_the_paid_card_and_needs_attention(world: World) -> None:
    line = world.shopify.line_item(usd("20.00"), sku=SKU)
    order = world.shopify.place_order(line, customer_email=None)

    run_purchases(world)

    assert len(card_rows(world)) == 1 and world.email.events == []
    assert order_rows(world, order.id)[OrderKind.PURCHASE][ShopifyOrders.OUTCOME] == (
        OrderOutcome.NEEDS_ATTENTION
    )


def test_a_sku_priced_outside_the_limits_is_not_issued(world: World) -> None:
    order = world.shopify.place_order(world.shopify.line_item(usd("2000.00"), sku=SKU))

    run_purchases(world)

    assert card_rows(world) == []
    assert order_rows(world, order.id)[OrderKind.PURCHASE][ShopifyOrders.OUTCOME] == (
        OrderOutcome.NEEDS_ATTENTION
    )


def test_a_budget_spent_between_units_resumes_without_a_second_card(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    line = world.shopify.line_item(usd("25.00"), sku=SKU, quantity=3)
    order = world.shopify.place_order(line)
    budget = Budget(world.clock, 5)
    deps, config = purchases_deps(world), purchases_config()
    real_issue = world.shopify.create_card

    def slow_create(*args: Any) -> Any:
        world.clock.advance(3)  # each card takes 3 s of the 5 s budget
        return real_issue(*args)

    monkeypatch.setattr(world.shopify, "create_card", slow_create)
    first = run_once(deps, config, budget, OpenGate())

    assert first.budget_exhausted
    assert 1 <= len(card_rows(world)) < 3
    assert world.shopify.orders[order.id].tags == frozenset()
    assert order_rows(world, order.id) == {}
    until_quiet(lambda: run_purchases(world))
    assert len(card_rows(world)) == 3 and len(our_shopify_cards(world)) == 3
    assert TAG_P in world.shopify.orders[order.id].tags


def test_a_busy_run_handles_at_most_its_share_of_orders(world: World) -> None:
    for _ in range(5):
        world.shopify.place_order(world.shopify.line_item(usd("20.00"), sku=SKU))

    report = run_purchases(world, purchases_config(max_orders_per_run=2))

    assert report.processed == 2 and len(card_rows(world)) == 2
    until_quiet(lambda: run_purchases(world, purchases_config(max_orders_per_run=2)))
    assert len(card_rows(world)) == 5
