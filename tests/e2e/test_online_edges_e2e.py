"""Issue 7's edge cases end to end: stand-ins over HTTP, the real adapters, the real prongs.

Each test sets up one case in the Shopify stand-in, runs the prongs, asserts the defined result
(the Shopify Orders row, tags, receipts by reference, Gift Cards rows, Klaviyo events, Airtable
balance == Shopify balance), then runs the prongs that handled it again: nothing is repeated.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from decimal import Decimal

import pytest

from cards.vocab import CardSource, CardStatus, Metric, OrderKind, OrderOutcome, ReceiptAction
from config.layout import GiftCards, Receipts, ShopifyOrders
from sandbox.shopify import CustomerSpec, LineItemSpec, OrderSpec
from tests.e2e.online_edge_helpers import (
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
    tags,
    txn_reference,
    unit_key,
    with_window,
)
from tests.prongs_shopify.online_sandbox import SKU, Online, online

pytestmark = pytest.mark.slow

REDEEMED = ReceiptAction.REDEEMED_ONLINE
REFUNDED = ReceiptAction.REFUNDED_ONLINE


@pytest.fixture
def shop() -> Iterator[Online]:
    with online() as running:
        yield running


BEA = CustomerSpec(email="bea@example.com", first_name="Bea")


def _sku_order(
    *, quantity: int = 1, recipient: str | None = None, customer: CustomerSpec | None = BEA
) -> OrderSpec:
    attributes = {"Recipient email": recipient} if recipient else {}
    line = LineItemSpec(
        name="Gift card", sku=SKU, quantity=quantity, price="25.00", custom_attributes=attributes
    )
    return OrderSpec(line_items=[line], customer=customer)


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
    order = shop.shop.create_order(_sku_order(quantity=3, recipient="rita@example.com"))

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
    to_self = shop.shop.create_order(_sku_order(customer=CustomerSpec(email="me@example.com")))
    nobody = shop.shop.create_order(_sku_order(customer=None))

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


# --- a currency that differs from the shop's ------------------------------------------------------


def test_a_purchase_in_another_currency_needs_attention_and_issues_nothing(shop: Online) -> None:
    order = shop.shop.create_order(_sku_order(recipient="rita@example.com"))
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
    old = shop.shop.create_order(replace(_sku_order(), created_at=days_ago(31)))
    recent = shop.shop.create_order(replace(_sku_order(), created_at=days_ago(29)))

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
        [wallet.code], _sku_order(recipient="rita@example.com")
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
