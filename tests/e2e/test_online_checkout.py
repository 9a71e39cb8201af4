"""A card sold at a till, spent and refunded at Shopify's checkout (sandbox over HTTP)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from cards.vocab import CardStatus, OrderKind, OrderOutcome, ReceiptAction
from config.layout import CreationRequests, GiftCards, Receipts, ShopifyOrders
from sandbox.shopify import LineItemSpec, OrderSpec
from tests.prongs_shopify.online_sandbox import Online

pytestmark = pytest.mark.slow


def test_a_card_sold_in_a_store_is_spent_and_refunded_online(shop: Online) -> None:
    request = shop.sell_at_till("40.00", "walkin@example.com")
    assert not shop.store().errors
    (card,) = [r for r in shop.rows(GiftCards.TABLE) if r.get(GiftCards.ORIGIN_KEY)]
    assert shop.record(request)[CreationRequests.GIFT_CARD] == [card["id"]]
    code = shop.issued_code("walkin@example.com")

    order = shop.shop.checkout_with_gift_cards(
        [code], OrderSpec(line_items=[LineItemSpec(price="55.00")])
    )  # 40.00 from the card, 15.00 on another gateway
    report = shop.redemptions()

    assert not report.errors, report.errors
    after = shop.record(card["id"])
    assert Decimal(str(after[GiftCards.BALANCE])) == Decimal("0")
    assert after[GiftCards.STATUS] == CardStatus.REDEEMED.value
    redeemed = [
        r
        for r in shop.rows(Receipts.TABLE)
        if r[Receipts.ACTION] == ReceiptAction.REDEEMED_ONLINE.value
    ]
    assert len(redeemed) == 1 and Decimal(str(redeemed[0][Receipts.AMOUNT])) == Decimal("40")
    assert "giftbridge-redeemed" in shop.shop.order(order.number).tags
    rows = {r[ShopifyOrders.KIND]: r for r in shop.rows(ShopifyOrders.TABLE)}
    assert rows[OrderKind.REDEMPTION.value][ShopifyOrders.OUTCOME] == OrderOutcome.PROCESSED.value

    shop.shop.refund_to_gift_card(order, "15.00")
    again = shop.redemptions()

    assert not again.errors, again.errors
    refunded = [
        r
        for r in shop.rows(Receipts.TABLE)
        if r[Receipts.ACTION] == ReceiptAction.REFUNDED_ONLINE.value
    ]
    assert len(refunded) == 1
    after = shop.record(card["id"])
    assert Decimal(str(after[GiftCards.BALANCE])) == Decimal("15.00")
    assert after[GiftCards.STATUS] == CardStatus.ACTIVE.value
    assert shop.shop.card(code).balance == Decimal("15.00")
    assert shop.redemptions().errors == []
    assert (
        len([r for r in shop.rows(Receipts.TABLE) if "shopify-txn" in r[Receipts.REFERENCE]]) == 2
    )
