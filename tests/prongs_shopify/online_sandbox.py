"""End-to-end harness: the three stand-ins on loopback, the real adapters, the real prongs.

Used by ``tests/e2e/test_online_*.py``. Every call goes over HTTP through the adapters built by
``clients.factory`` (the daemon's own builders), so these tests cover the wire formats, the
adapters' parsing (receipt JSON, financial status, custom attributes) and the prongs together.
Rate limits are off and penalties short: correctness here, speed in ``bench/``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from cryptography.fernet import Fernet
from pydantic import SecretStr

from cards.vocab import Channel, Kind, Metric
from clients.airtable_budget import airtable_limiter
from clients.factory import (
    Limiters,
    build_airtable,
    build_certificates,
    build_email,
    build_shopify,
)
from config.layout import CreationRequests, StoreRedemptions, Stores
from config.settings import Settings
from daemon.clock import SystemClock
from prongs.card_locks import CardLocks
from prongs.deps import CardConfig, Deps
from prongs.orders_sweep import RefundSweep
from prongs.report import Budget, OpenGate, RunReport
from prongs.shopify_purchases import PurchasesConfig
from prongs.shopify_purchases import run_once as purchases_once
from prongs.shopify_redemptions import RedemptionsConfig
from prongs.shopify_redemptions import run_once as redemptions_once
from prongs.store_context import StoreConfig
from prongs.store_transactions import run_once as store_once
from sandbox.airtable import AirtableSandbox, BaseHandle, load_layout_json, make_airtable_app
from sandbox.klaviyo import KlaviyoSandbox, make_klaviyo_app
from sandbox.server import ServiceThread
from sandbox.shopify import ShopifySandbox, make_shopify_app
from tests.configs import airtable_config, klaviyo_config, shopify_config

AIRTABLE_TOKEN = "patE2eOnline00000.sandbox"
BASE_ID = "appE2eOnline00001"
SHOPIFY_TOKEN = "shpat_e2e_online"
KLAVIYO_KEY = "pk_e2e_online_000000"
SKU = "GC-50"
API_PATH = "/admin/api/2025-10/graphql.json"


@dataclass
class Online:
    airtable_sandbox: AirtableSandbox
    shop: ShopifySandbox
    klaviyo: KlaviyoSandbox
    base: BaseHandle
    settings: Settings
    deps: Deps
    refund_sweep: RefundSweep  # the redemptions prong's, kept across its runs
    store_id: str

    # --- the three prongs, once each --------------------------------------------------------
    def _budget(self) -> Budget:
        return Budget(self.deps.clock, 60)

    def purchases(self) -> RunReport:
        config = PurchasesConfig(
            card=self.card_config,
            gift_card_skus=self.settings.gift_card_skus,
            processed_tag=self.settings.processed_tag,
            order_window_days=self.settings.order_window_days,
        )
        return purchases_once(self.deps, config, self._budget(), OpenGate())

    def redemptions(self) -> RunReport:
        config = RedemptionsConfig(
            currency=self.settings.currency,
            redeemed_tag=self.settings.redeemed_tag,
            order_window_days=self.settings.order_window_days,
        )
        return redemptions_once(
            self.deps, config, self._budget(), OpenGate(), sweep=self.refund_sweep
        )

    def store(self) -> RunReport:
        config = StoreConfig(card=self.card_config)
        return store_once(self.deps, config, self._budget(), OpenGate())

    @property
    def card_config(self) -> CardConfig:
        s = self.settings
        assert s.code_pepper is not None and s.code_key is not None
        return CardConfig(
            currency=s.currency,
            business_name=s.business_name,
            code_length=s.code_length,
            limits=s.amount_limits,
            expiry=s.expiry,
            pepper=s.code_pepper.get_secret_value(),
            code_key=s.code_key.get_secret_value(),
            email_retry_seconds=0.01,
        )

    # --- what people do -------------------------------------------------------------------------
    def redeem_at_till(self, code: str, amount: str) -> str:
        (record,) = self.base.create(
            StoreRedemptions.TABLE,
            [
                {
                    StoreRedemptions.CODE: code,
                    StoreRedemptions.STORE: [self.store_id],
                    StoreRedemptions.AMOUNT: float(Decimal(amount)),
                    StoreRedemptions.STAFF_NAME: "Sam",
                }
            ],
        )
        return str(record["id"])

    def sell_at_till(self, amount: str, email: str) -> str:
        (record,) = self.base.create(
            CreationRequests.TABLE,
            [
                {
                    CreationRequests.PURCHASER_NAME: "Walk In",
                    CreationRequests.PURCHASER_EMAIL: email,
                    CreationRequests.AMOUNT: float(Decimal(amount)),
                    CreationRequests.KIND: Kind.GIFT_CARD.value,
                    CreationRequests.CHANNEL: Channel.STORE.value,
                    CreationRequests.STORE: [self.store_id],
                }
            ],
        )
        return str(record["id"])

    def record(self, record_id: str) -> dict[str, Any]:
        found = self.base.record(record_id)
        assert found is not None, record_id
        return dict(found["fields"])

    def rows(self, table: str) -> list[dict[str, Any]]:
        return [dict(r["fields"], id=r["id"]) for r in self.base.records(table)]

    def issued_code(self, email: str) -> str:
        """The code the holder received (the only place a plaintext code goes)."""
        (event,) = self.klaviyo.events_for(Metric.ISSUED.value, email)
        return str(event.properties["code"])


def _settings(airtable_url: str, shopify_url: str, klaviyo_url: str) -> Settings:
    return Settings(
        airtable_token=SecretStr(AIRTABLE_TOKEN),
        shopify_access_token=SecretStr(SHOPIFY_TOKEN),
        klaviyo_api_key=SecretStr(KLAVIYO_KEY),
        airtable_base_id=BASE_ID,
        airtable_api_url=airtable_url,
        airtable_content_url=airtable_url,
        shopify_graphql_url=shopify_url + API_PATH,
        klaviyo_api_url=klaviyo_url,
        code_pepper=SecretStr("e2e-pepper-" + "x" * 32),
        code_key=SecretStr(Fernet.generate_key().decode()),
        shopify_gift_card_skus=SKU,
        call_timeout_seconds=5,
        run_budget_seconds=30,
        lease_seconds=60,
        _env_file=None,  # type: ignore[call-arg]
    )


@contextmanager
def online() -> Iterator[Online]:
    """Start the stand-ins and the adapters; stop and close everything afterwards."""
    with ExitStack() as stack:
        airtable = AirtableSandbox(
            AIRTABLE_TOKEN, BASE_ID, rate_limit=None, layout=load_layout_json()
        )
        shop = ShopifySandbox(SHOPIFY_TOKEN)
        klaviyo = KlaviyoSandbox(KLAVIYO_KEY, burst_limit=None, steady_limit=None)
        urls = []
        for factory in (
            lambda: make_airtable_app(airtable),
            lambda: make_shopify_app(shop),
            lambda: make_klaviyo_app(klaviyo),
        ):
            service = ServiceThread(factory).start()
            stack.callback(service.stop)
            urls.append(service.url)
        settings = _settings(*urls)
        limiters = Limiters(airtable=airtable_limiter(200))  # the stand-in's limit is off too
        airtable_port = build_airtable(
            airtable_config(settings, AIRTABLE_TOKEN, penalty=0.1), limiters
        )
        shopify_port = build_shopify(shopify_config(settings, SHOPIFY_TOKEN), limiters)
        stack.callback(shopify_port.close)
        email_port = build_email(klaviyo_config(settings, KLAVIYO_KEY), limiters)
        _close_later(stack, airtable_port, email_port)
        deps = Deps(
            airtable_port,
            shopify_port,
            email_port,
            build_certificates(),
            SystemClock(),
            CardLocks(),
        )
        base = airtable.base(BASE_ID)
        (store,) = base.create(
            Stores.TABLE,
            [{Stores.NAME: "Main Street", Stores.EMAIL: "store@example.com", Stores.ACTIVE: True}],
        )
        yield Online(
            airtable,
            shop,
            klaviyo,
            base,
            settings,
            deps,
            RefundSweep(),
            str(store["id"]),
        )


def _close_later(stack: ExitStack, *ports: object) -> None:
    for port in ports:
        close = getattr(port, "close", None)
        if callable(close):
            stack.callback(close)
