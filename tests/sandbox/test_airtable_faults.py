"""Rate limit, injected faults and the ``/_sandbox/`` hooks, seen through pyairtable."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
import requests
from pyairtable import Api

from sandbox.faults import FaultKind
from sandbox.httpkit import DROPPED_STATUS
from tests.sandbox.conftest import BASE_ID, TOKEN, AirtableHarness

RATE_LIMIT_BODY = {
    "errors": [
        {"error": "RATE_LIMIT_REACHED", "message": "Rate limit exceeded. Please try again later"}
    ]
}


def _status(call: Callable[[], Any]) -> int:
    try:
        call()
    except requests.HTTPError as exc:
        return exc.response.status_code
    return 200


def test_sixth_request_in_a_second_gets_429_then_a_penalty(
    airtable_factory: Callable[..., AirtableHarness], layout: dict[str, Any]
) -> None:
    airtable = airtable_factory(layout=layout, rate_limit=5, penalty_seconds=2.0)
    stores = airtable.table("Stores")
    started = time.monotonic()
    assert [_status(stores.all) for _ in range(5)] == [200] * 5
    with pytest.raises(requests.HTTPError) as caught:
        stores.all()
    assert time.monotonic() - started < 1.0, "the machine was too slow for this test"
    assert caught.value.response.status_code == 429
    assert caught.value.response.json() == RATE_LIMIT_BODY
    time.sleep(1.2)  # the sliding window alone would allow requests again now
    assert _status(stores.all) == 429
    time.sleep(max(0.0, started + 2.3 - time.monotonic()))
    assert _status(stores.all) == 200


def test_the_limit_belongs_to_the_base(
    airtable_factory: Callable[..., AirtableHarness], layout: dict[str, Any]
) -> None:
    airtable = airtable_factory(layout=layout, rate_limit=2, penalty_seconds=5.0)
    airtable.sandbox.add_base("appOtherBase00001", layout=layout)
    other = airtable.api.table("appOtherBase00001", "Stores")
    statuses = [_status(airtable.table("Stores").all) for _ in range(3)]
    assert statuses == [200, 200, 429]
    assert _status(other.all) == 200


def test_no_limit_when_disabled(airtable: AirtableHarness) -> None:
    assert [_status(airtable.table("Stores").all) for _ in range(20)] == [200] * 20


def test_fail_before_is_502_and_applies_nothing(airtable: AirtableHarness) -> None:
    airtable.sandbox.faults.add("airtable.create:Receipts", FaultKind.FAIL_BEFORE)
    with pytest.raises(requests.HTTPError) as caught:
        airtable.table("Receipts").create({"Reference": "a"})
    assert caught.value.response.status_code == 502
    assert caught.value.response.json()["error"]["type"] == "SERVER_ERROR"
    assert airtable.sandbox.base().records("Receipts") == []
    airtable.table("Stores").create({"Name": "unaffected"})  # another table: no fault
    airtable.table("Receipts").create({"Reference": "b"})  # the rule fired once


def test_drop_after_applies_then_closes_the_connection(airtable: AirtableHarness) -> None:
    airtable.sandbox.faults.add("airtable.create", FaultKind.DROP_AFTER)
    with pytest.raises(requests.ConnectionError):
        airtable.table("Receipts").create({"Reference": "lost reply"})
    rows = airtable.sandbox.base().records("Receipts")
    assert [r["fields"]["Reference"] for r in rows] == ["lost reply"]
    assert airtable.sandbox.request_log[-1].status == DROPPED_STATUS


def test_drop_after_on_upsert_and_update(airtable: AirtableHarness) -> None:
    receipts = airtable.table("Receipts")
    record = receipts.create({"Reference": "u"})
    airtable.sandbox.faults.add("airtable.upsert", FaultKind.DROP_AFTER)
    airtable.sandbox.faults.add("airtable.update", FaultKind.DROP_AFTER)
    with pytest.raises(requests.ConnectionError):
        receipts.batch_upsert([{"fields": {"Reference": "u", "Amount": 2}}], ["Reference"])
    with pytest.raises(requests.ConnectionError):
        receipts.update(record["id"], {"Details": "d"})
    assert receipts.get(record["id"])["fields"] == {"Reference": "u", "Amount": 2, "Details": "d"}


def test_delay_past_the_client_timeout_is_a_read_timeout(airtable: AirtableHarness) -> None:
    impatient = Api(TOKEN, endpoint_url=airtable.url, retry_strategy=None, timeout=(5, 0.3))  # type: ignore[arg-type]  # requests takes floats
    airtable.sandbox.faults.add("airtable.list:Stores", FaultKind.DELAY, seconds=0.8)
    try:
        with pytest.raises(requests.ReadTimeout):
            impatient.table(BASE_ID, "Stores").all()
    finally:
        impatient.session.close()
    airtable.sandbox.faults.add("airtable.get", FaultKind.DELAY, seconds=0.2)
    store = airtable.sandbox.base().create("Stores", [{"Name": "x"}])[0]
    started = time.monotonic()
    assert airtable.table("Stores").get(store["id"])["fields"] == {"Name": "x"}
    assert time.monotonic() - started >= 0.2


def test_throttle_is_a_429_without_penalty(airtable: AirtableHarness) -> None:
    airtable.sandbox.faults.add("airtable.meta", FaultKind.THROTTLE)
    with pytest.raises(requests.HTTPError) as caught:
        airtable.api.base(BASE_ID).schema()
    assert caught.value.response.status_code == 429
    assert caught.value.response.json() == RATE_LIMIT_BODY
    assert airtable.api.base(BASE_ID).schema(force=True).tables


def test_upload_and_delete_faults(airtable: AirtableHarness) -> None:
    card = airtable.table("Gift Cards").create({"Masked Code": "x"})
    airtable.sandbox.faults.add("airtable.upload:Gift Cards", FaultKind.FAIL_BEFORE)
    url = f"{airtable.url}/v0/{BASE_ID}/{card['id']}/Certificate/uploadAttachment"
    body = {"contentType": "application/pdf", "file": "JVBERg==", "filename": "c.pdf"}
    assert airtable.http.post(url, json=body, timeout=5).status_code == 502
    airtable.sandbox.faults.add("airtable.delete", FaultKind.DROP_AFTER)
    with pytest.raises(requests.ConnectionError):
        airtable.table("Gift Cards").delete(card["id"])
    assert airtable.sandbox.base().records("Gift Cards") == []


def test_admin_routes(airtable: AirtableHarness) -> None:
    admin = f"{airtable.url}/_sandbox"
    armed = requests.post(
        f"{admin}/faults",
        json={"operation": "airtable.list", "kind": "fail_before", "times": 2},
        timeout=5,
    )
    assert armed.status_code == 201
    assert requests.get(f"{admin}/faults", timeout=5).json()["faults"][0]["times"] == 2
    assert [_status(airtable.table("Stores").all) for _ in range(3)] == [502, 502, 200]
    bad = requests.post(f"{admin}/faults", json={"operation": "x", "kind": "explode"}, timeout=5)
    assert bad.status_code == 400
    airtable.table("Stores").create({"Name": "Main St"})
    state = requests.get(f"{admin}/state", timeout=5).json()
    assert state["bases"][BASE_ID]["tables"]["Stores"][0]["fields"] == {"Name": "Main St"}
    logged = requests.get(f"{admin}/requests", timeout=5).json()["requests"]
    assert [(e["method"], e["table"], e["status"]) for e in logged][-2:] == [
        ("GET", "Stores", 200),
        ("POST", "Stores", 200),
    ]
    assert requests.post(f"{admin}/reset", timeout=5).status_code == 200
    assert airtable.sandbox.base().records("Stores") == []
    assert airtable.sandbox.request_log == []
