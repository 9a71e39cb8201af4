"""The Shopify redemptions prong: gift cards spent and refunded at Shopify's checkout."""

from __future__ import annotations

from cards.keys import ActionKey
from cards.vocab import CardStatus, OrderKind, OrderOutcome, ReceiptAction, ReceiptSource
from config.layout import GiftCards, Receipts, ShopifyOrders
from prongs.report import OpenGate
from tests.fakes import World
from tests.prongs_shopify.conftest import (
    TAG_R,
    card_row,
    known_card,
    order_rows,
    receipts_by_reference,
    redemptions_process,
    run_redemptions,
    unknown_card,
    until_quiet,
    usd,
)


def test_a_known_card_spent_online_gets_a_receipt_a_fresh_balance_and_the_order_is_tagged(
    world: World,
) -> None:
    card = known_card(world, "AAAA2222BBBB", "50.00")
    order = world.shopify.place_order(world.shopify.line_item(usd("30.00")))
    txn = world.shopify.pay_with_card(order.id, card.gid, usd("30.00"))

    report = run_redemptions(world)

    reference = f"shopify-txn:{txn.id.rsplit('/', 1)[1]}:redeemed-online"
    assert reference == ActionKey.shopify_txn(txn.id).reference(ReceiptAction.REDEEMED_ONLINE)
    receipt = receipts_by_reference(world)[reference]
    assert receipt[Receipts.ACTION] == ReceiptAction.REDEEMED_ONLINE
    assert receipt[Receipts.AMOUNT] == usd("30.00")
    assert receipt[Receipts.BALANCE_AFTER] == usd("20.00")
    assert receipt[Receipts.SOURCE] == ReceiptSource.ONLINE
    assert receipt[Receipts.GIFT_CARD] == (card.row_id,)
    assert receipt[Receipts.SHOPIFY_REFERENCE] == txn.id
    row = card_row(world, card.row_id)
    assert row[GiftCards.BALANCE] == usd("20.00")
    assert row[GiftCards.STATUS] == CardStatus.ACTIVE
    assert row[GiftCards.LAST_SYNCED_AT] == world.clock.now()
    assert row[GiftCards.LAST_ACTIVITY_AT] == txn.processed_at
    rows = order_rows(world, order.id)
    assert set(rows) == {OrderKind.REDEMPTION}
    assert rows[OrderKind.REDEMPTION][ShopifyOrders.OUTCOME] == OrderOutcome.PROCESSED
    assert rows[OrderKind.REDEMPTION][ShopifyOrders.GIFT_CARDS] == (card.row_id,)
    assert rows[OrderKind.REDEMPTION][ShopifyOrders.ORDER_NAME] == order.name
    assert TAG_R in world.shopify.orders[order.id].tags
    assert report.outcomes[ReceiptAction.REDEEMED_ONLINE.value] == 1
    assert report.processed == 1 and not report.errors


def test_an_order_paid_only_with_unknown_cards_is_skipped_and_tagged(world: World) -> None:
    stranger = unknown_card(world, "ZZZZ9999YYYY", "40.00")
    order = world.shopify.place_order(world.shopify.line_item(usd("10.00")))
    world.shopify.pay_with_card(order.id, stranger.id, usd("10.00"))

    report = run_redemptions(world)

    rows = order_rows(world, order.id)
    assert rows[OrderKind.REDEMPTION][ShopifyOrders.OUTCOME] == OrderOutcome.SKIPPED
    assert ShopifyOrders.GIFT_CARDS not in rows[OrderKind.REDEMPTION]
    assert TAG_R in world.shopify.orders[order.id].tags
    assert world.airtable.receipts() == []
    assert world.airtable.rows(GiftCards.TABLE) == []  # no row invented for the stranger
    assert report.outcomes["Skipped"] == 1


def test_several_cards_on_one_order_each_get_their_receipt_and_only_known_ones_count(
    world: World,
) -> None:
    first = known_card(world, "AAAA2222BBBB", "20.00")
    second = known_card(world, "CCCC3333DDDD", "25.00")
    stranger = unknown_card(world, "ZZZZ9999YYYY", "40.00")
    order = world.shopify.place_order(world.shopify.line_item(usd("70.00")))
    t1 = world.shopify.pay_with_card(order.id, first.gid, usd("20.00"))
    t2 = world.shopify.pay_with_card(order.id, second.gid, usd("5.00"))
    world.shopify.pay_with_card(order.id, stranger.id, usd("40.00"))
    world.shopify.pay_other(order.id, usd("5.00"))

    run_redemptions(world)

    receipts = receipts_by_reference(world)
    assert set(receipts) == {
        ActionKey.shopify_txn(t.id).reference(ReceiptAction.REDEEMED_ONLINE) for t in (t1, t2)
    }
    assert card_row(world, first.row_id)[GiftCards.BALANCE] == usd("0.00")
    assert card_row(world, first.row_id)[GiftCards.STATUS] == CardStatus.REDEEMED
    assert card_row(world, second.row_id)[GiftCards.BALANCE] == usd("20.00")
    row = order_rows(world, order.id)[OrderKind.REDEMPTION]
    assert row[ShopifyOrders.OUTCOME] == OrderOutcome.PROCESSED
    assert set(row[ShopifyOrders.GIFT_CARDS]) == {first.row_id, second.row_id}


def test_a_partial_payment_records_only_the_cards_part(world: World) -> None:
    card = known_card(world, "AAAA2222BBBB", "15.00")
    order = world.shopify.place_order(world.shopify.line_item(usd("100.00")))
    world.shopify.pay_with_card(order.id, card.gid, usd("15.00"))
    world.shopify.pay_other(order.id, usd("85.00"))

    run_redemptions(world)

    (receipt,) = world.airtable.receipts()
    assert receipt[Receipts.AMOUNT] == usd("15.00")
    assert card_row(world, card.row_id)[GiftCards.STATUS] == CardStatus.REDEEMED


def test_failed_and_authorization_only_transactions_are_not_redemptions(world: World) -> None:
    card = known_card(world, "AAAA2222BBBB", "15.00")
    order = world.shopify.place_order(world.shopify.line_item(usd("10.00")))
    world.shopify.pay_with_card(order.id, card.gid, usd("10.00"), status="FAILURE")
    world.shopify.pay_with_card(
        order.id, card.gid, usd("10.00"), kind="AUTHORIZATION", status="PENDING"
    )

    run_redemptions(world)

    assert world.airtable.receipts() == []
    assert order_rows(world, order.id)[OrderKind.REDEMPTION][ShopifyOrders.OUTCOME] == (
        OrderOutcome.SKIPPED
    )
    assert card_row(world, card.row_id)[GiftCards.BALANCE] == usd("15.00")


def test_a_refund_already_on_the_order_is_refunded_online_and_makes_the_card_active_again(
    world: World,
) -> None:
    card = known_card(world, "AAAA2222BBBB", "30.00")
    order = world.shopify.place_order(world.shopify.line_item(usd("30.00")))
    world.shopify.pay_with_card(order.id, card.gid, usd("30.00"))
    refund = world.shopify.refund_to_card(order.id, card.gid, usd("12.00"))

    run_redemptions(world)

    receipt = receipts_by_reference(world)[
        ActionKey.shopify_txn(refund.id).reference(ReceiptAction.REFUNDED_ONLINE)
    ]
    assert receipt[Receipts.ACTION] == ReceiptAction.REFUNDED_ONLINE
    assert receipt[Receipts.AMOUNT] == usd("12.00")
    rows = order_rows(world, order.id)
    assert rows[OrderKind.REFUND][ShopifyOrders.OUTCOME] == OrderOutcome.PROCESSED
    assert rows[OrderKind.REFUND][ShopifyOrders.GIFT_CARDS] == (card.row_id,)
    assert card_row(world, card.row_id)[GiftCards.BALANCE] == usd("12.00")
    assert card_row(world, card.row_id)[GiftCards.STATUS] == CardStatus.ACTIVE


def test_a_refund_days_after_the_tag_is_found_once_and_reactivates_a_redeemed_card(
    world: World,
) -> None:
    card = known_card(world, "AAAA2222BBBB", "30.00")
    order = world.shopify.place_order(world.shopify.line_item(usd("30.00")))
    world.shopify.pay_with_card(order.id, card.gid, usd("30.00"))
    deps = redemptions_process(world)
    until_quiet(lambda: run_redemptions(world, deps))
    assert card_row(world, card.row_id)[GiftCards.STATUS] == CardStatus.REDEEMED
    assert TAG_R in world.shopify.orders[order.id].tags

    world.clock.advance(3 * 86400)
    until_quiet(lambda: run_redemptions(world, deps))  # quiet days move the sweep's mark on
    refund = world.shopify.refund_to_card(order.id, card.gid, usd("30.00"))
    world.clock.advance(60)
    reports = until_quiet(lambda: run_redemptions(world, deps))

    reference = ActionKey.shopify_txn(refund.id).reference(ReceiptAction.REFUNDED_ONLINE)
    assert reference in receipts_by_reference(world)
    assert len(world.airtable.receipts()) == 2
    assert sum(r.outcomes[ReceiptAction.REFUNDED_ONLINE.value] for r in reports) == 1
    assert card_row(world, card.row_id)[GiftCards.BALANCE] == usd("30.00")
    assert card_row(world, card.row_id)[GiftCards.STATUS] == CardStatus.ACTIVE
    assert order_rows(world, order.id)[OrderKind.REFUND][ShopifyOrders.OUTCOME] == (
        OrderOutcome.PROCESSED
    )
    # A restarted process sweeps the whole window again and counts nothing twice.
    until_quiet(lambda: run_redemptions(world))
    assert len(world.airtable.receipts()) == 2


def test_an_idle_run_makes_no_airtable_call_and_does_not_claim_the_lease(world: World) -> None:
    card = known_card(world, "AAAA2222BBBB", "30.00")
    order = world.shopify.place_order(world.shopify.line_item(usd("30.00")))
    world.shopify.pay_with_card(order.id, card.gid, usd("30.00"))
    deps = redemptions_process(world)
    until_quiet(lambda: run_redemptions(world, deps))
    world.clock.advance(3600)  # past the overlap: the tagged order is no longer "recent"
    until_quiet(lambda: run_redemptions(world, deps))

    before = len(world.injector.calls)
    gate = OpenGate()
    report = run_redemptions(world, deps, gate=gate)

    calls = world.injector.calls[before:]
    assert not any(c.startswith("airtable.") for c in calls), calls
    assert gate.claims == 0
    assert not report.found_work


def test_the_refund_sweep_remembers_settled_references_between_runs(world: World) -> None:
    card = known_card(world, "AAAA2222BBBB", "30.00")
    order = world.shopify.place_order(world.shopify.line_item(usd("30.00")))
    world.shopify.pay_with_card(order.id, card.gid, usd("30.00"))
    deps = redemptions_process(world)
    until_quiet(lambda: run_redemptions(world, deps))
    before = len(world.injector.calls)

    run_redemptions(world, deps)  # the order is still recent, but already settled

    assert world.injector.calls[before:] == ["shopify.search_orders", "shopify.search_orders"]
