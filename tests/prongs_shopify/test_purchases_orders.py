"""The Shopify purchases prong: native cards, orders as a whole, both prongs on one order."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from cards.keys import ActionKey
from cards.vocab import (
    CardSource,
    CardStatus,
    OrderKind,
    OrderOutcome,
    ReceiptAction,
)
from config.layout import GiftCards, ShopifyOrders
from tests.fakes import World
from tests.prongs_shopify.conftest import (
    SKU,
    TAG_P,
    TAG_R,
    card_rows,
    known_card,
    order_rows,
    receipts_by_reference,
    run_purchases,
    run_redemptions,
    until_quiet,
    usd,
)


def test_native_cards_are_recorded_only_once_shopify_has_issued_all_of_them(
    world: World,
) -> None:
    line = world.shopify.line_item(usd("30.00"), is_gift_card=True, quantity=2)
    order = world.shopify.place_order(line)
    world.shopify.issue_native("NATIVEAAAA1234", usd("30.00"), order_id=order.id)
    writes = len(world.airtable.writes)

    report = run_purchases(world)

    assert report.outcomes["Awaiting Shopify's cards"] == 1 and not report.found_work
    assert len(world.airtable.writes) == writes
    assert world.shopify.orders[order.id].tags == frozenset()

    second = world.shopify.issue_native("NATIVEBBBB5678", usd("30.00"), order_id=order.id)
    until_quiet(lambda: run_purchases(world))

    rows = {r[GiftCards.SHOPIFY_GIFT_CARD_ID]: r for r in card_rows(world)}
    assert len(rows) == 2
    row = rows[second.id]
    assert row[GiftCards.ORIGIN_KEY] == str(ActionKey.native(second.id))
    assert row[GiftCards.SOURCE] == CardSource.ONLINE
    assert row[GiftCards.MASKED_CODE] == "\u2022" * 8 + "5678"
    assert row[GiftCards.LAST_CHARACTERS] == "5678"
    assert row[GiftCards.BALANCE] == usd("30.00")
    assert row[GiftCards.INITIAL_VALUE] == usd("30.00")
    assert row[GiftCards.STATUS] == CardStatus.ACTIVE
    assert row[GiftCards.SHOPIFY_ORDER] == order.name
    assert GiftCards.CODE_DIGEST not in row and GiftCards.CODE_SEALED not in row
    assert world.email.events == []
    assert world.injector.count("shopify.create_card") == 0
    assert order_rows(world, order.id)[OrderKind.PURCHASE][ShopifyOrders.OUTCOME] == (
        OrderOutcome.PROCESSED
    )
    assert TAG_P in world.shopify.orders[order.id].tags


def test_a_native_card_already_imported_at_a_till_is_linked_not_duplicated(world: World) -> None:
    line = world.shopify.line_item(usd("30.00"), is_gift_card=True)
    order = world.shopify.place_order(line)
    card = world.shopify.issue_native("NATIVEAAAA1234", usd("30.00"), order_id=order.id)
    imported = world.airtable.insert(
        GiftCards.TABLE,
        {
            GiftCards.SHOPIFY_GIFT_CARD_ID: card.id,
            GiftCards.ORIGIN_KEY: str(ActionKey.native(card.id)),
            GiftCards.SOURCE: CardSource.IMPORTED,
            GiftCards.STATUS: CardStatus.ACTIVE,
        },
    )

    run_purchases(world)

    assert [r["id"] for r in card_rows(world)] == [imported]
    assert order_rows(world, order.id)[OrderKind.PURCHASE][ShopifyOrders.GIFT_CARDS] == (imported,)


def test_a_native_line_with_a_configured_sku_is_never_issued_a_second_card(world: World) -> None:
    line = world.shopify.line_item(usd("30.00"), sku=SKU, is_gift_card=True)
    order = world.shopify.place_order(line)
    world.shopify.issue_native("NATIVEAAAA1234", usd("30.00"), order_id=order.id)

    run_purchases(world)

    assert world.injector.count("shopify.create_card") == 0
    assert [r[GiftCards.SOURCE] for r in card_rows(world)] == [CardSource.ONLINE]


def test_an_order_with_both_kinds_records_every_card_on_one_purchase_row(world: World) -> None:
    sku_line = world.shopify.line_item(usd("50.00"), sku=SKU)
    native = world.shopify.line_item(usd("10.00"), is_gift_card=True)
    shirt = world.shopify.line_item(usd("19.00"), sku="SHIRT")
    order = world.shopify.place_order(sku_line, native, shirt)
    world.shopify.issue_native("NATIVEAAAA1234", usd("10.00"), order_id=order.id)

    run_purchases(world)

    linked = order_rows(world, order.id)[OrderKind.PURCHASE][ShopifyOrders.GIFT_CARDS]
    assert sorted(linked) == sorted(r["id"] for r in card_rows(world))
    assert len(linked) == 2


def test_an_order_without_gift_cards_is_tagged_without_a_row(world: World) -> None:
    order = world.shopify.place_order(world.shopify.line_item(usd("19.00"), sku="SHIRT"))

    run_purchases(world)

    assert TAG_P in world.shopify.orders[order.id].tags
    assert order_rows(world, order.id) == {}


def test_an_unpaid_order_waits_and_is_issued_once_paid(world: World) -> None:
    order = world.shopify.place_order(
        world.shopify.line_item(usd("20.00"), sku=SKU), financial_status="PENDING"
    )
    report = run_purchases(world)
    assert report.outcomes["Awaiting payment"] == 1 and card_rows(world) == []
    assert world.shopify.orders[order.id].tags == frozenset()

    world.shopify.orders[order.id] = replace(
        world.shopify.orders[order.id], financial_status="PAID"
    )
    run_purchases(world)
    assert len(card_rows(world)) == 1


def test_a_refunded_order_is_recorded_skipped_and_issues_nothing(world: World) -> None:
    order = world.shopify.place_order(
        world.shopify.line_item(usd("20.00"), sku=SKU), financial_status="REFUNDED"
    )

    run_purchases(world)

    assert card_rows(world) == []
    assert order_rows(world, order.id)[OrderKind.PURCHASE][ShopifyOrders.OUTCOME] == (
        OrderOutcome.SKIPPED
    )


def test_an_order_in_another_currency_needs_attention_and_issues_nothing(world: World) -> None:
    order = world.shopify.place_order(
        world.shopify.line_item(usd("20.00"), sku=SKU), currency="EUR"
    )

    run_purchases(world)

    assert card_rows(world) == [] and world.email.events == []
    assert order_rows(world, order.id)[OrderKind.PURCHASE][ShopifyOrders.OUTCOME] == (
        OrderOutcome.NEEDS_ATTENTION
    )
    assert TAG_P in world.shopify.orders[order.id].tags


def test_an_order_older_than_the_window_is_not_touched(world: World) -> None:
    old = world.clock.now() - timedelta(days=61)
    order = world.shopify.place_order(
        world.shopify.line_item(usd("20.00"), sku=SKU), created_at=old
    )

    report = run_purchases(world)

    assert not report.found_work and card_rows(world) == []
    assert world.shopify.orders[order.id].tags == frozenset()


def test_an_order_already_recorded_is_only_tagged(world: World) -> None:
    order = world.shopify.place_order(world.shopify.line_item(usd("20.00"), sku=SKU))
    world.airtable.insert(
        ShopifyOrders.TABLE,
        {
            ShopifyOrders.ORDER_ID: order.id,
            ShopifyOrders.ORDER_NAME: order.name,
            ShopifyOrders.KIND: OrderKind.PURCHASE,
            ShopifyOrders.OUTCOME: OrderOutcome.PROCESSED,
        },
    )

    report = run_purchases(world)

    assert report.outcomes["Tagged"] == 1
    assert card_rows(world) == [] and world.email.events == []
    assert TAG_P in world.shopify.orders[order.id].tags


def test_a_card_bought_with_a_card_is_handled_by_both_prongs_each_with_its_tag(
    world: World,
) -> None:
    wallet = known_card(world, "AAAA2222BBBB", "30.00")
    line = world.shopify.line_item(usd("50.00"), sku=SKU)
    order = world.shopify.place_order(line)
    txn = world.shopify.pay_with_card(order.id, wallet.gid, usd("30.00"))
    world.shopify.pay_other(order.id, usd("20.00"))

    run_purchases(world)
    assert world.shopify.orders[order.id].tags == frozenset({TAG_P})
    run_redemptions(world)

    assert world.shopify.orders[order.id].tags == frozenset({TAG_P, TAG_R})
    rows = order_rows(world, order.id)
    assert set(rows) == {OrderKind.PURCHASE, OrderKind.REDEMPTION}
    issued = [r for r in card_rows(world) if r[GiftCards.SOURCE] == CardSource.ONLINE]
    assert rows[OrderKind.PURCHASE][ShopifyOrders.GIFT_CARDS] == (issued[0]["id"],)
    assert rows[OrderKind.REDEMPTION][ShopifyOrders.GIFT_CARDS] == (wallet.row_id,)
    reference = ActionKey.shopify_txn(txn.id).reference(ReceiptAction.REDEEMED_ONLINE)
    assert reference in receipts_by_reference(world)
