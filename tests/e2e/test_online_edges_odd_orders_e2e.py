"""Issue 7's edge cases end to end: another currency, a card deactivated in Shopify, orders
older than the window, an order both a purchase and paid by card. Stand-ins over HTTP, the real
adapters, the real prongs.

Each test sets up one case in the Shopify stand-in, runs the prongs, asserts the defined result
(the Shopify Orders row, tags, receipts by reference, Gift Cards rows, Klaviyo events, Airtable
balance == Shopify balance), then runs the prongs that handled it again: nothing is repeated.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest

from cards.vocab import CardSource, CardStatus, Metric, OrderKind, OrderOutcome, ReceiptAction
from config.layout import GiftCards, Receipts, ShopifyOrders
from sandbox.shopify import LineItemSpec, OrderSpec
from tests.e2e.online_edge_helpers import (
    BEA,
    PROCESSED_TAG,
    REDEEMED_TAG,
    assert_balances_agree,
    assert_nothing_repeated,
    card_row,
    card_sales,
    days_ago,
    deactivate,
    money,
    online_receipts,
    order_rows,
    receipts,
    sell_cards,
    set_currency,
    sku_order,
    tags,
    txn_reference,
    unit_key,
    with_window,
)
from tests.prongs_shopify.online_sandbox import Online

pytestmark = pytest.mark.slow

REDEEMED = ReceiptAction.REDEEMED_ONLINE
REFUNDED = ReceiptAction.REFUNDED_ONLINE


# --- a currency that differs from the shop's ------------------------------------------------------


def test_a_purchase_in_another_currency_needs_attention_and_issues_nothing(shop: Online) -> None:
    order = shop.shop.create_order(sku_order(recipient="rita@example.com"))
    set_currency(shop, order, "EUR")

    report = shop.purchases()

    assert not report.errors, report.errors
    assert shop.rows(GiftCards.TABLE) == [] and shop.shop.data.cards == {}
    assert shop.klaviyo.events == [] and receipts(shop) == {}
    (row,) = order_rows(shop, order).values()
    assert row[ShopifyOrders.KIND] == OrderKind.PURCHASE.value
    assert row[ShopifyOrders.OUTCOME] == OrderOutcome.NEEDS_ATTENTION.value
    assert ShopifyOrders.GIFT_CARDS not in row
    assert tags(shop, order) == {PROCESSED_TAG}
    assert_nothing_repeated(shop, shop.purchases, shop.redemptions)


def test_a_redemption_in_another_currency_needs_attention_and_writes_no_money(
    shop: Online,
) -> None:
    (card,) = sell_cards(shop, "30.00")
    order = shop.shop.checkout_with_gift_cards(
        [card.code], OrderSpec(line_items=[LineItemSpec(price="10.00")])
    )
    set_currency(shop, order, "EUR")

    report = shop.redemptions()

    assert not report.errors, report.errors
    assert online_receipts(shop) == {}
    (row,) = order_rows(shop, order).values()
    assert row[ShopifyOrders.KIND] == OrderKind.REDEMPTION.value
    assert row[ShopifyOrders.OUTCOME] == OrderOutcome.NEEDS_ATTENTION.value
    assert row[ShopifyOrders.GIFT_CARDS] == [card.row_id]
    assert tags(shop, order) == {REDEEMED_TAG}
    # Left for a person: Airtable keeps the balance it had, Shopify's moved on.
    assert money(card_row(shop, card.row_id)[GiftCards.BALANCE]) == Decimal("30")
    assert shop.shop.card(card.gid).balance == Decimal("20")

    shop.shop.refund_to_gift_card(order, "4.00")  # a late refund on it needs a person too
    late = shop.redemptions()

    assert not late.errors, late.errors
    assert online_receipts(shop) == {}
    rows = order_rows(shop, order)
    assert set(rows) == {OrderKind.REDEMPTION.value, OrderKind.REFUND.value}
    refund_row = rows[OrderKind.REFUND.value]
    assert refund_row[ShopifyOrders.OUTCOME] == OrderOutcome.NEEDS_ATTENTION.value
    assert refund_row[ShopifyOrders.GIFT_CARDS] == [card.row_id]
    assert money(card_row(shop, card.row_id)[GiftCards.BALANCE]) == Decimal("30")
    assert_nothing_repeated(shop, shop.redemptions, shop.store)


# --- a card deactivated in Shopify ----------------------------------------------------------------


def test_a_card_deactivated_in_shopify_still_gets_its_redemption_and_balance(
    shop: Online,
) -> None:
    (card,) = sell_cards(shop, "30.00")
    order = shop.shop.checkout_with_gift_cards(
        [card.code], OrderSpec(line_items=[LineItemSpec(price="10.00")])
    )
    deactivate(shop, card.gid)  # in Shopify's admin, after the checkout spent from it

    report = shop.redemptions()

    assert not report.errors, report.errors
    (sale,) = card_sales(order)
    (receipt,) = online_receipts(shop).values()
    assert receipt[Receipts.REFERENCE] == txn_reference(sale, REDEEMED)
    assert (
        receipt[Receipts.DETAILS]
        == f"Shopify order {order.name}; the card is deactivated in Shopify"
    )
    assert money(receipt[Receipts.AMOUNT]) == Decimal("10")
    assert money(receipt[Receipts.BALANCE_AFTER]) == Decimal("20")
    after = card_row(shop, card.row_id)
    assert after[GiftCards.STATUS] == CardStatus.ACTIVE.value  # by balance: never voided alone
    assert_balances_agree(shop, card.row_id)
    (row,) = order_rows(shop, order).values()
    assert row[ShopifyOrders.KIND] == OrderKind.REDEMPTION.value
    assert row[ShopifyOrders.OUTCOME] == OrderOutcome.NEEDS_ATTENTION.value
    assert row[ShopifyOrders.GIFT_CARDS] == [card.row_id]
    assert tags(shop, order) == {REDEEMED_TAG}
    assert_nothing_repeated(shop, shop.redemptions, shop.store)


def test_a_native_card_deactivated_before_it_is_recorded_is_recorded_voided(
    shop: Online,
) -> None:
    order = shop.shop.create_order(
        OrderSpec(
            line_items=[LineItemSpec(name="Shop gift card", price="25.00", is_gift_card=True)],
            customer=BEA,
        )
    )
    (issued,) = shop.shop.fulfill_order(order)
    deactivate(shop, f"gid://shopify/GiftCard/{issued.number}")

    report = shop.purchases()

    assert not report.errors, report.errors
    (card,) = shop.rows(GiftCards.TABLE)
    assert card[GiftCards.ORIGIN_KEY] == f"native:{issued.number}"
    assert card[GiftCards.STATUS] == CardStatus.VOIDED.value  # it cannot be spent any more
    assert card[GiftCards.SOURCE] == CardSource.ONLINE.value
    assert_balances_agree(shop, card["id"])
    (row,) = order_rows(shop, order).values()
    assert row[ShopifyOrders.OUTCOME] == OrderOutcome.PROCESSED.value
    assert row[ShopifyOrders.GIFT_CARDS] == [card["id"]]
    assert tags(shop, order) == {PROCESSED_TAG}
    assert shop.klaviyo.events == [] and receipts(shop) == {}
    assert_nothing_repeated(shop, shop.purchases, shop.redemptions)


# --- an order older than the window ---------------------------------------------------------------


def test_a_purchase_older_than_the_window_is_not_touched(shop: Online) -> None:
    short = with_window(shop, 30)  # the stand-in hides orders past 60 days by itself
    old = shop.shop.create_order(replace(sku_order(), created_at=days_ago(31)))
    recent = shop.shop.create_order(replace(sku_order(), created_at=days_ago(29)))

    report = short.purchases()

    assert not report.errors, report.errors
    (card,) = shop.rows(GiftCards.TABLE)
    assert card[GiftCards.ORIGIN_KEY] == unit_key(recent, 0, 1)
    assert order_rows(shop, old) == {} and tags(shop, old) == set()
    assert tags(shop, recent) == {PROCESSED_TAG}
    assert_nothing_repeated(short, short.purchases, short.redemptions)
    assert tags(shop, old) == set()


def test_a_redemption_older_than_the_window_waits_for_a_late_refund(shop: Online) -> None:
    short = with_window(shop, 30)
    (card,) = sell_cards(short, "30.00")
    order = shop.shop.checkout_with_gift_cards(
        [card.code], OrderSpec(line_items=[LineItemSpec(price="10.00")], created_at=days_ago(31))
    )

    report = short.redemptions()

    assert not report.errors, report.errors
    assert not report.found_work
    assert online_receipts(shop) == {} and order_rows(shop, order) == {}
    assert tags(shop, order) == set()
    # Nothing was seen: Airtable still shows the balance before the old order.
    assert money(card_row(shop, card.row_id)[GiftCards.BALANCE]) == Decimal("30")

    refund = shop.shop.refund_to_gift_card(order, "4.00")  # updates the order: now it is recent
    late = short.redemptions()

    assert not late.errors, late.errors
    (sale,) = card_sales(order)
    found = online_receipts(shop)
    assert set(found) == {txn_reference(sale, REDEEMED), txn_reference(refund, REFUNDED)}
    assert money(found[txn_reference(refund, REFUNDED)][Receipts.AMOUNT]) == Decimal("4")
    assert_balances_agree(shop, card.row_id)
    assert money(card_row(shop, card.row_id)[GiftCards.BALANCE]) == Decimal("24")
    rows = order_rows(shop, order)
    assert set(rows) == {OrderKind.REFUND.value}  # no Redemption row: outside the tag pass
    assert rows[OrderKind.REFUND.value][ShopifyOrders.OUTCOME] == OrderOutcome.PROCESSED.value
    assert tags(shop, order) == set()
    assert_nothing_repeated(short, short.redemptions, short.store)


# --- an order that is both a purchase and paid by card --------------------------------------------


def test_an_order_both_a_purchase_and_paid_by_card_gets_both_rows_and_both_tags(
    shop: Online,
) -> None:
    (wallet,) = sell_cards(shop, "30.00")
    order = shop.shop.checkout_with_gift_cards(
        [wallet.code], sku_order(recipient="rita@example.com")
    )  # 25.00 from the wallet card: a card bought with a card
    assert shop.shop.order(order).financial_status == "PAID"

    bought = shop.purchases()
    assert tags(shop, order) == {PROCESSED_TAG}
    spent = shop.redemptions()

    assert not bought.errors and not spent.errors, (bought.errors, spent.errors)
    key = unit_key(order, 0, 1)
    (new,) = [r for r in shop.rows(GiftCards.TABLE) if r.get(GiftCards.ORIGIN_KEY) == key]
    assert new[GiftCards.SHOPIFY_ORDER] == order.name
    rows = order_rows(shop, order)
    assert set(rows) == {OrderKind.PURCHASE.value, OrderKind.REDEMPTION.value}
    assert rows[OrderKind.PURCHASE.value][ShopifyOrders.GIFT_CARDS] == [new["id"]]
    assert rows[OrderKind.REDEMPTION.value][ShopifyOrders.GIFT_CARDS] == [wallet.row_id]
    assert {r[ShopifyOrders.OUTCOME] for r in rows.values()} == {OrderOutcome.PROCESSED.value}
    assert tags(shop, order) == {PROCESSED_TAG, REDEEMED_TAG}
    (sale,) = card_sales(order)
    assert set(online_receipts(shop)) == {txn_reference(sale, REDEEMED)}
    assert {k for k in receipts(shop) if k.startswith("order:")} == {
        f"{key}:{tail}"
        for tail in ("created", "purchased-online", "sent:recipient", "sent:purchaser")
    }
    assert money(card_row(shop, wallet.row_id)[GiftCards.BALANCE]) == Decimal("5")
    assert_balances_agree(shop, wallet.row_id, new["id"])
    assert [e.email for e in shop.klaviyo.events_for(Metric.ISSUED.value, "rita@example.com")] == [
        "rita@example.com"
    ]
    assert_nothing_repeated(shop, shop.purchases, shop.redemptions, shop.store)
