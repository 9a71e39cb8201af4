"""The Klaviyo adapter: payload shape (unit) and, against the Klaviyo sandbox, dedupe, faults,
timeouts and the single retry layer."""

from __future__ import annotations

import socket
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
import urllib3.exceptions
from openapi_client.exceptions import ApiException

from cards.vocab import Metric
from clients.errors import AmbiguousOutcome, Permanent, RateLimited, Retryable
from clients.klaviyo import event_payload, translate
from clients.records import EmailEvent
from tests.clients.conftest import KlaviyoRig, fast_policy, open_limiters

WHEN = datetime(2026, 11, 22, 12, 30, 15, 987654, tzinfo=timezone(timedelta(hours=1)))


def notice(unique_id: str = "redeem:recA1b2C3d4E5f6G7h:store") -> EmailEvent:
    return EmailEvent(
        Metric.STORE_NOTICE,
        "store@example.com",
        unique_id,
        {
            "notice": "redemption",
            "outcome": "Success",
            "masked_code": "••••••••7KQ2",
            "amount": "12.50",
            "currency": "USD",
            "balance_after": "37.50",
            "request_id": "recA1b2C3d4E5f6G7h",
            "message": None,
        },
        WHEN,
    )


def test_the_payload_is_json_api_with_the_unique_id_and_a_utc_second() -> None:
    body = event_payload(notice())
    attributes = body["data"]["attributes"]
    assert body["data"]["type"] == "event"
    assert attributes["metric"]["data"]["attributes"]["name"] == "Gift Card Store Notice"
    assert attributes["profile"]["data"]["attributes"] == {"email": "store@example.com"}
    assert attributes["unique_id"] == "redeem:recA1b2C3d4E5f6G7h:store"
    assert attributes["time"] == "2026-11-22T11:30:15+00:00"
    assert attributes["properties"]["balance_after"] == "37.50"


def test_library_failures_translate_by_class() -> None:
    headers: Any = {"Retry-After": "7"}
    too_many = ApiException(status=429)
    too_many.headers = headers
    limited = translate(too_many)
    assert isinstance(limited, RateLimited) and limited.retry_after == 7.0
    assert isinstance(translate(ApiException(status=503)), AmbiguousOutcome)
    assert isinstance(translate(ApiException(status=400)), Permanent)
    assert isinstance(translate(ApiException(status=0)), Retryable)
    refused = urllib3.exceptions.NewConnectionError(None, "refused")  # type: ignore[arg-type]
    assert isinstance(
        translate(urllib3.exceptions.MaxRetryError(None, "/", refused)),  # type: ignore[arg-type]
        Retryable,
    )
    read = urllib3.exceptions.ReadTimeoutError(None, "/", "timed out")  # type: ignore[arg-type]
    assert isinstance(translate(read), AmbiguousOutcome)
    assert isinstance(translate(urllib3.exceptions.ProtocolError("reset")), AmbiguousOutcome)


@pytest.mark.slow
def test_an_event_reaches_klaviyo_and_a_repeat_is_dropped(klaviyo: KlaviyoRig) -> None:
    adapter = klaviyo.adapter()
    adapter.send(notice())
    adapter.send(notice())
    (event,) = klaviyo.sandbox.events
    assert event.unique_id == "redeem:recA1b2C3d4E5f6G7h:store"
    assert event.properties["masked_code"] == "••••••••7KQ2"
    assert klaviyo.sandbox.duplicates == 1


@pytest.mark.slow
def test_a_lost_response_is_resent_with_the_same_unique_id(klaviyo: KlaviyoRig) -> None:
    adapter = klaviyo.adapter()
    klaviyo.sandbox.faults.add("klaviyo.create_event", "drop_after")
    adapter.send(notice())
    assert len(klaviyo.sandbox.events) == 1 and klaviyo.sandbox.duplicates == 1


@pytest.mark.slow
def test_a_429_waits_for_retry_after_and_silences_the_limiter(klaviyo: KlaviyoRig) -> None:
    limiters = open_limiters()
    adapter = klaviyo.adapter(limiters=limiters, retry=fast_policy(attempts=1))
    klaviyo.sandbox.faults.add("klaviyo.create_event", "throttle")
    with pytest.raises(RateLimited) as caught:
        adapter.send(notice())
    assert caught.value.retry_after == 1.0
    assert limiters.klaviyo.silent_for() > 0.5
    retrying = klaviyo.adapter(limiters=limiters)
    retrying.send(notice("redeem:recA1b2C3d4E5f6G7h:store2"))
    assert len(klaviyo.sandbox.events) == 1


@pytest.mark.slow
def test_server_errors_and_hangs_are_ambiguous(klaviyo: KlaviyoRig) -> None:
    adapter = klaviyo.adapter(retry=fast_policy(attempts=1), call_timeout_seconds=0.3)
    klaviyo.sandbox.faults.add("klaviyo.create_event", "fail_before")
    with pytest.raises(AmbiguousOutcome):
        adapter.send(notice())
    klaviyo.sandbox.faults.add("klaviyo.create_event", "delay", seconds=1.0)
    with pytest.raises(AmbiguousOutcome):
        adapter.send(notice())
    patient = klaviyo.adapter()
    klaviyo.sandbox.faults.add("klaviyo.create_event", "fail_before")
    patient.send(notice())  # retried: safe with the same unique_id
    assert len(klaviyo.sandbox.events) >= 1


@pytest.mark.slow
def test_an_invalid_event_is_permanent_and_never_sent(klaviyo: KlaviyoRig) -> None:
    adapter = klaviyo.adapter()
    bad = EmailEvent(Metric.BALANCE, "", "balance:recA1b2C3d4E5f6G7h:customer", {}, WHEN)
    with pytest.raises(Permanent):
        adapter.send(bad)
    assert klaviyo.sandbox.events == []


@pytest.mark.slow
def test_connection_refused_is_retryable_and_the_sdk_does_not_retry_it_itself(
    klaviyo: KlaviyoRig,
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    rig = KlaviyoRig(klaviyo.sandbox, f"http://127.0.0.1:{port}", klaviyo.closers)
    adapter = rig.adapter(retry=fast_policy(attempts=1))
    started = datetime.now(UTC)
    with pytest.raises(Retryable):
        adapter.send(notice())
    assert datetime.now(UTC) - started < timedelta(seconds=1)
    pool = adapter._client.api_client.rest_client.pool_manager
    assert pool.connection_pool_kw["retries"].total is False  # urllib3 retries nothing
