"""Injected faults on ``klaviyo.create_event`` as the SDK sees them, and the admin hooks."""

from __future__ import annotations

import time

import pytest
import requests
import urllib3
from openapi_client.exceptions import ApiException, ServiceException

from sandbox.faults import FaultKind
from sandbox.httpkit import DROPPED_STATUS
from tests.sandbox.conftest import KlaviyoHarness, event


def test_fail_before_is_502_and_records_nothing(klaviyo: KlaviyoHarness) -> None:
    klaviyo.sandbox.faults.add("klaviyo.create_event", FaultKind.FAIL_BEFORE)
    with pytest.raises(ServiceException) as caught:
        klaviyo.client().Events.create_event(event(), _request_timeout=5)
    assert caught.value.status == 502
    assert klaviyo.sandbox.events == []


def test_drop_after_records_then_drops_the_connection(klaviyo: KlaviyoHarness) -> None:
    klaviyo.sandbox.faults.add("klaviyo.create_event", FaultKind.DROP_AFTER)
    client = klaviyo.client()
    with pytest.raises(urllib3.exceptions.ProtocolError):
        client.Events.create_event(event(), _request_timeout=5)
    assert len(klaviyo.sandbox.events) == 1
    assert klaviyo.sandbox.request_log[-1].status == DROPPED_STATUS
    client.Events.create_event(event(), _request_timeout=5)  # the resend with the same id
    assert (len(klaviyo.sandbox.events), klaviyo.sandbox.duplicates) == (1, 1)


def test_delay_past_the_timeout_is_a_read_timeout(klaviyo: KlaviyoHarness) -> None:
    klaviyo.sandbox.faults.add("klaviyo.create_event", FaultKind.DELAY, seconds=0.8)
    with pytest.raises(urllib3.exceptions.ReadTimeoutError):
        klaviyo.client().Events.create_event(event(), _request_timeout=(5, 0.3))


def test_throttle_is_a_429_that_the_sdk_retries_after_the_wait(klaviyo: KlaviyoHarness) -> None:
    klaviyo.sandbox.faults.add("klaviyo.create_event", FaultKind.THROTTLE)
    with pytest.raises(ApiException) as caught:
        klaviyo.client().Events.create_event(event(), _request_timeout=5)
    headers = caught.value.headers or {}
    assert (caught.value.status, headers["Retry-After"]) == (429, "1")
    klaviyo.sandbox.faults.add("klaviyo.create_event", FaultKind.THROTTLE)
    started = time.monotonic()
    klaviyo.client(max_retries=2).Events.create_event(event(), _request_timeout=5)
    assert time.monotonic() - started >= 1.0
    assert len(klaviyo.sandbox.events) == 1


def test_admin_routes(klaviyo: KlaviyoHarness) -> None:
    admin = f"{klaviyo.url}/_sandbox"
    armed = requests.post(
        f"{admin}/faults",
        timeout=5,
        json={"operation": "klaviyo.create_event", "kind": "fail_before"},
    )
    assert armed.status_code == 201
    with pytest.raises(ServiceException):
        klaviyo.client().Events.create_event(event(), _request_timeout=5)
    klaviyo.client().Events.create_event(event(), _request_timeout=5)
    state = requests.get(f"{admin}/state", timeout=5).json()
    assert [e["unique_id"] for e in state["events"]] == [event()["data"]["attributes"]["unique_id"]]
    logged = requests.get(f"{admin}/requests", timeout=5).json()["requests"]
    assert [e["status"] for e in logged] == [502, 202]
    assert requests.post(f"{admin}/reset", timeout=5).status_code == 200
    assert (klaviyo.sandbox.events, klaviyo.sandbox.request_log) == ([], [])


def test_unknown_routes_answer_json_api_errors(klaviyo: KlaviyoHarness) -> None:
    response = klaviyo.http.get(f"{klaviyo.url}/api/profiles", timeout=5)
    assert response.status_code == 404
    assert response.json()["errors"][0]["status"] == 404
