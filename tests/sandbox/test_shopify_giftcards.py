"""Contract tests: gift card mutations, reads and search, through gql's aiohttp transport."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from graphql import GraphQLSchema

from sandbox.shopify import ShopifySandbox, admin_schema
from tests.sandbox.shopify_helpers import (
    CARD_BY_ID,
    CARD_SEARCH,
    CREATE,
    CREDIT,
    DEACTIVATE,
    DEBIT,
    TOKEN,
    UPDATE,
    Clock,
    ShopifyService,
    card_gid,
    money,
)


@pytest.fixture(scope="session")
def schema() -> GraphQLSchema:
    return admin_schema()  # built once per process (about 2 s)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def service(schema: GraphQLSchema, clock: Clock) -> Iterator[ShopifyService]:
    with ShopifyService(ShopifySandbox(access_token=TOKEN, clock=clock)) as running:
        yield running


def create(service: ShopifyService, **fields: Any) -> dict[str, Any]:
    payload: dict[str, Any] = service.data(CREATE, {"input": {"initialValue": "50.00", **fields}})[
        "giftCardCreate"
    ]
    return payload


def debit(
    service: ShopifyService,
    card_id: str,
    amount: str,
    currency: str = "USD",
    note: str | None = None,
) -> dict[str, Any]:
    payload: dict[str, Any] = service.data(
        DEBIT, {"id": card_id, "input": {"debitAmount": money(amount, currency), "note": note}}
    )["giftCardDebit"]
    return payload


def credit(service: ShopifyService, card_id: str, amount: str) -> dict[str, Any]:
    payload: dict[str, Any] = service.data(
        CREDIT, {"id": card_id, "input": {"creditAmount": money(amount)}}
    )["giftCardCredit"]
    return payload


def error_codes(payload: dict[str, Any]) -> list[str]:
    return [e["code"] for e in payload["userErrors"]]


def test_create_returns_the_code_once_and_stores_the_details(service: ShopifyService) -> None:
    payload = create(
        service,
        code="7KQ2M9XH4TPC",
        expiresOn="2031-06-30",
        notify=False,
        note="giftbridge create:rec1",
    )
    card = payload["giftCard"]
    assert payload["userErrors"] == []
    assert payload["giftCardCode"] == "7kq2m9xh4tpc"
    assert card["lastCharacters"] == "4tpc"
    assert card["maskedCode"] == "•••• •••• •••• 4tpc"
    assert (card["expiresOn"], card["notify"], card["note"]) == (
        "2031-06-30",
        False,
        "giftbridge create:rec1",
    )
    assert card["balance"] == {"amount": "50.0", "currencyCode": "USD"}
    stored = service.shop.card(card["id"])
    assert stored.code == "7kq2m9xh4tpc" and stored.source == "api_client"


def test_create_without_code_makes_a_random_valid_one(service: ShopifyService) -> None:
    first, second = create(service), create(service)
    assert first["giftCardCode"] != second["giftCardCode"]
    assert first["giftCardCode"].isalnum() and 8 <= len(first["giftCardCode"]) <= 20


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("abc1234", "TOO_SHORT"),
        ("a" * 21, "TOO_LONG"),
        ("abcd-1234-efgh", "INVALID"),
        ("ABCDEFGH1234", "TAKEN"),  # taken in another case
    ],
)
def test_create_code_rules(service: ShopifyService, code: str, expected: str) -> None:
    assert create(service, code="abcdefgh1234")["userErrors"] == []
    payload = create(service, code=code)
    assert payload["giftCard"] is None and payload["giftCardCode"] is None
    assert error_codes(payload) == [expected]
    assert payload["userErrors"][0]["field"] == ["input", "code"]


@pytest.mark.parametrize(
    ("value", "expected"),
    [("0", "GREATER_THAN"), ("-5", "GREATER_THAN"), ("10000.00", "GIFT_CARD_LIMIT_EXCEEDED")],
)
def test_create_value_rules(service: ShopifyService, value: str, expected: str) -> None:
    assert error_codes(create(service, initialValue=value)) == [expected]
    assert service.shop.data.cards == {}


def test_debit_and_credit_move_the_balance(service: ShopifyService) -> None:
    card_id = create(service)["giftCard"]["id"]
    spent = debit(service, card_id, "12.50", note="giftbridge redeem:recA")
    txn = spent["giftCardDebitTransaction"]
    assert spent["userErrors"] == []
    assert txn["amount"] == {"amount": "-12.5", "currencyCode": "USD"}  # debits are negative
    assert txn["note"] == "giftbridge redeem:recA"
    assert txn["giftCard"]["balance"]["amount"] == "37.5"
    back = credit(service, card_id, "2.50")["giftCardCreditTransaction"]
    assert back["amount"]["amount"] == "2.5"
    assert back["giftCard"]["balance"]["amount"] == "40.0"
    assert service.shop.card(card_id).balance == Decimal("40.00")


def test_debit_beyond_the_balance_changes_nothing(service: ShopifyService) -> None:
    card_id = create(service, initialValue="20")["giftCard"]["id"]
    payload = debit(service, card_id, "20.01")
    assert payload["giftCardDebitTransaction"] is None
    assert error_codes(payload) == ["INSUFFICIENT_FUNDS"]
    assert service.shop.card(card_id).balance == Decimal("20")
    assert service.shop.card_transactions(card_id) == []
    assert error_codes(debit(service, card_id, "20.00")) == []


@pytest.mark.parametrize(
    ("amount", "currency", "expected"),
    [
        ("0", "USD", "NEGATIVE_OR_ZERO_AMOUNT"),
        ("-1", "USD", "NEGATIVE_OR_ZERO_AMOUNT"),
        ("1.00", "EUR", "MISMATCHING_CURRENCY"),
    ],
)
def test_debit_input_errors(
    service: ShopifyService, amount: str, currency: str, expected: str
) -> None:
    card_id = create(service)["giftCard"]["id"]
    assert error_codes(debit(service, card_id, amount, currency)) == [expected]
    assert service.shop.card(card_id).balance == Decimal("50.00")


def test_unknown_card_is_not_found(service: ShopifyService) -> None:
    assert error_codes(debit(service, card_gid(999), "1")) == ["GIFT_CARD_NOT_FOUND"]
    assert error_codes(credit(service, card_gid(999), "1")) == ["GIFT_CARD_NOT_FOUND"]
    missing = service.data(DEACTIVATE, {"id": card_gid(999)})["giftCardDeactivate"]
    assert error_codes(missing) == ["GIFT_CARD_NOT_FOUND"]
    assert service.data(CARD_BY_ID, {"id": card_gid(999), "first": 5})["giftCard"] is None


def test_credit_past_the_limit_is_refused(service: ShopifyService) -> None:
    card_id = create(service, initialValue="9990.00")["giftCard"]["id"]
    assert error_codes(credit(service, card_id, "10.00")) == ["GIFT_CARD_LIMIT_EXCEEDED"]
    assert error_codes(credit(service, card_id, "9.99")) == []


def test_deactivation_is_permanent_and_blocks_transactions(service: ShopifyService) -> None:
    card_id = create(service)["giftCard"]["id"]
    card = service.data(DEACTIVATE, {"id": card_id})["giftCardDeactivate"]["giftCard"]
    assert card["enabled"] is False and card["deactivatedAt"] is not None
    assert error_codes(debit(service, card_id, "1")) == ["INVALID"]
    assert error_codes(credit(service, card_id, "1")) == ["INVALID"]
    again = service.data(DEACTIVATE, {"id": card_id})["giftCardDeactivate"]
    assert again["userErrors"] == [] and again["giftCard"]["enabled"] is False


def test_expired_card_is_invalid_for_debits(service: ShopifyService, clock: Clock) -> None:
    card_id = create(service, expiresOn="2026-03-02")["giftCard"]["id"]
    assert error_codes(debit(service, card_id, "1")) == []
    clock.advance(days=2)
    assert error_codes(debit(service, card_id, "1")) == ["INVALID"]
    found = service.data(CARD_SEARCH, {"q": "status:expired"})["giftCards"]["nodes"]
    assert [c["id"] for c in found] == [card_id]


def test_update_changes_expiry_and_note(service: ShopifyService) -> None:
    card_id = create(service, expiresOn="2030-01-01")["giftCard"]["id"]
    updated = service.data(
        UPDATE, {"id": card_id, "input": {"expiresOn": "2032-12-31", "note": "extended"}}
    )["giftCardUpdate"]
    assert updated["giftCard"] == {"id": card_id, "expiresOn": "2032-12-31", "note": "extended"}
    cleared = service.data(UPDATE, {"id": card_id, "input": {"expiresOn": None}})
    assert cleared["giftCardUpdate"]["giftCard"]["expiresOn"] is None
    assert cleared["giftCardUpdate"]["giftCard"]["note"] == "extended"
    missing = service.data(UPDATE, {"id": card_gid(1), "input": {"note": "x"}})["giftCardUpdate"]
    assert missing["giftCard"] is None and missing["userErrors"][0]["field"] == ["id"]


def test_transactions_newest_first_and_paged(service: ShopifyService) -> None:
    card_id = create(service)["giftCard"]["id"]
    for index in range(3):
        debit(service, card_id, "1", note=f"giftbridge redeem:rec{index}")
    credit(service, card_id, "5")
    newest = service.data(CARD_BY_ID, {"id": card_id, "first": 2, "reverse": True})["giftCard"]
    page = newest["transactions"]
    assert [n["__typename"] for n in page["nodes"]] == [
        "GiftCardCreditTransaction",
        "GiftCardDebitTransaction",
    ]
    assert page["nodes"][1]["note"] == "giftbridge redeem:rec2"
    assert page["pageInfo"]["hasNextPage"] is True
    rest = service.data(
        CARD_BY_ID,
        {"id": card_id, "first": 5, "reverse": True, "after": page["pageInfo"]["endCursor"]},
    )["giftCard"]
    assert [n["note"] for n in rest["transactions"]["nodes"]] == [
        "giftbridge redeem:rec1",
        "giftbridge redeem:rec0",
    ]
    assert rest["transactions"]["pageInfo"]["hasNextPage"] is False


@pytest.mark.parametrize("typed", ["7kq2m9xh4tpc", "7KQ2M9XH4TPC", "7kq2-m9xh-4tpc"])
def test_search_by_code_in_any_case(service: ShopifyService, typed: str) -> None:
    card_id = create(service, code="7KQ2m9xh4tpc")["giftCard"]["id"]
    create(service, code="7kq2m9xh4tpd")
    data = service.data(CARD_SEARCH, {"q": typed})
    assert [c["id"] for c in data["giftCards"]["nodes"]] == [card_id]
    assert data["giftCardsCount"] == {"count": 1, "precision": "EXACT"}
    assert service.data(CARD_SEARCH, {"q": "7kq2m9xh"})["giftCards"]["nodes"] == []


def test_search_filters(service: ShopifyService) -> None:
    full = create(service, code="fullcard0001")["giftCard"]["id"]
    partial = create(service, code="partcard0002")["giftCard"]["id"]
    empty = create(service, code="zerocard0003", initialValue="5")["giftCard"]["id"]
    disabled = create(service, code="gonecard0004")["giftCard"]["id"]
    debit(service, partial, "1")
    debit(service, empty, "5")
    service.data(DEACTIVATE, {"id": disabled})

    def ids(query: str) -> set[str]:
        return {c["id"] for c in service.data(CARD_SEARCH, {"q": query})["giftCards"]["nodes"]}

    assert ids("balance_status:full") == {full, disabled}
    assert ids("balance_status:partial") == {partial}
    assert ids("balance_status:empty") == {empty}
    assert ids("balance_status:full_or_partial status:enabled") == {full, partial}
    assert ids("status:disabled OR balance_status:empty") == {disabled, empty}
    assert ids("-status:disabled source:api_client last_characters:0002") == {partial}
    assert ids("created_at:>=2026-03-01 updated_at:<2026-03-02") == {full, partial, empty, disabled}
    assert ids("created_at:<2026-03-01") == set()
    assert ids(f"id:{partial.rsplit('/', 1)[1]}") == {partial}
    by_balance = service.data(
        "{ giftCards(first: 10, sortKey: BALANCE, reverse: true, "
        'query: "status:enabled") { nodes { id } } }'
    )
    assert [c["id"] for c in by_balance["giftCards"]["nodes"]] == [full, partial, empty]


def test_expiry_filters(service: ShopifyService) -> None:
    soon = create(service, expiresOn="2026-06-30")["giftCard"]["id"]
    later = create(service, expiresOn="2031-01-01")["giftCard"]["id"]
    never = create(service)["giftCard"]["id"]

    def ids(query: str) -> set[str]:
        return {c["id"] for c in service.data(CARD_SEARCH, {"q": query})["giftCards"]["nodes"]}

    assert ids("expires_on:<=2026-12-31") == {soon}
    assert ids("expires_on:2031-01-01") == {later}
    assert ids("status:expiring") == {soon, later}
    assert ids("-status:expiring") == {never}


def test_back_dated_debit_keeps_its_processed_at(service: ShopifyService) -> None:
    card_id = create(service)["giftCard"]["id"]
    payload = service.data(
        DEBIT,
        {
            "id": card_id,
            "input": {"debitAmount": money("1.00"), "processedAt": "2026-02-27T10:00:00Z"},
        },
    )["giftCardDebit"]
    assert payload["giftCardDebitTransaction"]["processedAt"] == "2026-02-27T10:00:00Z"
    future = service.data(
        DEBIT,
        {
            "id": card_id,
            "input": {"debitAmount": money("1.00"), "processedAt": "2026-03-09T10:00:00Z"},
        },
    )["giftCardDebit"]
    assert error_codes(future) == ["INVALID"]


def test_configuration_reports_the_issue_limit(service: ShopifyService) -> None:
    data = service.data(
        "{ giftCardConfiguration { issueLimit { amount currencyCode } purchaseLimit { amount } } }"
    )
    assert data["giftCardConfiguration"]["issueLimit"] == {
        "amount": "9999.99",
        "currencyCode": "USD",
    }
