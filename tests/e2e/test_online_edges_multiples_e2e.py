"""Issue 7's edge cases end to end: several cards or units on one order, partial payment by
card, a line without a recipient. Stand-ins over HTTP, the real adapters, the real prongs.

Each test sets up one case in the Shopify stand-in, runs the prongs, asserts the defined result
(the Shopify Orders row, tags, receipts by reference, Gift Cards rows, Klaviyo events, Airtable
balance == Shopify balance), then runs the prongs that handled it again: nothing is repeated.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from cards.vocab import CardStatus, Metric, OrderKind, OrderOutcome, ReceiptAction
from config.layout import GiftCards, Receipts, ShopifyOrders
from sandbox.shopify import CustomerSpec, LineItemSpec, OrderSpec
from tests.e2e.online_edge_helpers import (
    PROCESSED_TAG,
    REDEEMED_TAG,
    assert_balances_agree,
    assert_nothing_repeated,
    card_row,
    card_sales,
    money,
    online_receipts,
    order_rows,
    receipts,
    sell_cards,
    sku_order,
    tags,
    txn_reference,
    unit_key,
)
from tests.prongs_shopify.online_sandbox import Online

pytestmark = pytest.mark.slow

REDEEMED = ReceiptAction.REDEEMED_ONLINE
REFUNDED = ReceiptAction.REFUNDED_ONLINE


# --- several gift cards on one order; partial payment by card -----------------------------------


def test_several_cards_on_one_order_each_get_a_receipt_and_a_stranger_gets_none(
    shop: Online,
) -> None:
    first, second = sell_cards(shop, "20.00", "25.00")
    stranger = shop.shop.issue_card("40.00", source="manual")  # made before giftbridge
    order = shop.shop.checkout_with_gift_cards(
        [first.code, stranger.code, second.code],
        OrderSpec(line_items=[LineItemSpec(price="70.00")]),
    )  # 20.00 + 40.00 + 10.00: nothing left for another gateway
    s1, s_stranger, s2 = card_sales(order)

    report = shop.redemptions()

    assert not report.errors, report.errors
    found = online_receipts(shop)
    assert set(found) == {txn_reference(s1, REDEEMED), txn_reference(s2, REDEEMED)}
    assert money(found[txn_reference(s1, REDEEMED)][Receipts.AMOUNT]) == Decimal("20")
    assert money(found[txn_reference(s2, REDEEMED)][Receipts.AMOUNT]) == Decimal("10")
    assert found[txn_reference(s2, REDEEMED)][Receipts.GIFT_CARD] == [second.row_id]
    assert card_row(shop, first.row_id)[GiftCards.STATUS] == CardStatus.REDEEMED.value
    assert card_row(shop, second.row_id)[GiftCards.STATUS] == CardStatus.ACTIVE.value
    assert_balances_agree(shop, first.row_id, second.row_id)
    assert money(card_row(shop, second.row_id)[GiftCards.BALANCE]) == Decimal("15")
    (row,) = order_rows(shop, order).values()
    assert row[ShopifyOrders.KIND] == OrderKind.REDEMPTION.value
    assert row[ShopifyOrders.OUTCOME] == OrderOutcome.PROCESSED.value
    assert set(row[ShopifyOrders.GIFT_CARDS]) == {first.row_id, second.row_id}
    assert tags(shop, order) == {REDEEMED_TAG}
    assert s_stranger.amount == Decimal("40.00")
    assert all(
        r.get(GiftCards.SHOPIFY_GIFT_CARD_ID) != f"gid://shopify/GiftCard/{stranger.number}"
        for r in shop.rows(GiftCards.TABLE)
    )  # no row invented for a card giftbridge never knew

    refund = shop.shop.refund_to_gift_card(order, "3.00", code=second.code)
    late = shop.redemptions()

    assert not late.errors, late.errors
    assert set(online_receipts(shop)) == {
        txn_reference(s1, REDEEMED),
        txn_reference(s2, REDEEMED),
        txn_reference(refund, REFUNDED),
    }
    refund_row = order_rows(shop, order)[OrderKind.REFUND.value]
    assert refund_row[ShopifyOrders.OUTCOME] == OrderOutcome.PROCESSED.value
    assert refund_row[ShopifyOrders.GIFT_CARDS] == [second.row_id]  # only the card refunded
    assert_balances_agree(shop, first.row_id, second.row_id)
    assert_nothing_repeated(shop, shop.redemptions, shop.store)


def test_a_partial_payment_by_card_records_only_the_cards_part(shop: Online) -> None:
    paid, unpaid = sell_cards(shop, "15.00", "15.00")
    rest_paid = shop.shop.checkout_with_gift_cards(
        [paid.code], OrderSpec(line_items=[LineItemSpec(price="100.00")])
    )  # 85.00 on another gateway: PAID
    rest_owed = shop.shop.checkout_with_gift_cards(
        [unpaid.code], OrderSpec(line_items=[LineItemSpec(price="100.00")]), pay_remainder=False
    )  # 85.00 still owed: PARTIALLY_PAID
    assert shop.shop.order(rest_owed).financial_status == "PARTIALLY_PAID"

    report = shop.redemptions()

    assert not report.errors, report.errors
    found = online_receipts(shop)
    (sale_paid,), (sale_owed,) = card_sales(rest_paid), card_sales(rest_owed)
    assert set(found) == {txn_reference(sale_paid, REDEEMED), txn_reference(sale_owed, REDEEMED)}
    for receipt in found.values():
        assert money(receipt[Receipts.AMOUNT]) == Decimal("15")
        assert money(receipt[Receipts.BALANCE_AFTER]) == Decimal("0")
    for card, order in ((paid, rest_paid), (unpaid, rest_owed)):
        assert card_row(shop, card.row_id)[GiftCards.STATUS] == CardStatus.REDEEMED.value
        row = order_rows(shop, order)[OrderKind.REDEMPTION.value]
        assert row[ShopifyOrders.OUTCOME] == OrderOutcome.PROCESSED.value
        assert row[ShopifyOrders.GIFT_CARDS] == [card.row_id]
        assert tags(shop, order) == {REDEEMED_TAG}
    assert_balances_agree(shop, paid.row_id, unpaid.row_id)
    assert_nothing_repeated(shop, shop.redemptions, shop.store)


# --- several units of one SKU; a line item without a recipient -----------------------------------


def test_several_units_of_one_sku_are_each_their_own_card_and_email(shop: Online) -> None:
    order = shop.shop.create_order(sku_order(quantity=3, recipient="rita@example.com"))

    report = shop.purchases()

    assert not report.errors, report.errors
    keys = [unit_key(order, 0, unit) for unit in (1, 2, 3)]
    cards = {r[GiftCards.ORIGIN_KEY]: r for r in shop.rows(GiftCards.TABLE)}
    assert sorted(cards) == keys
    assert {n.note for n in shop.shop.data.cards.values()} == {f"giftbridge {k}" for k in keys}
    codes = [e.properties["code"] for e in shop.klaviyo.events_for(Metric.ISSUED.value)]
    assert len(set(codes)) == 3
    assert {e.email for e in shop.klaviyo.events_for(Metric.ISSUED.value)} == {"rita@example.com"}
    confirmations = shop.klaviyo.events_for(Metric.PURCHASE_CONFIRMATION.value)
    assert [e.email for e in confirmations] == ["bea@example.com"] * 3
    assert set(receipts(shop)) == {
        f"{key}:{tail}"
        for key in keys
        for tail in ("created", "purchased-online", "sent:recipient", "sent:purchaser")
    }
    row = order_rows(shop, order)[OrderKind.PURCHASE.value]
    assert row[ShopifyOrders.OUTCOME] == OrderOutcome.PROCESSED.value
    assert sorted(row[ShopifyOrders.GIFT_CARDS]) == sorted(r["id"] for r in cards.values())
    assert tags(shop, order) == {PROCESSED_TAG}
    assert_balances_agree(shop, *(r["id"] for r in cards.values()))
    assert {money(r[GiftCards.BALANCE]) for r in cards.values()} == {Decimal("25")}
    assert_nothing_repeated(shop, shop.purchases, shop.redemptions)


def test_a_line_without_a_recipient_goes_to_the_customer_or_needs_attention_without_one(
    shop: Online,
) -> None:
    to_self = shop.shop.create_order(sku_order(customer=CustomerSpec(email="me@example.com")))
    nobody = shop.shop.create_order(sku_order(customer=None))

    report = shop.purchases()

    assert not report.errors, report.errors
    cards = {r[GiftCards.ORIGIN_KEY]: r for r in shop.rows(GiftCards.TABLE)}
    mine, orphan = cards[unit_key(to_self, 0, 1)], cards[unit_key(nobody, 0, 1)]
    assert mine[GiftCards.RECIPIENT_EMAIL] == "me@example.com"  # the holder, for later emails
    assert [(e.metric, e.email) for e in shop.klaviyo.events] == [
        (Metric.ISSUED.value, "me@example.com")
    ]  # no purchase confirmation for a card bought for oneself; nothing for nobody
    assert orphan[GiftCards.STATUS] == CardStatus.ACTIVE.value  # paid for, so still issued
    assert set(receipts(shop)) == {
        f"{unit_key(to_self, 0, 1)}:created",
        f"{unit_key(to_self, 0, 1)}:purchased-online",
        f"{unit_key(to_self, 0, 1)}:sent:recipient",
        f"{unit_key(nobody, 0, 1)}:created",
        f"{unit_key(nobody, 0, 1)}:purchased-online",
    }
    outcomes = {
        o.name: order_rows(shop, o)[OrderKind.PURCHASE.value][ShopifyOrders.OUTCOME]
        for o in (to_self, nobody)
    }
    assert outcomes == {
        to_self.name: OrderOutcome.PROCESSED.value,
        nobody.name: OrderOutcome.NEEDS_ATTENTION.value,
    }
    assert tags(shop, to_self) == tags(shop, nobody) == {PROCESSED_TAG}
    assert_balances_agree(shop, mine["id"], orphan["id"])
    assert_nothing_repeated(shop, shop.purchases, shop.redemptions)
