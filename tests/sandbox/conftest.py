"""Fixtures: the Airtable and Klaviyo stand-ins on loopback, and real clients pointed at them."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import requests
from klaviyo_api import KlaviyoAPI
from pyairtable import Api, Table

from sandbox.airtable import AirtableSandbox, load_layout_json, make_airtable_app
from sandbox.klaviyo import KlaviyoSandbox, make_klaviyo_app
from sandbox.server import ServiceThread

TOKEN = "patTestToken00000.sandbox-tests"
BASE_ID = "appTestBase000001"
KLAVIYO_KEY = "pk_test_sandbox_key_0000"
KLAVIYO_HEADERS = {
    "Authorization": f"Klaviyo-API-Key {KLAVIYO_KEY}",
    "revision": "2026-07-15",
    "Content-Type": "application/vnd.api+json",
}


def event(
    unique_id: str | None = "redeem:recA1b2C3d4E5f6G7h:store",
    metric: str = "Gift Card Store Notice",
    email: str = "store@example.com",
    **attributes: Any,
) -> dict[str, Any]:
    """A Create Event body like giftbridge's; ``attributes`` override or add attributes."""
    body: dict[str, Any] = {
        "metric": {"data": {"type": "metric", "attributes": {"name": metric}}},
        "profile": {"data": {"type": "profile", "attributes": {"email": email}}},
        "properties": {"notice": "redemption", "masked_code": "••••••••7KQ2", "amount": "12.50"},
        "time": "2026-01-01T12:00:00+00:00",
        **attributes,
    }
    if unique_id is not None:
        body["unique_id"] = unique_id
    return {"data": {"type": "event", "attributes": body}}


@dataclass
class AirtableHarness:
    sandbox: AirtableSandbox
    url: str
    api: Api
    http: requests.Session  # for raw requests the client library cannot make

    def table(self, name: str) -> Table:
        return self.api.table(BASE_ID, name)

    def records_url(self, table: str) -> str:
        return f"{self.url}/v0/{BASE_ID}/{table}"


@dataclass
class KlaviyoHarness:
    sandbox: KlaviyoSandbox
    url: str
    http: requests.Session
    clients: list[KlaviyoAPI]

    def client(self, key: str = KLAVIYO_KEY, max_retries: int = 1) -> KlaviyoAPI:
        client = KlaviyoAPI(key, max_retries=max_retries, test_host=self.url)
        self.clients.append(client)
        return client


@pytest.fixture(scope="session")
def layout() -> dict[str, Any]:
    return load_layout_json()


@pytest.fixture
def airtable_factory() -> Iterator[Callable[..., AirtableHarness]]:
    """Start a stand-in with ``AirtableSandbox`` kwargs (rate limit off unless given)."""
    started: list[tuple[ServiceThread, AirtableHarness]] = []

    def start(**kwargs: Any) -> AirtableHarness:
        kwargs.setdefault("rate_limit", None)
        sandbox = AirtableSandbox(TOKEN, BASE_ID, **kwargs)
        service = ServiceThread(lambda: make_airtable_app(sandbox)).start()
        api = Api(TOKEN, endpoint_url=service.url, retry_strategy=None, timeout=(5, 5))
        harness = AirtableHarness(sandbox, service.url, api, requests.Session())
        harness.http.headers["Authorization"] = f"Bearer {TOKEN}"
        started.append((service, harness))
        return harness

    yield start
    for service, harness in started:
        harness.api.session.close()
        harness.http.close()
        service.stop()


@pytest.fixture
def airtable(
    airtable_factory: Callable[..., AirtableHarness], layout: dict[str, Any]
) -> AirtableHarness:
    return airtable_factory(layout=layout)


@pytest.fixture
def klaviyo_factory() -> Iterator[Callable[..., KlaviyoHarness]]:
    started: list[tuple[ServiceThread, KlaviyoHarness]] = []

    def start(**kwargs: Any) -> KlaviyoHarness:
        sandbox = KlaviyoSandbox(KLAVIYO_KEY, **kwargs)
        service = ServiceThread(lambda: make_klaviyo_app(sandbox)).start()
        harness = KlaviyoHarness(sandbox, service.url, requests.Session(), [])
        started.append((service, harness))
        return harness

    yield start
    for service, harness in started:
        for client in harness.clients:
            client.api_client.rest_client.pool_manager.clear()
        harness.http.close()
        service.stop()


@pytest.fixture
def klaviyo(klaviyo_factory: Callable[..., KlaviyoHarness]) -> KlaviyoHarness:
    return klaviyo_factory()
