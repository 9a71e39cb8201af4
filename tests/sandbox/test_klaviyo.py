"""The Klaviyo stand-in driven through klaviyo-api 25 (and raw HTTP where the SDK refuses)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from openapi_client.exceptions import ApiException, BadRequestException, UnauthorizedException

from tests.sandbox.conftest import KLAVIYO_HEADERS as HEADERS
from tests.sandbox.conftest import KlaviyoHarness, event


def test_accepted_event_is_recorded(klaviyo: KlaviyoHarness) -> None:
    response = klaviyo.client().Events.create_event_with_http_info(event(), _request_timeout=5)
    assert response.status_code == 202 and response.data is None
    assert response.headers["RateLimit-Limit"] == "350, 350;w=1, 3500;w=60"
    assert response.headers["RateLimit-Remaining"] == "349"
    [recorded] = klaviyo.sandbox.events
    assert (recorded.metric, recorded.email, recorded.unique_id) == (
        "Gift Card Store Notice",
        "store@example.com",
        "redeem:recA1b2C3d4E5f6G7h:store",
    )
    assert recorded.properties["masked_code"] == "••••••••7KQ2"
    assert recorded.time == "2026-01-01T12:00:00+00:00"
    assert recorded.profile == {"email": "store@example.com"}


def test_same_profile_metric_and_unique_id_is_kept_once(klaviyo: KlaviyoHarness) -> None:
    events = klaviyo.client().Events
    for payload in (event(), event(), event(email="STORE@example.com")):
        assert events.create_event(payload, _request_timeout=5) is None
    events.create_event(event(metric="Gift Card Issued"), _request_timeout=5)
    events.create_event(event(email="other@example.com"), _request_timeout=5)
    events.create_event(event(unique_id="redeem:other:store"), _request_timeout=5)
    assert len(klaviyo.sandbox.events) == 4
    assert klaviyo.sandbox.duplicates == 2
    assert len(klaviyo.sandbox.events_for(metric="Gift Card Store Notice")) == 3


def test_without_unique_id_the_time_to_the_second_dedupes(klaviyo: KlaviyoHarness) -> None:
    events = klaviyo.client().Events
    events.create_event(
        event(unique_id=None, time="2026-01-01T12:00:00.100+00:00"), _request_timeout=5
    )
    events.create_event(
        event(unique_id=None, time="2026-01-01T12:00:00.900+00:00"), _request_timeout=5
    )
    events.create_event(event(unique_id=None, time="2026-01-01T12:00:01+00:00"), _request_timeout=5)
    assert (len(klaviyo.sandbox.events), klaviyo.sandbox.duplicates) == (2, 1)


def test_wrong_key_is_401(klaviyo: KlaviyoHarness) -> None:
    with pytest.raises(UnauthorizedException) as caught:
        klaviyo.client(key="pk_wrong").Events.create_event(event(), _request_timeout=5)
    assert caught.value.status == 401
    assert klaviyo.sandbox.events == []
    missing = klaviyo.http.post(
        f"{klaviyo.url}/api/events", json=event(), timeout=5, headers={"revision": "2026-07-15"}
    )
    assert missing.status_code == 401
    assert missing.json()["errors"][0]["code"] == "not_authenticated"


@pytest.mark.parametrize("revision", [None, "", "2026-13-45", "yesterday", "2026-07-15.pre"])
def test_revision_header_is_required(klaviyo: KlaviyoHarness, revision: str | None) -> None:
    headers = {k: v for k, v in HEADERS.items() if k != "revision"}
    if revision is not None:
        headers["revision"] = revision
    response = klaviyo.http.post(
        f"{klaviyo.url}/api/events", json=event(), headers=headers, timeout=5
    )
    if revision == "2026-07-15.pre":
        assert response.status_code == 202
        return
    assert response.status_code == 400
    assert response.json()["errors"][0]["source"] == {"header": "revision"}


def _bad_request(klaviyo: KlaviyoHarness, body: Any) -> list[dict[str, Any]]:
    response = klaviyo.http.post(f"{klaviyo.url}/api/events", json=body, headers=HEADERS, timeout=5)
    assert response.status_code == 400, response.text
    assert response.headers["Content-Type"].startswith("application/vnd.api+json")
    errors: list[dict[str, Any]] = response.json()["errors"]
    assert all({"id", "code", "title", "detail"} <= e.keys() for e in errors)
    return errors


def _without(path: list[str]) -> dict[str, Any]:
    body = event()
    node = body
    for key in path[:-1]:
        node = node[key]
    del node[path[-1]]
    return body


@pytest.mark.parametrize(
    ("body", "pointer"),
    [
        (_without(["data", "attributes", "profile"]), "/data/attributes/profile"),
        (
            _without(["data", "attributes", "metric", "data", "attributes", "name"]),
            "/data/attributes/metric/data/attributes/name",
        ),
        (_without(["data", "type"]), "/data/type"),
        ({"data": {**event()["data"], "type": "events"}}, "/data/type"),
        (event(value="12.50"), "/data/attributes/value"),
        (event(surprise=1), "/data/attributes/surprise"),
        (event(properties=[1]), "/data/attributes/properties"),
        (event(time="next tuesday"), "/data/attributes/time"),
        (event(time="1985-01-01T00:00:00Z"), "/data/attributes/time"),
        (event(email="not-an-email"), "/data/attributes/profile/data/attributes/email"),
        (event(value_currency="dollars"), "/data/attributes/value_currency"),
        (event(properties={f"k{i}": i for i in range(401)}), "/data/attributes/properties"),
        (event(properties={"big": "x" * 102_401}), "/data/attributes/properties/big"),
    ],
)
def test_schema_failures_name_the_bad_path(
    klaviyo: KlaviyoHarness, body: dict[str, Any], pointer: str
) -> None:
    errors = _bad_request(klaviyo, body)
    assert pointer in [e["source"]["pointer"] for e in errors]
    assert klaviyo.sandbox.events == []


def test_profile_needs_an_identifier(klaviyo: KlaviyoHarness) -> None:
    body = event()
    body["data"]["attributes"]["profile"]["data"]["attributes"] = {"first_name": "Ann"}
    [error] = _bad_request(klaviyo, body)
    assert error["source"]["pointer"] == "/data/attributes/profile/data/attributes"


def test_sdk_payloads_the_server_refuses_are_bad_requests(klaviyo: KlaviyoHarness) -> None:
    with pytest.raises(BadRequestException) as caught:
        klaviyo.client().Events.create_event(event(metric="M" * 128), _request_timeout=5)
    assert "/data/attributes/metric/data/attributes/name" in str(caught.value.body)


def test_burst_limit_answers_429_with_retry_after(
    klaviyo_factory: Callable[..., KlaviyoHarness],
) -> None:
    klaviyo = klaviyo_factory(burst_limit=2, burst_window=3600.0, steady_limit=None)
    events = klaviyo.client().Events
    events.create_event(event(unique_id="a"), _request_timeout=5)
    events.create_event(event(unique_id="b"), _request_timeout=5)
    with pytest.raises(ApiException) as caught:
        events.create_event(event(unique_id="c"), _request_timeout=5)
    headers = caught.value.headers or {}
    assert caught.value.status == 429
    assert 1 <= int(headers["Retry-After"]) <= 3600
    assert "RateLimit-Remaining" not in headers
    assert [e.unique_id for e in klaviyo.sandbox.events] == ["a", "b"]


def test_steady_limit_binds_under_the_burst_limit(
    klaviyo_factory: Callable[..., KlaviyoHarness],
) -> None:
    klaviyo = klaviyo_factory(burst_limit=10, steady_limit=3, steady_window=3600.0)
    statuses = []
    for index in range(4):
        response = klaviyo.http.post(
            f"{klaviyo.url}/api/events",
            headers=HEADERS,
            timeout=5,
            json=event(unique_id=str(index)),
        )
        statuses.append(response.status_code)
    assert statuses == [202, 202, 202, 429]
