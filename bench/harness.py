"""What the benchmarks share: the three sandboxes in this process with their real limits, and the
real adapters (``clients.factory``) over one set of shared limiters, as the daemon builds them.

Benchmarks are run on demand (``.venv/bin/python -m bench.<name>``), never as tests.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from clients.airtable import AirtableAdapter
from clients.airtable_errors import DEFAULT_PENALTY
from clients.factory import (
    Limiters,
    build_airtable,
    build_certificates,
    build_email,
    build_shopify,
)
from clients.klaviyo import KlaviyoEmail
from clients.shopify import ShopifyAdapter
from config.settings import PREFIX, Settings
from daemon import bootstrap
from daemon.clock import SystemClock
from prongs.card_locks import CardLocks
from prongs.deps import CardConfig, Deps
from prongs.store_context import StoreConfig
from sandbox.airtable import AirtableSandbox, load_layout_json, make_airtable_app
from sandbox.credentials import SandboxCredentials
from sandbox.klaviyo import KlaviyoSandbox, make_klaviyo_app
from sandbox.server import ServiceThread
from sandbox.shopify import ShopifySandbox, make_shopify_app
from sandbox.stack import Sandbox, seed_base


def settings_for(sandbox: Sandbox) -> Settings:
    env = sandbox.environment().items()
    values: dict[str, Any] = {k.removeprefix(PREFIX).lower(): v for k, v in env}
    return Settings(**values, _env_file=None)  # type: ignore[call-arg]


@dataclass
class Adapters:
    airtable: AirtableAdapter
    shopify: ShopifyAdapter
    email: KlaviyoEmail

    def close(self) -> None:
        for adapter in (self.airtable, self.shopify, self.email):
            adapter.close()


def build(
    sandbox: Sandbox,
    settings: Settings,
    *,
    penalty: float = DEFAULT_PENALTY,
    **store: Any,
) -> tuple[Adapters, Deps, StoreConfig]:
    """Adapters, ports and the store prong's configuration; ``store`` overrides StoreConfig's
    defaults (e.g. ``max_records_per_run``)."""
    c = sandbox.credentials
    configs = bootstrap.adapter_configs(settings)  # as the daemon's, with the bench's penalty
    # Airtable's budget in a file, as every giftbridge process shares it (a fresh directory:
    # never the budget of a daemon running here)
    state = Path(tempfile.mkdtemp(prefix="giftbridge-bench-"))
    limiters = Limiters.for_base(state, configs.airtable.base_id)
    adapters = Adapters(
        build_airtable(replace(configs.airtable, penalty=penalty), limiters),
        build_shopify(configs.shopify, limiters),
        build_email(configs.klaviyo, limiters),
    )
    deps = Deps(
        airtable=adapters.airtable,
        shopify=adapters.shopify,
        email=adapters.email,
        certificates=build_certificates(),
        clock=SystemClock(),
        card_locks=CardLocks(),
    )
    card = CardConfig(
        currency=settings.currency,
        business_name=settings.business_name,
        code_length=settings.code_length,
        limits=settings.amount_limits,
        expiry=settings.expiry,
        pepper=c.code_pepper,
        code_key=c.code_key,
    )
    return adapters, deps, StoreConfig(card=card, **store)


def start_in_memory(*, airtable_penalty: float = DEFAULT_PENALTY, currency: str = "USD") -> Sandbox:
    """The three stand-ins on free loopback ports with their real limits and no snapshot files
    (a snapshot would rewrite the whole shop on every debit and skew the timing)."""
    creds = SandboxCredentials.generate()
    airtable = AirtableSandbox(
        creds.airtable_token,
        creds.airtable_base_id,
        layout=load_layout_json(),
        penalty_seconds=airtable_penalty,
    )
    seed_base(airtable)
    shopify = ShopifySandbox(
        creds.shopify_access_token,
        creds.shop_domain,
        currency=currency,
        client_id=creds.shopify_client_id,
        client_secret=creds.shopify_client_secret,
    )
    klaviyo = KlaviyoSandbox(creds.klaviyo_api_key)
    started: list[ServiceThread] = []
    try:
        for factory in (
            lambda: make_airtable_app(airtable),
            lambda: make_shopify_app(shopify),
            lambda: make_klaviyo_app(klaviyo),
        ):
            started.append(ServiceThread(factory).start())
    except BaseException:
        for thread in started:
            thread.stop()
        raise
    threads = (started[0], started[1], started[2])
    return Sandbox(creds, airtable, shopify, klaviyo, threads)
