"""Fixtures: the three sandboxes on loopback and giftbridge's real adapters pointed at them.

Each rig starts its stand-in on a free port, builds adapters through ``clients.factory`` (as
the composition root does) with a fast retry policy and short penalties, and closes everything
at the end of the test so that no socket or event loop outlives it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from clients.airtable import AirtableAdapter
from clients.base_admin import BaseAdmin
from clients.factory import Limiters, build_airtable, build_base_admin, build_email, build_shopify
from clients.klaviyo import KlaviyoEmail
from clients.ratelimit import CostBucket, Window, WindowLimiter
from clients.retry import RetryPolicy
from clients.shopify import ShopifyAdapter
from config.settings import Settings, load_settings
from sandbox.airtable import AirtableSandbox, BaseHandle, load_layout_json, make_airtable_app
from sandbox.klaviyo import KlaviyoSandbox, make_klaviyo_app
from sandbox.server import ServiceThread
from sandbox.shopify import ShopifySandbox, admin_schema, make_shopify_app
from tests.configs import airtable_config, klaviyo_config, shopify_config

AIRTABLE_TOKEN = "patClientsTest000.clients-tests"
BASE_ID = "appClientsTest001"
SHOPIFY_TOKEN = "shpat_clients_test"
KLAVIYO_KEY = "pk_clients_test_0000000000"


def fast_policy(attempts: int = 3, deadline: float = 5.0) -> RetryPolicy:
    return RetryPolicy(attempts=attempts, deadline=deadline, base_delay=0.01, max_delay=0.05)


def open_limiters() -> Limiters:
    """Limiters that never get in the way (the rate-limit tests build their own)."""
    return Limiters(
        airtable=WindowLimiter("airtable", [Window(10_000, 1.0)]),
        shopify=CostBucket("shopify", maximum=1000.0, restore_rate=1000.0),
        klaviyo=WindowLimiter("klaviyo", [Window(10_000, 1.0)]),
    )


def settings(**values: Any) -> Settings:
    values.setdefault("call_timeout_seconds", 2.0)
    return load_settings(_env_file=None, **values)


@dataclass
class AirtableRig:
    sandbox: AirtableSandbox
    url: str
    closers: list[Callable[[], None]] = field(default_factory=list)

    @property
    def base(self) -> BaseHandle:
        return self.sandbox.base(BASE_ID)

    def settings(self, **values: Any) -> Settings:
        values.setdefault("airtable_api_url", self.url)
        values.setdefault("airtable_content_url", self.url)
        values.setdefault("airtable_base_id", BASE_ID)
        return settings(**values)

    def adapter(
        self,
        *,
        limiters: Limiters | None = None,
        retry: RetryPolicy | None = None,
        penalty: float = 0.3,
        **values: Any,
    ) -> AirtableAdapter:
        adapter = build_airtable(
            airtable_config(
                self.settings(**values),
                AIRTABLE_TOKEN,
                retry=retry or fast_policy(),
                penalty=penalty,
            ),
            limiters or open_limiters(),
        )
        self.closers.append(adapter.close)
        return adapter

    def admin(self, **values: Any) -> BaseAdmin:
        admin = build_base_admin(
            airtable_config(self.settings(**values), AIRTABLE_TOKEN, retry=fast_policy()),
            open_limiters(),
        )
        self.closers.append(admin.close)
        return admin


@pytest.fixture
def closers() -> Iterator[list[Any]]:
    """Adapters a test built; closed after it."""
    adapters: list[Any] = []
    yield adapters
    for adapter in adapters:
        adapter.close()


@pytest.fixture(scope="session")
def layout_json() -> dict[str, Any]:
    return load_layout_json()


@pytest.fixture
def airtable_factory(layout_json: dict[str, Any]) -> Iterator[Callable[..., AirtableRig]]:
    """``start(empty=False, **AirtableSandbox kwargs)``; the sandbox's rate limit is off unless
    given."""
    started: list[tuple[ServiceThread, AirtableRig]] = []

    def start(*, empty: bool = False, **kwargs: Any) -> AirtableRig:
        kwargs.setdefault("rate_limit", None)
        sandbox = AirtableSandbox(
            AIRTABLE_TOKEN, BASE_ID, layout=None if empty else layout_json, **kwargs
        )
        service = ServiceThread(lambda: make_airtable_app(sandbox)).start()
        rig = AirtableRig(sandbox, service.url)
        started.append((service, rig))
        return rig

    yield start
    for service, rig in started:
        for close in rig.closers:
            close()
        service.stop()


@pytest.fixture
def airtable(airtable_factory: Callable[..., AirtableRig]) -> AirtableRig:
    return airtable_factory()


@dataclass
class ShopifyRig:
    shop: ShopifySandbox
    url: str
    closers: list[Callable[[], None]] = field(default_factory=list)

    @property
    def graphql_url(self) -> str:
        return f"{self.url}/admin/api/2025-10/graphql.json"

    def adapter(
        self,
        *,
        limiters: Limiters | None = None,
        retry: RetryPolicy | None = None,
        **values: Any,
    ) -> ShopifyAdapter:
        adapter = build_shopify(
            shopify_config(
                settings(shopify_graphql_url=self.graphql_url, **values),
                SHOPIFY_TOKEN,
                retry=retry or fast_policy(),
            ),
            limiters or open_limiters(),
        )
        self.closers.append(adapter.close)
        return adapter


@pytest.fixture
def shopify_factory() -> Iterator[Callable[..., ShopifyRig]]:
    admin_schema()  # built once per process (~2 s): not inside a call's timeout
    started: list[tuple[ServiceThread, ShopifyRig]] = []

    def start(**kwargs: Any) -> ShopifyRig:
        shop = ShopifySandbox(SHOPIFY_TOKEN, **kwargs)
        service = ServiceThread(lambda: make_shopify_app(shop)).start()
        rig = ShopifyRig(shop, service.url)
        started.append((service, rig))
        return rig

    yield start
    for service, rig in started:
        for close in rig.closers:
            close()
        service.stop()


@pytest.fixture
def shopify(shopify_factory: Callable[..., ShopifyRig]) -> ShopifyRig:
    return shopify_factory()


@dataclass
class KlaviyoRig:
    sandbox: KlaviyoSandbox
    url: str
    closers: list[Callable[[], None]] = field(default_factory=list)

    def adapter(
        self,
        *,
        limiters: Limiters | None = None,
        retry: RetryPolicy | None = None,
        **values: Any,
    ) -> KlaviyoEmail:
        adapter = build_email(
            klaviyo_config(
                settings(klaviyo_api_url=self.url, **values),
                KLAVIYO_KEY,
                retry=retry or fast_policy(),
            ),
            limiters or open_limiters(),
        )
        self.closers.append(adapter.close)
        return adapter


@pytest.fixture
def klaviyo_factory() -> Iterator[Callable[..., KlaviyoRig]]:
    started: list[tuple[ServiceThread, KlaviyoRig]] = []

    def start(**kwargs: Any) -> KlaviyoRig:
        sandbox = KlaviyoSandbox(KLAVIYO_KEY, **kwargs)
        service = ServiceThread(lambda: make_klaviyo_app(sandbox)).start()
        rig = KlaviyoRig(sandbox, service.url)
        started.append((service, rig))
        return rig

    yield start
    for service, rig in started:
        for close in rig.closers:
            close()
        service.stop()


@pytest.fixture
def klaviyo(klaviyo_factory: Callable[..., KlaviyoRig]) -> KlaviyoRig:
    return klaviyo_factory()
