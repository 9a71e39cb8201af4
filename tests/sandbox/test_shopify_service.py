"""Contract tests: auth, validation, cost and throttling, faults, admin routes, snapshots."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from gql.transport.exceptions import (
    TransportConnectionFailed,
    TransportQueryError,
    TransportServerError,
)
from graphql import GraphQLSchema

from sandbox.shopify import ShopifySandbox, admin_schema
from tests.sandbox.shopify_helpers import (
    API_PATH,
    CREATE,
    DEBIT,
    TOKEN,
    ShopifyService,
    card_gid,
    money,
)

SHOP = "{ shop { name currencyCode myshopifyDomain } }"


@pytest.fixture(scope="session")
def schema() -> GraphQLSchema:
    return admin_schema()


@pytest.fixture
def service(schema: GraphQLSchema) -> Iterator[ShopifyService]:
    with ShopifyService(
        ShopifySandbox(access_token=TOKEN, shop_domain="demo.myshopify.com", currency="CAD")
    ) as running:
        yield running


def debit_vars(card_number: int, amount: str = "5.00") -> dict[str, Any]:
    return {
        "id": card_gid(card_number),
        "input": {"debitAmount": money(amount, "CAD"), "note": "giftbridge redeem:recX"},
    }


def query_error(
    service: ShopifyService, document: str, variables: dict[str, Any] | None = None
) -> TransportQueryError:
    with pytest.raises(TransportQueryError) as caught:
        service.execute(document, variables)
    return caught.value


async def _post(
    url: str,
    body: Any,
    headers: dict[str, str] | None = None,
) -> tuple[int, Any]:
    async with (
        aiohttp.ClientSession() as session,
        session.post(url, json=body, headers=headers) as response,
    ):
        return response.status, await response.json(content_type=None)


def post(url: str, body: Any, headers: dict[str, str] | None = None) -> tuple[int, Any]:
    return asyncio.run(_post(url, body, headers))


def test_shop_and_cost_extensions(service: ShopifyService) -> None:
    result = service.execute(SHOP)
    assert result.data == {
        "shop": {
            "name": "giftbridge sandbox",
            "currencyCode": "CAD",
            "myshopifyDomain": "demo.myshopify.com",
        }
    }
    assert result.extensions is not None
    cost = result.extensions["cost"]
    assert (cost["requestedQueryCost"], cost["actualQueryCost"]) == (1, 1)
    assert cost["throttleStatus"]["maximumAvailable"] == 1000.0
    assert cost["throttleStatus"]["restoreRate"] == 50.0


def test_missing_or_wrong_token_is_401(service: ShopifyService) -> None:
    message = "[API] Invalid API key or access token (unrecognized login or wrong password)"
    for token in (None, "shpat_wrong"):
        with pytest.raises(TransportQueryError) as caught:  # gql reads the JSON error body
            service.execute(SHOP, token=token)
        assert caught.value.errors == message  # type: ignore[comparison-overlap]
    assert post(service.url, {"query": SHOP}) == (401, {"errors": message})


def test_invalid_document_is_rejected_by_the_schema(service: ShopifyService) -> None:
    error = query_error(service, "{ giftCards(first: 1) { nodes { id code } } }")
    assert error.errors is not None
    assert "Cannot query field 'code' on type 'GiftCard'" in error.errors[0]["message"]
    assert error.data is None
    bad_input = query_error(service, CREATE, {"input": {"initialValue": "50", "amount": "1"}})
    assert bad_input.errors is not None and "amount" in bad_input.errors[0]["message"]
    bad_enum = query_error(
        service,
        DEBIT,
        {"id": card_gid(1), "input": {"debitAmount": {"amount": "1", "currencyCode": "XXY"}}},
    )
    assert bad_enum.errors is not None and "XXY" in bad_enum.errors[0]["message"]
    assert service.shop.data.cards == {}


def test_unsimulated_non_null_field_is_a_clear_error(service: ShopifyService) -> None:
    error = query_error(service, "{ shop { name plan { partnerDevelopment } } }")
    assert error.errors is not None
    assert "Shop.plan is not simulated" in error.errors[0]["message"]


def test_missing_scope_is_access_denied(schema: GraphQLSchema) -> None:
    shop = ShopifySandbox(access_token=TOKEN, scopes=["read_gift_cards", "write_gift_cards"])
    with ShopifyService(shop) as service:
        card = shop.issue_card("10", "scopecard001")
        error = query_error(service, DEBIT, debit_vars(card.number))
        assert error.errors is not None
        assert error.errors[0]["extensions"]["code"] == "ACCESS_DENIED"
        scopes = service.data("{ currentAppInstallation { accessScopes { handle } } }")
        assert {s["handle"] for s in scopes["currentAppInstallation"]["accessScopes"]} == {
            "read_gift_cards",
            "write_gift_cards",
        }
    assert card.balance == Decimal("10")


def test_throttled_then_recovers(schema: GraphQLSchema) -> None:
    # 15 points, 10 back per second: the second debit (10 points) comes too soon unless
    # half a second passed since the first
    shop = ShopifySandbox(access_token=TOKEN, currency="CAD", bucket_size=15, restore_rate=10)
    with ShopifyService(shop) as service:
        card = shop.issue_card("50", "throttle0001")
        service.execute(DEBIT, debit_vars(card.number))  # 15 -> 5
        error = query_error(service, DEBIT, debit_vars(card.number))
        assert error.errors == [
            {
                "message": "Throttled",
                "extensions": {
                    "code": "THROTTLED",
                    "documentation": "https://shopify.dev/api/usage/rate-limits",
                },
            }
        ]
        assert error.extensions is not None
        cost = error.extensions["cost"]
        assert cost["requestedQueryCost"] == 10 and cost["actualQueryCost"] is None
        assert cost["throttleStatus"]["currentlyAvailable"] < 10
        assert card.balance == Decimal("45")  # the throttled debit did not run
        wait = (10 - cost["throttleStatus"]["currentlyAvailable"]) / 10
        time.sleep(wait + 0.05)
        service.execute(DEBIT, debit_vars(card.number))
        assert card.balance == Decimal("40")


def test_actual_cost_is_refunded_and_big_queries_refused(service: ShopifyService) -> None:
    result = service.execute("{ giftCards(first: 100) { nodes { id balance { amount } } } }")
    assert result.extensions is not None
    cost = result.extensions["cost"]
    assert (cost["requestedQueryCost"], cost["actualQueryCost"]) == (202, 2)
    assert cost["throttleStatus"]["currentlyAvailable"] >= 997
    error = query_error(
        service,
        "{ giftCards(first: 250) { nodes { id transactions(first: 250) { nodes { id } } } } }",
    )
    assert error.errors is not None
    assert error.errors[0]["extensions"]["code"] == "MAX_COST_EXCEEDED"


def test_fail_before_is_502_and_runs_nothing(service: ShopifyService) -> None:
    card = service.shop.issue_card("50", "faultcard001")
    service.shop.faults.add("shopify.giftCardDebit", "fail_before")
    with pytest.raises(TransportServerError) as caught:
        service.execute(DEBIT, debit_vars(card.number))
    assert caught.value.code == 502
    assert card.balance == Decimal("50")
    service.execute(DEBIT, debit_vars(card.number))  # the rule fired once
    assert card.balance == Decimal("45")


def test_drop_after_runs_the_debit_but_the_client_sees_no_answer(service: ShopifyService) -> None:
    card = service.shop.issue_card("50", "faultcard002")
    service.shop.faults.add("shopify.giftCardDebit", "drop_after")
    with pytest.raises(TransportConnectionFailed):
        service.execute(DEBIT, debit_vars(card.number))
    assert card.balance == Decimal("45")
    assert [t.note for t in service.shop.card_transactions(card.number)] == [
        "giftbridge redeem:recX"
    ]
    assert service.shop.operations[-1].fault == "drop_after"


def test_delay_then_answer_and_client_timeout(service: ShopifyService) -> None:
    service.shop.faults.add("shopify.shop", "delay", seconds=0.3)
    started = time.perf_counter()
    assert service.data(SHOP)["shop"]["currencyCode"] == "CAD"
    assert time.perf_counter() - started >= 0.3
    service.shop.faults.add("shopify.shop", "delay", seconds=0.5)
    with pytest.raises(asyncio.TimeoutError):
        service.execute(SHOP, timeout=0.2)


def test_throttle_fault_answers_throttled_for_that_field_only(service: ShopifyService) -> None:
    card = service.shop.issue_card("50", "faultcard003")
    service.shop.faults.add("shopify.giftCardDebit", "throttle")
    assert service.data(SHOP)["shop"]["name"]  # another root field is not affected
    error = query_error(service, DEBIT, debit_vars(card.number))
    assert error.errors is not None and error.errors[0]["extensions"]["code"] == "THROTTLED"
    assert card.balance == Decimal("50")


def test_admin_routes_simulate_and_inspect(service: ShopifyService) -> None:
    base = service.base_url
    status, card = post(f"{base}/_sandbox/cards", {"value": "40.00", "code": "admincard001"})
    assert status == 201 and card["balance"] == "40.00"
    status, order = post(
        f"{base}/_sandbox/orders",
        {
            "line_items": [{"name": "Gift card", "price": "25.00", "is_gift_card": True}],
            "customer": {"email": "ada@example.com"},
        },
    )
    assert status == 201
    number = order["id"].rsplit("/", 1)[1]
    status, fulfilled = post(f"{base}/_sandbox/orders/{number}/fulfill", {})
    assert status == 200 and fulfilled["issued"][0]["source"] == "purchased"
    status, paid = post(
        f"{base}/_sandbox/checkouts",
        {"codes": ["ADMINCARD001"], "order": {"line_items": [{"price": "15.00"}]}},
    )
    assert status == 201 and paid["transactions"][0]["receipt"]["gift_card_id"] == int(
        card["id"].rsplit("/", 1)[1]
    )
    paid_number = paid["id"].rsplit("/", 1)[1]
    status, refund = post(f"{base}/_sandbox/orders/{paid_number}/refunds", {"amount": "5.00"})
    assert status == 201 and refund["kind"] == "REFUND"
    assert post(f"{base}/_sandbox/checkouts", {"codes": ["unknown00001"]})[0] == 400
    status, _ = post(
        f"{base}/_sandbox/faults", {"operation": "shopify.orders", "kind": "fail_before"}
    )
    assert status == 201 and service.shop.faults.pending()[0].operation == "shopify.orders"
    state = asyncio.run(_get(f"{base}/_sandbox/state"))
    assert {c["code"] for c in state["cards"]} >= {"admincard001"}
    assert [c["balance"] for c in state["cards"] if c["code"] == "admincard001"] == ["30.00"]


async def _get(url: str) -> Any:
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        return await response.json()


def test_operation_log_names_operations(service: ShopifyService) -> None:
    card = service.shop.issue_card("50", "logcard00001")
    service.execute(DEBIT, debit_vars(card.number))
    operations = asyncio.run(_get(f"{service.base_url}/_sandbox/operations"))["operations"]
    last = operations[-1]
    assert (last["operation_name"], last["root_field"], last["outcome"]) == (
        "DebitCard",
        "giftCardDebit",
        "ok",
    )
    assert last["requested_cost"] == 10 and last["duration_ms"] >= 0
    http = asyncio.run(_get(f"{service.base_url}/_sandbox/requests"))["requests"]
    assert http[-1]["operation"] == "shopify.giftCardDebit" and http[-1]["status"] == 200


def test_snapshot_survives_a_restart(tmp_path: Path, schema: GraphQLSchema) -> None:
    path = tmp_path / "shopify.json"
    first = ShopifySandbox(access_token=TOKEN, snapshot_path=path)
    with ShopifyService(first) as service:
        service.execute(CREATE, {"input": {"initialValue": "20", "code": "snapcard0001"}})
        card = first.card("snapcard0001")
        service.execute(DEBIT, {"id": card_gid(card.number), "input": {"debitAmount": money("5")}})
    second = ShopifySandbox(access_token=TOKEN, snapshot_path=path)
    assert second.card("SNAPCARD0001").balance == Decimal("15")
    assert len(second.card_transactions("snapcard0001")) == 1
    assert list(tmp_path.iterdir()) == [path]  # no temporary files left behind


def test_bad_request_bodies(service: ShopifyService) -> None:
    headers = {"X-Shopify-Access-Token": TOKEN}
    assert post(service.url, {"variables": {}}, headers)[0] == 400
    assert post(service.base_url + API_PATH, {"query": SHOP, "variables": [1]}, headers)[0] == 400
