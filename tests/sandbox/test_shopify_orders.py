"""Contract tests: orders, search syntax, tags, fulfilment, checkouts and refunds by gift card."""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from graphql import GraphQLSchema

from sandbox.shopify import (
    CheckoutError,
    CustomerSpec,
    LineItemSpec,
    OrderSpec,
    ShopifySandbox,
    admin_schema,
)
from sandbox.shopify.state import Order
from tests.sandbox.shopify_helpers import (
    CARD_BY_ID,
    CARD_SEARCH,
    ORDER_TAGS,
    ORDERS_PAGE,
    TAG_ORDER,
    TOKEN,
    UNTAG_ORDER,
    Clock,
    ShopifyService,
    card_gid,
)

GIFT_CARD_LINE = LineItemSpec(
    name="Gift card", sku="GC-NATIVE", quantity=2, price=Decimal("25.00"), is_gift_card=True
)


@pytest.fixture(scope="session")
def schema() -> GraphQLSchema:
    return admin_schema()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def service(schema: GraphQLSchema, clock: Clock) -> Iterator[ShopifyService]:
    with ShopifyService(ShopifySandbox(access_token=TOKEN, clock=clock)) as running:
        yield running


def order_gid(order: Order) -> str:
    return f"gid://shopify/Order/{order.number}"


def names(service: ShopifyService, query: str) -> list[str]:
    nodes = service.data(ORDERS_PAGE, {"q": query})["orders"]["nodes"]
    return [n["name"] for n in nodes]


def seed_orders(service: ShopifyService, clock: Clock) -> None:
    shop = service.shop
    shop.create_order(OrderSpec(tags=["gb-done"]))  # #1001
    clock.advance(hours=1)
    shop.create_order(OrderSpec(line_items=[LineItemSpec(sku="GC-25")]))  # #1002
    clock.advance(hours=1)
    shop.create_order(
        OrderSpec(
            financial_status="PARTIALLY_REFUNDED",  # #1003
            line_items=[LineItemSpec(sku="GC-50")],
            tags=["vip"],
        )
    )
    clock.advance(hours=1)
    shop.create_order(OrderSpec(financial_status="PENDING", test=True))  # #1004


def test_order_search_syntax(service: ShopifyService, clock: Clock) -> None:
    seed_orders(service, clock)
    assert names(service, "tag_not:gb-done") == ["#1002", "#1003", "#1004"]
    assert names(service, "-tag:gb-done financial_status:paid") == ["#1002"]
    assert names(service, "NOT tag:gb-done AND NOT tag:vip") == ["#1002", "#1004"]
    assert names(service, "financial_status:paid OR financial_status:partially_refunded") == [
        "#1001",
        "#1002",
        "#1003",
    ]
    assert names(service, "tag_not:gb-done (sku:GC-25 OR sku:GC-50)") == ["#1002", "#1003"]
    assert names(service, "sku:gc-25 OR tag:vip test:true") == ["#1002"]
    assert names(service, "gateway:shopify_payments -financial_status:paid") == ["#1003"]
    assert names(
        service, "created_at:>='2026-03-01T13:00:00Z' created_at:<2026-03-01T14:00:00Z"
    ) == ["#1002"]
    assert names(service, "name:#1004") == ["#1004"]
    third = next(o for o in service.shop.data.orders.values() if o.name == "#1003")
    assert names(service, f"id:>={third.number}") == ["#1003", "#1004"]
    assert names(service, "processed_at:<2026-03-01T13:00:00Z") == ["#1001"]
    assert names(service, "") == ["#1001", "#1002", "#1003", "#1004"]


def test_unknown_search_field_is_ignored_with_a_warning(
    service: ShopifyService, clock: Clock
) -> None:
    seed_orders(service, clock)
    result = service.execute(ORDERS_PAGE, {"q": "bogus_field:1 tag:vip"})
    assert result.data is not None
    assert [n["name"] for n in result.data["orders"]["nodes"]] == ["#1003"]
    assert result.extensions is not None
    warning = result.extensions["search"][0]["warnings"][0]
    assert warning["field"] == "bogus_field"


def test_orders_paginate_with_cursors(service: ShopifyService, clock: Clock) -> None:
    for _ in range(12):
        service.shop.create_order()
        clock.advance(minutes=1)
    first = service.data(ORDERS_PAGE, {"q": ""})["orders"]
    assert len(first["nodes"]) == 10 and first["pageInfo"]["hasNextPage"] is True
    rest = service.data(ORDERS_PAGE, {"q": "", "after": first["pageInfo"]["endCursor"]})
    assert [n["name"] for n in rest["orders"]["nodes"]] == ["#1011", "#1012"]


def test_order_fields(service: ShopifyService) -> None:
    service.shop.create_order(
        OrderSpec(
            customer=CustomerSpec("ada@example.com", "Ada", "Lovelace"),
            line_items=[
                LineItemSpec(
                    name="Gift",
                    sku="GC-25",
                    quantity=2,
                    price="25.00",
                    custom_attributes={"Recipient email": "bo@example.com"},
                )
            ],
        )
    )
    node = service.data(ORDERS_PAGE, {"q": ""})["orders"]["nodes"][0]
    assert node["displayFinancialStatus"] == "PAID"
    assert node["paymentGatewayNames"] == ["shopify_payments"]
    assert node["customer"]["displayName"] == "Ada Lovelace"
    assert node["customer"]["defaultEmailAddress"] == {"emailAddress": "ada@example.com"}
    assert node["email"] == "ada@example.com"
    item = node["lineItems"]["nodes"][0]
    assert (item["sku"], item["quantity"], item["isGiftCard"]) == ("GC-25", 2, False)
    assert item["customAttributes"] == [{"key": "Recipient email", "value": "bo@example.com"}]
    assert item["originalUnitPriceSet"]["shopMoney"] == {"amount": "25.0", "currencyCode": "USD"}
    sale = node["transactions"][0]
    assert (sale["kind"], sale["status"], sale["gateway"]) == (
        "SALE",
        "SUCCESS",
        "shopify_payments",
    )
    assert sale["amountSet"]["shopMoney"]["amount"] == "50.0"


def test_tags_add_keeps_existing_tags(service: ShopifyService, clock: Clock) -> None:
    order = service.shop.create_order(OrderSpec(tags=["vip", "wholesale"]))
    before = service.data(ORDER_TAGS, {"id": order_gid(order)})["order"]["updatedAt"]
    clock.advance(seconds=5)
    added = service.data(TAG_ORDER, {"id": order_gid(order), "tags": ["gb-done"]})["tagsAdd"]
    assert added["userErrors"] == []
    assert added["node"]["tags"] == ["gb-done", "vip", "wholesale"]
    service.data(TAG_ORDER, {"id": order_gid(order), "tags": "GB-DONE, gb-two"})  # a string
    tagged = service.data(ORDER_TAGS, {"id": order_gid(order)})["order"]
    assert tagged["tags"] == ["gb-done", "gb-two", "vip", "wholesale"]
    assert tagged["updatedAt"] > before
    assert names(service, "tag_not:gb-done") == []
    service.data(UNTAG_ORDER, {"id": order_gid(order), "tags": ["vip", "gb-two"]})
    assert service.data(ORDER_TAGS, {"id": order_gid(order)})["order"]["tags"] == [
        "gb-done",
        "wholesale",
    ]
    missing = service.data(TAG_ORDER, {"id": "gid://shopify/Order/1", "tags": ["x"]})
    assert missing["tagsAdd"]["node"] is None and missing["tagsAdd"]["userErrors"]


def test_orders_older_than_60_days_need_read_all_orders(
    service: ShopifyService, clock: Clock
) -> None:
    old = service.shop.create_order()
    clock.advance(days=61)
    assert names(service, "") == []
    assert service.data(ORDER_TAGS, {"id": order_gid(old)})["order"] is None


def test_fulfilment_issues_native_gift_cards(service: ShopifyService) -> None:
    order = service.shop.create_order(
        OrderSpec(
            customer=CustomerSpec("ada@example.com"), line_items=[GIFT_CARD_LINE, LineItemSpec()]
        )
    )
    assert service.data(CARD_SEARCH, {"q": "source:purchased"})["giftCards"]["nodes"] == []
    issued = service.shop.fulfill_order(order)
    assert len(issued) == 2 and all(card.notify for card in issued)
    found = service.data(CARD_SEARCH, {"q": "source:purchased created_at:>=2026-03-01"})
    cards = found["giftCards"]["nodes"]
    assert {c["order"]["id"] for c in cards} == {order_gid(order)}
    assert {c["balance"]["amount"] for c in cards} == {"25.0"}
    node = service.data(ORDERS_PAGE, {"q": ""})["orders"]["nodes"][0]
    assert node["fulfillments"][0]["status"] == "SUCCESS"
    assert service.shop.fulfill_order(order) == []  # nothing left to fulfil


def test_checkout_paid_by_gift_card(service: ShopifyService) -> None:
    card = service.shop.issue_card("30.00", "abcd1234efgh")
    order = service.shop.checkout_with_gift_cards(
        ["ABCD1234EFGH"], OrderSpec(line_items=[LineItemSpec(price="45.00")])
    )
    node = service.data(ORDERS_PAGE, {"q": "gateway:gift_card tag_not:gb-redeemed"})["orders"][
        "nodes"
    ][0]
    assert node["id"] == order_gid(order)
    assert node["paymentGatewayNames"] == ["gift_card", "shopify_payments"]
    gift, rest = node["transactions"]
    assert (gift["gateway"], gift["kind"], gift["status"]) == ("gift_card", "SALE", "SUCCESS")
    assert gift["amountSet"]["shopMoney"]["amount"] == "30.0"
    assert json.loads(gift["receiptJson"]) == {
        "gift_card_id": card.number,
        "gift_card_last_characters": "efgh",
    }
    assert rest["amountSet"]["shopMoney"]["amount"] == "15.0"
    read = service.data(CARD_BY_ID, {"id": card_gid(card.number), "first": 5})["giftCard"]
    assert read["balance"]["amount"] == "0.0"
    assert read["transactions"]["nodes"][0]["amount"]["amount"] == "-30.0"


def test_checkout_partly_paid_and_refused_cards(service: ShopifyService) -> None:
    service.shop.issue_card("10.00", "smallcard001")
    order = service.shop.checkout_with_gift_cards(
        ["smallcard001"],
        pay_remainder=False,
        spec=OrderSpec(line_items=[LineItemSpec(price="25.00")]),
    )
    assert order.financial_status == "PARTIALLY_PAID"
    with pytest.raises(CheckoutError):
        service.shop.checkout_with_gift_cards(["nosuchcard99"])
    assert service.shop.card("smallcard001").balance == Decimal("0.00")


def test_refund_to_gift_card_credits_it(service: ShopifyService, clock: Clock) -> None:
    card = service.shop.issue_card("50.00", "refundcard01")
    order = service.shop.checkout_with_gift_cards(
        ["refundcard01"], OrderSpec(line_items=[LineItemSpec(price="20.00")], tags=["gb-r"])
    )
    clock.advance(days=2)
    refund = service.shop.refund_to_gift_card(order, "5.00")
    assert (refund.gateway, refund.kind) == ("gift_card", "REFUND")
    assert service.shop.card(card.number).balance == Decimal("35.00")
    recent = service.data(ORDERS_PAGE, {"q": "gateway:gift_card updated_at:>=2026-03-03"})
    node: dict[str, Any] = recent["orders"]["nodes"][0]
    assert node["displayFinancialStatus"] == "PARTIALLY_REFUNDED"
    back = node["transactions"][-1]
    assert (back["kind"], back["gateway"]) == ("REFUND", "gift_card")
    assert json.loads(back["receiptJson"])["gift_card_id"] == card.number
    with pytest.raises(CheckoutError):
        service.shop.refund_to_gift_card(order, "15.01")  # only 15.00 left to refund
    read = service.data(CARD_BY_ID, {"id": card_gid(card.number), "first": 5, "reverse": True})[
        "giftCard"
    ]
    assert read["transactions"]["nodes"][0]["__typename"] == "GiftCardCreditTransaction"


def test_receipt_json_can_be_an_object(schema: GraphQLSchema) -> None:
    shop = ShopifySandbox(access_token=TOKEN, receipt_json_as_string=False)
    with ShopifyService(shop) as service:
        card = shop.issue_card("10.00", "objreceipt01")
        shop.checkout_with_gift_cards(["objreceipt01"])
        node = service.data(ORDERS_PAGE, {"q": "gateway:gift_card"})["orders"]["nodes"][0]
        assert node["transactions"][0]["receiptJson"] == {
            "gift_card_id": card.number,
            "gift_card_last_characters": "pt01",
        }
