"""The three stand-ins together: start them with persistent data, seed the base, stop them.

``sandbox.runner`` (the process entry point) and the demo traffic build on this module; tests and
benchmarks use it to run the stand-ins in their own process.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from cards.vocab import Prong, ProngState
from config.layout import Status, Stores
from sandbox.airtable import AirtableSandbox, load_layout_json, make_airtable_app
from sandbox.credentials import SandboxCredentials, load_or_create
from sandbox.klaviyo import KlaviyoSandbox, make_klaviyo_app
from sandbox.server import ServiceThread
from sandbox.shopify import ShopifySandbox, make_shopify_app

DEFAULT_PORT_BASE = 8701
API_VERSION = "2025-10"
DEMO_STORES = (
    {
        Stores.NAME: "Downtown",
        Stores.EMAIL: "downtown@store.example",
        Stores.LOCATION_CODE: "DT",
        Stores.ACTIVE: True,
    },
    {
        Stores.NAME: "Harbour",
        Stores.EMAIL: "harbour@store.example",
        Stores.LOCATION_CODE: "HB",
        Stores.ACTIVE: True,
    },
)


@dataclass
class Sandbox:
    """The three stand-ins, their threads and the credentials that reach them."""

    credentials: SandboxCredentials
    airtable: AirtableSandbox
    shopify: ShopifySandbox
    klaviyo: KlaviyoSandbox
    threads: tuple[ServiceThread, ServiceThread, ServiceThread]

    def environment(self) -> dict[str, str]:
        air, shop, kla = (t.url for t in self.threads)
        c = self.credentials
        return {
            "GIFTBRIDGE_AIRTABLE_API_URL": air,
            "GIFTBRIDGE_AIRTABLE_CONTENT_URL": air,
            "GIFTBRIDGE_SHOPIFY_GRAPHQL_URL": f"{shop}/admin/api/{API_VERSION}/graphql.json",
            "GIFTBRIDGE_KLAVIYO_API_URL": kla,
            "GIFTBRIDGE_AIRTABLE_TOKEN": c.airtable_token,
            "GIFTBRIDGE_SHOPIFY_ACCESS_TOKEN": c.shopify_access_token,
            "GIFTBRIDGE_KLAVIYO_API_KEY": c.klaviyo_api_key,
            "GIFTBRIDGE_AIRTABLE_BASE_ID": c.airtable_base_id,
            "GIFTBRIDGE_SHOPIFY_SHOP": c.shop_domain,
            "GIFTBRIDGE_CODE_PEPPER": c.code_pepper,
            "GIFTBRIDGE_CODE_KEY": c.code_key,
        }

    def stop(self) -> None:
        for thread in self.threads:
            thread.stop()
        self.airtable.save_snapshot()
        self.shopify.save_snapshot()


def seed_base(airtable: AirtableSandbox) -> None:
    """Stores and one Status row per prong, unless the base already has them."""
    base = airtable.base()
    if not base.records(Stores.TABLE):
        base.create(Stores.TABLE, list(DEMO_STORES))
    known = {r["fields"].get(Status.PRONG) for r in base.records(Status.TABLE)}
    missing = [p.value for p in Prong if p.value not in known]
    if missing:
        base.create(
            Status.TABLE,
            [{Status.PRONG: p, Status.STATE: ProngState.OFFLINE.value} for p in missing],
        )


def start(
    state_dir: Path,
    port_base: int = DEFAULT_PORT_BASE,
    *,
    host: str = "127.0.0.1",
    currency: str = "USD",
    airtable_penalty: float = 30.0,
) -> Sandbox:
    """Start the three stand-ins with persistent data under ``state_dir/sandbox``."""
    data = state_dir / "sandbox"
    data.mkdir(parents=True, exist_ok=True)
    creds = load_or_create(data)
    airtable = AirtableSandbox(
        creds.airtable_token,
        creds.airtable_base_id,
        layout=load_layout_json(),
        penalty_seconds=airtable_penalty,
        snapshot_path=data / "airtable.json",
    )
    seed_base(airtable)
    shopify = ShopifySandbox(
        creds.shopify_access_token,
        creds.shop_domain,
        currency=currency,
        snapshot_path=data / "shopify.json",
    )
    klaviyo = KlaviyoSandbox(creds.klaviyo_api_key)
    threads = (
        ServiceThread(lambda: make_airtable_app(airtable), host, port_base),
        ServiceThread(lambda: make_shopify_app(shopify), host, port_base + 1 if port_base else 0),
        ServiceThread(lambda: make_klaviyo_app(klaviyo), host, port_base + 2 if port_base else 0),
    )
    started: list[ServiceThread] = []
    try:
        for thread in threads:
            started.append(thread.start())
    except OSError:
        for thread in started:
            thread.stop()
        raise
    return Sandbox(creds, airtable, shopify, klaviyo, threads)
