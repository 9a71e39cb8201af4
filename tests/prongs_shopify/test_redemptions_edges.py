"""The Shopify redemptions prong: edges (currency, deactivated cards, window, gate, budget)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from cards.keys import ActionKey
from cards.vocab import CardStatus, OrderKind, OrderOutcome, ReceiptAction
from config.layout import GiftCards, Receipts, ShopifyOrders
from prongs.report import Budget, OpenGate
from tests.fakes import World
from tests.prongs_shopify.conftest import (
    TAG_R,
    card_row,
    known_card,
    order_rows,
    receipts_by_reference,
    redemptions_config,
    redemptions_process,
    run_redemptions,
    until_quiet,
    usd,
)


def test_an_order_recorded_but_not_tagged_is_only_tagged_by_the_tag_pass(world: World) -> None:
    # The search index lags: the tag was added (or a crash came between record and tag) but
    # the order still shows as untagged. Its Shopify Orders row says it was handled.
    card = known_card(world, "AAAA2222BBBB", "30.00")
    order = world.shopify.place_order(world.shopify.line_item(usd("30.00")))
    world.shopify.pay_with_card(order.id, card.gid, usd("30.00"))
    world.airtable.insert(
        ShopifyOrders.TABLE,
        {
            ShopifyOrders.ORDER_ID: order.id,
            ShopifyOrders.ORDER_NAME: order.name,
            ShopifyOrders.KIND: OrderKind.REDEMPTION,
            ShopifyOrders.OUTCOME: OrderOutcome.SKIPPED,
        },
    )

    report = run_redemptions(world)

    assert TAG_R in world.shopify.orders[order.id].tags
    assert report.outcomes["Tagged"] == 1
    row = order_rows(world, order.id)[OrderKind.REDEMPTION]
    assert row[ShopifyOrders.OUTCOME] == OrderOutcome.SKIPPED  # not re-recorded
    assert ShopifyOrders.PROCESSED_AT not in row


def test_an_order_in_another_currency_needs_attention_and_writes_no_money(world: World) -> None:
    card = known_card(world, "AAAA2222BBBB", "30.00")
    order = world.shopify.place_order(world.shopify.line_item(usd("30.00")), currency="EUR")
    world.shopify.pay_with_card(order.id, card.gid, usd("30.00"))
    deps = redemptions_process(world)

    until_quiet(lambda: run_redemptions(world, deps))

    row = order_rows(world, order.id)[OrderKind.REDEMPTION]
    assert row[ShopifyOrders.OUTCOME] == OrderOutcome.NEEDS_ATTENTION
    assert TAG_R in world.shopify.orders[order.id].tags
    assert world.airtable.receipts() == []


def test_a_card_deactivated_in_shopify_still_gets_its_redemption_and_balance(
    world: World,
) -> None:
    card = known_card(world, "AAAA2222BBBB", "30.00")
    order = world.shopify.place_order(world.shopify.line_item(usd("10.00")))
    txn = world.shopify.pay_with_card(order.id, card.gid, usd("10.00"))
    world.shopify.deactivate(card.gid)

    run_redemptions(world)

    receipt = receipts_by_reference(world)[
        ActionKey.shopify_txn(txn.id).reference(ReceiptAction.REDEEMED_ONLINE)
    ]
    assert "deactivated in Shopify" in str(receipt[Receipts.DETAILS])
    row = card_row(world, card.row_id)
    assert row[GiftCards.BALANCE] == usd("20.00")
    assert row[GiftCards.STATUS] == CardStatus.ACTIVE  # by balance; giftbridge never voids alone
    order_row = order_rows(world, order.id)[OrderKind.REDEMPTION]
    assert order_row[ShopifyOrders.OUTCOME] == OrderOutcome.NEEDS_ATTENTION
    assert TAG_R in world.shopify.orders[order.id].tags


def test_an_order_older_than_the_window_is_not_touched(world: World) -> None:
    card = known_card(world, "AAAA2222BBBB", "30.00")
    old = world.clock.now() - timedelta(days=61)
    order = world.shopify.place_order(world.shopify.line_item(usd("10.00")), created_at=old)
    world.shopify.pay_with_card(order.id, card.gid, usd("10.00"))
    world.shopify.orders[order.id] = replace(world.shopify.orders[order.id], updated_at=old)

    report = run_redemptions(world)

    assert not report.found_work
    assert world.shopify.orders[order.id].tags == frozenset()
    assert world.airtable.receipts() == []
    assert order_rows(world, order.id) == {}


def test_a_late_refund_on_an_order_older_than_the_window_is_still_found(world: World) -> None:
    card = known_card(world, "AAAA2222BBBB", "30.00")
    old = world.clock.now() - timedelta(days=61)
    order = world.shopify.place_order(world.shopify.line_item(usd("10.00")), created_at=old)
    world.shopify.pay_with_card(order.id, card.gid, usd("10.00"))
    refund = world.shopify.refund_to_card(order.id, card.gid, usd("4.00"))  # updated now

    until_quiet(lambda: run_redemptions(world))

    assert set(receipts_by_reference(world)) >= {
        ActionKey.shopify_txn(refund.id).reference(ReceiptAction.REFUNDED_ONLINE)
    }
    assert card_row(world, card.row_id)[GiftCards.BALANCE] == usd("24.00")
    assert world.shopify.orders[order.id].tags == frozenset()  # outside the tag pass's window


def test_a_refused_gate_writes_nothing(world: World) -> None:
    card = known_card(world, "AAAA2222BBBB", "30.00")
    order = world.shopify.place_order(world.shopify.line_item(usd("10.00")))
    world.shopify.pay_with_card(order.id, card.gid, usd("10.00"))
    gate = ClosedGate()
    writes_before = len(world.airtable.writes)

    report = run_redemptions(world, gate=gate)

    assert gate.claims == 1
    assert report.skipped
    assert len(world.airtable.writes) == writes_before
    assert world.shopify.orders[order.id].tags == frozenset()


def test_a_busy_backlog_is_worked_off_over_several_bounded_runs(world: World) -> None:
    card = known_card(world, "AAAA2222BBBB", "100.00")
    orders = []
    for _ in range(7):
        order = world.shopify.place_order(world.shopify.line_item(usd("1.00")))
        world.shopify.pay_with_card(order.id, card.gid, usd("1.00"))
        orders.append(order)
    process, config = redemptions_process(world), redemptions_config(max_orders_per_run=3)

    first = process.run(config, Budget(world.clock, 30), OpenGate())
    assert sum(1 for o in orders if TAG_R in world.shopify.orders[o.id].tags) == 3
    assert first.processed >= 3
    until_quiet(lambda: process.run(config, Budget(world.clock, 30), OpenGate()))

    assert all(TAG_R in world.shopify.orders[o.id].tags for o in orders)
    assert len(world.airtable.receipts()) == 7
    assert card_row(world, card.row_id)[GiftCards.BALANCE] == usd("93.00")


def test_a_spent_budget_stops_between_orders_and_the_next_run_goes_on(world: World) -> None:
    card = known_card(world, "AAAA2222BBBB", "100.00")
    for _ in range(3):
        order = world.shopify.place_order(world.shopify.line_item(usd("1.00")))
        world.shopify.pay_with_card(order.id, card.gid, usd("1.00"))

    report = redemptions_process(world).run(
        redemptions_config(), Budget(world.clock, 0), OpenGate()
    )

    assert report.budget_exhausted and report.processed == 0
    until_quiet(lambda: run_redemptions(world))
    assert len(world.airtable.receipts()) == 3


class ClosedGate:
    def __init__(self) -> None:
        self.claims = 0

    def claim(self) -> bool:
        self.claims += 1
        return False

    def heartbeat(self) -> None:
        raise AssertionError("no heartbeat without the lease")


def test_a_sweep_with_a_failed_order_does_not_move_its_mark_so_the_refund_is_not_lost(
    world: World,
) -> None:
    card = known_card(world, "AAAA2222BBBB", "30.00")
    order = world.shopify.place_order(world.shopify.line_item(usd("30.00")))
    world.shopify.pay_with_card(order.id, card.gid, usd("30.00"))
    deps = redemptions_process(world)
    until_quiet(lambda: run_redemptions(world, deps))
    world.clock.advance(86400)
    until_quiet(lambda: run_redemptions(world, deps))
    mark = deps.sweep.watermark
    refund = world.shopify.refund_to_card(order.id, card.gid, usd("5.00"))
    world.clock.advance(86400)  # no run for a day: the refund is older than any overlap
    world.injector.arm("shopify.get_card", "fail_before")

    failed = run_redemptions(world, deps)

    assert failed.errors and deps.sweep.watermark == mark
    until_quiet(lambda: run_redemptions(world, deps))
    # the next sweep starts again from the old mark, so the refund is still found
    reference = ActionKey.shopify_txn(refund.id).reference(ReceiptAction.REFUNDED_ONLINE)
    assert reference in receipts_by_reference(world)
    assert card_row(world, card.row_id)[GiftCards.BALANCE] == usd("5.00")
