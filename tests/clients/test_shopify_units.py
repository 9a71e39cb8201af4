"""Shopify adapter units: every document against the real schema, search quoting, parsing and
error translation (no network)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from importlib import resources
from typing import Any

import pytest
from gql.transport.exceptions import (
    TransportConnectionFailed,
    TransportQueryError,
    TransportServerError,
)
from graphql import OperationDefinitionNode, parse, validate
from graphql.execution.values import get_variable_values

from cards.money import Money
from clients import shopify_parse as p
from clients.errors import AmbiguousOutcome, CodeTaken, Permanent, RateLimited, Retryable
from clients.records import TransactionKind
from clients.shopify import ShopifyAdapter
from clients.shopify_errors import STATUS_KEY, throttle_wait, translate
from clients.shopify_search import order_query, quote
from clients.shopify_transport import source
from sandbox.shopify.schema import admin_schema

GID = "gid://shopify/GiftCard/1"
# Realistic variables for every operation: the adapter sends exactly these shapes.
SAMPLES: dict[str, dict[str, Any]] = {
    "AccessScopes": {},
    "GiftCardById": {"id": GID},
    "GiftCardsByCode": {"query": "7KQ2M9XH4TPC"},
    "GiftCardsSince": {
        "query": "source:purchased created_at:>='2026-01-01T00:00:00Z'",
        "after": None,
    },
    "GiftCardTransactions": {"id": GID, "first": 50, "after": None},
    "GiftCardsAudit": {"query": "id:>1000 updated_at:>='2026-01-01T00:00:00Z'", "first": 250},
    "GiftCardCreate": {
        "input": {
            "code": "7KQ2M9XH4TPC",
            "initialValue": "50.00",
            "note": "giftbridge create:recA1b2C3d4E5f6G7h",
            "notify": False,
            "expiresOn": "2031-06-30",
        }
    },
    "GiftCardDebit": {
        "id": GID,
        "input": {
            "debitAmount": {"amount": "12.50", "currencyCode": "USD"},
            "note": "giftbridge redeem:recA1b2C3d4E5f6G7h",
        },
    },
    "GiftCardCredit": {
        "id": GID,
        "input": {
            "creditAmount": {"amount": "12.50", "currencyCode": "USD"},
            "note": "giftbridge action:recA1b2C3d4E5f6G7h",
        },
    },
    "GiftCardUpdateExpiry": {"id": GID, "input": {"expiresOn": None}},
    "GiftCardDeactivate": {"id": GID},
    "ShopCheck": {},
    "OrdersSearch": {"query": "tag_not:'giftbridge-processed'", "first": 8, "after": None},
    "OrderById": {"id": "gid://shopify/Order/1"},
    "OrderLineItems": {"id": "gid://shopify/Order/1", "after": "abc"},
    "OrderCreatedAt": {"id": "gid://shopify/Order/1"},
    "TagsAdd": {"id": "gid://shopify/Order/1", "tags": ["giftbridge-processed"]},
    "ShopTimezone": {},
    "GiftCardsByIds": {"ids": [GID, "gid://shopify/GiftCard/2"]},
}


def documents() -> dict[str, str]:
    """Every operation as sent: its file with the fragments it spreads."""
    folder = resources.files("clients").joinpath("graphql")
    return {
        entry.name.removesuffix(".graphql"): source(entry.name.removesuffix(".graphql"))
        for entry in folder.iterdir()
        if entry.name.endswith(".graphql")
    }


def test_every_document_has_sample_variables() -> None:
    assert set(documents()) == set(SAMPLES)


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_each_document_and_its_variables_validate_against_the_admin_schema(name: str) -> None:
    schema = admin_schema()
    document = parse(documents()[name])
    assert validate(schema, document) == []
    (operation,) = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    assert operation.name is not None and operation.name.value == name  # file = operation
    coerced = get_variable_values(schema, operation.variable_definitions or (), SAMPLES[name])
    # graphql-core returns the coerced values, or a list of errors.
    assert not isinstance(coerced, list), [e.message for e in coerced]


def test_a_wrong_input_field_is_caught_by_the_variable_check() -> None:
    schema = admin_schema()
    (operation,) = parse(documents()["GiftCardDebit"]).definitions
    assert isinstance(operation, OperationDefinitionNode)
    wrong = {"id": GID, "input": {"amount": {"amount": "1.00", "currencyCode": "USD"}}}
    assert isinstance(
        get_variable_values(schema, operation.variable_definitions or (), wrong), list
    )


# --- search syntax ----------------------------------------------------------------------------


def test_order_search_quotes_every_value() -> None:
    since = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=-5)))
    assert order_query(
        created_since=since,
        without_tag="giftbridge-processed",
        paid_by_gift_card=True,
        financial_status="PAID",
    ) == (
        "created_at:>='2026-01-02T08:04:05Z' tag_not:'giftbridge-processed' "
        "gateway:gift_card financial_status:'paid'"
    )
    assert quote("it's a \\ tag") == "'it\\'s a \\\\ tag'"
    assert order_query() == ""
    with pytest.raises(ValueError):
        order_query(updated_since=datetime(2026, 1, 1))  # noqa: DTZ001


# --- parsing ----------------------------------------------------------------------------------


def money(amount: str) -> dict[str, str]:
    return {"amount": amount, "currencyCode": "USD"}


def test_a_negative_debit_becomes_a_positive_amount_with_its_kind() -> None:
    node = {
        "__typename": "GiftCardDebitTransaction",
        "id": "gid://shopify/GiftCardDebitTransaction/9",
        "note": "n",
        "processedAt": "2026-01-01T00:00:00Z",
        "amount": money("-12.5"),
    }
    txn = p.transaction(node)
    assert txn.kind is TransactionKind.DEBIT and txn.amount == Money.of("12.50", "USD")
    node |= {"__typename": "Unknown", "amount": money("-3")}
    assert p.transaction(node).kind is TransactionKind.DEBIT
    node |= {"__typename": "GiftCardCreditTransaction", "amount": money("3")}
    assert p.transaction(node).kind is TransactionKind.CREDIT


@pytest.mark.parametrize(
    ("receipt", "expected"),
    [
        (
            '{"gift_card_id": 123, "gift_card_last_characters": "abcd"}',
            "gid://shopify/GiftCard/123",
        ),
        ({"gift_card_id": "456"}, "gid://shopify/GiftCard/456"),
        ({"gift_card_id": "gid://shopify/GiftCard/7"}, "gid://shopify/GiftCard/7"),
        ("not json", None),
        ('"a string"', None),
        (None, None),
        ({"paid_amount": "1.00"}, None),
        ({"gift_card_id": True}, None),
        ({"gift_card_id": "12a"}, None),
    ],
)
def test_receipt_json_names_the_card_when_it_can(receipt: Any, expected: str | None) -> None:
    assert p.receipt_card_id(receipt) == expected


def test_an_order_parses_with_customer_line_items_and_gift_card_transactions() -> None:
    node = {
        "id": "gid://shopify/Order/5",
        "name": "#1005",
        "createdAt": "2026-01-01T10:00:00Z",
        "updatedAt": None,
        "test": False,
        "tags": ["a", "b"],
        "currencyCode": "USD",
        "displayFinancialStatus": "PARTIALLY_REFUNDED",
        "email": None,
        "customer": {
            "displayName": "Ann Lee",
            "firstName": None,
            "lastName": None,
            "defaultEmailAddress": {"emailAddress": "ann@example.com"},
        },
        "lineItems": {
            "pageInfo": {"hasNextPage": False, "endCursor": None},
            "nodes": [
                {
                    "id": "gid://shopify/LineItem/1",
                    "sku": "GC-50",
                    "name": "Card",
                    "quantity": 2,
                    "isGiftCard": False,
                    "customAttributes": [{"key": "Recipient email", "value": "r@x"}],
                    "originalUnitPriceSet": {"shopMoney": money("50.0")},
                }
            ],
        },
        "transactions": [
            {
                "id": "gid://shopify/OrderTransaction/3",
                "gateway": "gift_card",
                "kind": "SALE",
                "status": "SUCCESS",
                "processedAt": None,
                "receiptJson": '{"gift_card_id": 77}',
                "amountSet": {"shopMoney": money("10")},
            }
        ],
    }
    order = p.order(node)
    assert order.customer_email == "ann@example.com" and order.customer_name == "Ann Lee"
    assert order.financial_status == "partially_refunded"
    assert order.line_items[0].unit_price.amount == Decimal("50.00")
    assert order.line_items[0].attributes == {"Recipient email": "r@x"}
    assert order.transactions[0].gift_card_id == "gid://shopify/GiftCard/77"
    assert order.created_at == datetime(2026, 1, 1, 10, tzinfo=UTC)


def test_units_are_those_still_on_the_order() -> None:
    node = {
        "id": "gid://shopify/LineItem/1",
        "sku": "GC-50",
        "quantity": 3,
        "currentQuantity": 1,
        "isGiftCard": False,
        "originalUnitPriceSet": {"shopMoney": money("50.0")},
    }
    assert p.line_item(node).quantity == 1  # two units refunded or edited away: no card owed
    assert p.line_item({**node, "currentQuantity": None}).quantity == 3
    assert p.line_item({**node, "currentQuantity": 0}).quantity == 0


def test_an_unreadable_shape_is_reported_not_crashed() -> None:
    with pytest.raises(p.ResponseShapeError):
        p.card({"id": "x", "balance": {"amount": "abc", "currencyCode": "USD"}})
    with pytest.raises(p.ResponseShapeError):
        p.nodes(None)


# --- error translation ------------------------------------------------------------------------


def throttled_extensions(status: int = 200) -> dict[str, Any]:
    return {
        STATUS_KEY: status,
        "cost": {
            "requestedQueryCost": 752,
            "actualQueryCost": None,
            "throttleStatus": {
                "maximumAvailable": 1000.0,
                "currentlyAvailable": 652,
                "restoreRate": 50.0,
            },
        },
    }


def test_throttled_waits_for_the_missing_points() -> None:
    assert throttle_wait(throttled_extensions()) == pytest.approx(2.0)
    errors = [{"message": "Throttled", "extensions": {"code": "THROTTLED"}}]
    for status in (200, 429):
        error = translate(
            TransportQueryError(
                "Throttled", errors=errors, extensions=throttled_extensions(status)
            ),
            "GiftCardDebit",
            mutation=True,
        )
        assert isinstance(error, RateLimited) and error.retry_after == pytest.approx(2.0)


@pytest.mark.parametrize("mutation", [True, False])
def test_server_failures_are_ambiguous_for_mutations_only(mutation: bool) -> None:
    expected = AmbiguousOutcome if mutation else Retryable
    assert type(translate(TransportServerError("x", 503), "op", mutation=mutation)) is expected
    five_hundred = TransportQueryError(
        "x", errors=[{"message": "boom"}], extensions={STATUS_KEY: 500}
    )
    assert type(translate(five_hundred, "op", mutation=mutation)) is expected
    assert type(translate(TimeoutError(), "op", mutation=mutation)) is expected
    reset = TransportConnectionFailed("reset")
    reset.__cause__ = ConnectionResetError(104, "reset")
    assert type(translate(reset, "op", mutation=mutation)) is expected
    refused = TransportConnectionFailed("refused")
    refused.__cause__ = ConnectionRefusedError(111, "refused")
    assert type(translate(refused, "op", mutation=mutation)) is Retryable


def test_graphql_errors_are_permanent_and_sensitive_messages_are_dropped() -> None:
    errors = [
        {
            "message": "Variable $input got invalid value 7KQ2M9XH4TPC",
            "extensions": {"code": "ACCESS_DENIED"},
        }
    ]
    error = translate(
        TransportQueryError("x", errors=errors, extensions={STATUS_KEY: 200}),
        "GiftCardCreate",
        mutation=True,
        sensitive=True,
    )
    assert isinstance(error, Permanent) and error.code == "ACCESS_DENIED"
    assert "7KQ2" not in str(error)
    shopify_401: Any = "[API] Invalid API key"  # Shopify's 401 body: errors is a string
    unauthorized = TransportQueryError("x", errors=shopify_401, extensions={STATUS_KEY: 401})
    assert isinstance(translate(unauthorized, "q", mutation=False), Permanent)


def test_user_errors_become_typed_errors() -> None:
    def user_error(code: str | None) -> dict[str, Any]:
        return {"userErrors": [{"code": code, "field": ["input"], "message": "no: 7KQ2M9XH4TPC"}]}

    with pytest.raises(CodeTaken):
        ShopifyAdapter._user_errors("giftCardCreate", user_error("TAKEN"), sensitive=True)
    with pytest.raises(AmbiguousOutcome):
        ShopifyAdapter._user_errors("giftCardDebit", user_error("INTERNAL_ERROR"))
    with pytest.raises(Permanent) as caught:
        ShopifyAdapter._user_errors("giftCardCreate", user_error("TOO_SHORT"), sensitive=True)
    assert caught.value.code == "TOO_SHORT" and "7KQ2" not in str(caught.value)
    with pytest.raises(Permanent) as caught:
        ShopifyAdapter._user_errors("giftCardUpdate", user_error(None))
    assert caught.value.code == "USER_ERROR"
    ShopifyAdapter._user_errors("tagsAdd", {"userErrors": []})  # no error, no exception
