"""Cards bought in the web shop, then spent at a till (sandbox over HTTP, real adapters)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from cards.vocab import CardSource, CardStatus, OrderKind, OrderOutcome, RedemptionOutcome
from config.layout import GiftCards, ShopifyOrders, StoreRedemptions
from sandbox.shopify import CustomerSpec, LineItemSpec, OrderSpec
from tests.prongs_shopify.online_sandbox import SKU, Online

pytestmark = pytest.mark.slow


def test_a_sku_card_bought_online_is_spent_at_a_till(shop: Online) -> None:
    order = shop.shop.create_order(
        OrderSpec(
            line_items=[
                LineItemSpec(
                    name="Gift card",
                    sku=SKU,
                    price="50.00",
                    custom_attributes={"Recipient email": "rita@example.com", "Message": "Hi"},
                )
            ],
            customer=CustomerSpec(email="bea@example.com", first_name="Bea"),
        )
    )

    report = shop.purchases()

    assert not report.errors, report.errors
    (card,) = shop.rows(GiftCards.TABLE)
    assert card[GiftCards.SOURCE] == CardSource.ONLINE.value
    assert card[GiftCards.SHOPIFY_ORDER] == order.name
    code = shop.issued_code("rita@example.com")
    assert shop.klaviyo.events_for("Gift Card Purchase Confirmation", "bea@example.com")
    assert "giftbridge-processed" in shop.shop.order(order.number).tags
    (row,) = shop.rows(ShopifyOrders.TABLE)
    assert row[ShopifyOrders.OUTCOME] == OrderOutcome.PROCESSED.value

    request = shop.redeem_at_till(code, "20.00")
    store = shop.store()

    assert not store.errors, store.errors
    done = shop.record(request)
    assert done[StoreRedemptions.OUTCOME] == RedemptionOutcome.SUCCESS.value
    assert shop.shop.card(code).balance == Decimal("30.00")
    assert Decimal(str(shop.record(card["id"])[GiftCards.BALANCE])) == Decimal("30.00")


def test_a_native_card_bought_online_is_recorded_then_spent_at_a_till(shop: Online) -> None:
    order = shop.shop.create_order(
        OrderSpec(
            line_items=[LineItemSpec(name="Shop gift card", price="25.00", is_gift_card=True)],
            customer=CustomerSpec(email="bea@example.com"),
        )
    )
    waiting = shop.purchases()
    assert waiting.outcomes["Awaiting Shopify's cards"] == 1
    assert shop.rows(GiftCards.TABLE) == []

    (issued,) = shop.shop.fulfill_order(order)
    report = shop.purchases()

    assert not report.errors, report.errors
    (card,) = shop.rows(GiftCards.TABLE)
    assert card[GiftCards.ORIGIN_KEY] == f"native:{issued.number}"
    assert card[GiftCards.LAST_CHARACTERS] == issued.code[-4:].upper()
    assert GiftCards.CODE_DIGEST not in card
    assert shop.klaviyo.events == []  # Shopify emails native cards itself
    (row,) = shop.rows(ShopifyOrders.TABLE)
    assert row[ShopifyOrders.KIND] == OrderKind.PURCHASE.value

    request = shop.redeem_at_till(issued.code.lower(), "10.00")
    store = shop.store()

    assert not store.errors, store.errors
    assert shop.record(request)[StoreRedemptions.OUTCOME] == RedemptionOutcome.SUCCESS.value
    after = shop.record(card["id"])
    assert after.get(GiftCards.CODE_DIGEST)  # filled in when the code was first presented
    assert Decimal(str(after[GiftCards.BALANCE])) == Decimal("15.00")
    assert after[GiftCards.STATUS] == CardStatus.ACTIVE.value
    assert len(shop.rows(GiftCards.TABLE)) == 1
