"""The three stand-ins together: start them with persistent data, seed the base, stop them.

``sandbox.runner`` (the process entry point) and the demo traffic build on this module; tests and
benchmarks use it to run the stand-ins in their own process.

One set of stand-ins per data directory (``STATE_DIR/sandbox``): :func:`start` takes an
``flock`` on ``sandbox.lock`` there (held until :meth:`Sandbox.stop`, dropped by the kernel if
the process dies) and refuses with :class:`SandboxBusy` while another process holds it, so two
sets never write the same snapshots. While it runs, ``sandbox.env`` there holds its export lines
(mode 0600), so a giftbridge command started beside it uses the running stand-ins instead of
starting its own (``daemon/embedded_sandbox.py`` reads both files; they are a contract).
"""

from __future__ import annotations

import fcntl
import os
from dataclasses import dataclass
from pathlib import Path

from cards.vocab import Prong, ProngState
from config.layout import Status, Stores
from sandbox.airtable import AirtableSandbox, load_layout_json, make_airtable_app
from sandbox.credentials import SandboxCredentials, load_or_create
from sandbox.klaviyo import KlaviyoSandbox, make_klaviyo_app
from sandbox.server import ServiceThread
from sandbox.shopify import ShopifySandbox, make_shopify_app
from sandbox.shopify.oauth import DEFAULT_LIFE

DEFAULT_PORT_BASE = 8701
API_VERSION = "2025-10"
LOCK_NAME = "sandbox.lock"
RUNNING_ENV = "sandbox.env"  # the running sandbox's export lines
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


class SandboxBusy(OSError):
    """Another process runs the stand-ins on this data directory."""


class DataLock:
    """The ``flock`` that keeps one set of stand-ins per data directory."""

    def __init__(self, data: Path) -> None:
        self.path = data / LOCK_NAME
        self._fd: int | None = None

    def acquire(self) -> DataLock:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
            os.close(fd)
            raise SandboxBusy(
                f"another sandbox{f' (pid {holder})' if holder else ''} is running on "
                f"{self.path.parent}: its settings are in {self.path.parent / RUNNING_ENV}"
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


@dataclass
class Sandbox:
    """The three stand-ins, their threads and the credentials that reach them."""

    credentials: SandboxCredentials
    airtable: AirtableSandbox
    shopify: ShopifySandbox
    klaviyo: KlaviyoSandbox
    threads: tuple[ServiceThread, ServiceThread, ServiceThread]
    lock: DataLock | None = None

    def environment(self) -> dict[str, str]:
        air, shop, kla = (t.url for t in self.threads)
        c = self.credentials
        return {
            "GIFTBRIDGE_AIRTABLE_API_URL": air,
            "GIFTBRIDGE_AIRTABLE_CONTENT_URL": air,
            "GIFTBRIDGE_SHOPIFY_GRAPHQL_URL": f"{shop}/admin/api/{API_VERSION}/graphql.json",
            "GIFTBRIDGE_KLAVIYO_API_URL": kla,
            "GIFTBRIDGE_AIRTABLE_TOKEN": c.airtable_token,
            "GIFTBRIDGE_SHOPIFY_CLIENT_ID": c.shopify_client_id,
            "GIFTBRIDGE_SHOPIFY_CLIENT_SECRET": c.shopify_client_secret,
            "GIFTBRIDGE_KLAVIYO_API_KEY": c.klaviyo_api_key,
            "GIFTBRIDGE_AIRTABLE_BASE_ID": c.airtable_base_id,
            "GIFTBRIDGE_SHOPIFY_SHOP": c.shop_domain,
            "GIFTBRIDGE_CODE_PEPPER": c.code_pepper,
            "GIFTBRIDGE_CODE_KEY": c.code_key,
        }

    def export_lines(self) -> list[str]:
        return [f"export {name}='{value}'" for name, value in self.environment().items()]

    def publish(self, data: Path) -> None:
        """Write ``sandbox.env`` (0600): other giftbridge commands find the running stand-ins."""
        path = data / RUNNING_ENV
        tmp = path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(f"# giftbridge sandbox, pid {os.getpid()}\n")
            handle.write("\n".join(self.export_lines()) + "\n")
        tmp.replace(path)

    def stop(self) -> None:
        for thread in self.threads:
            thread.stop()
        self.airtable.save_snapshot()
        self.shopify.save_snapshot()
        if self.lock is not None:
            (self.lock.path.parent / RUNNING_ENV).unlink(missing_ok=True)
            self.lock.release()


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
    token_life: float = DEFAULT_LIFE,
) -> Sandbox:
    """Start the three stand-ins with persistent data under ``state_dir/sandbox`` (raises
    :class:`SandboxBusy` while another process runs them there). Shopify tokens from the client
    credentials grant live ``token_life`` seconds."""
    data = state_dir / "sandbox"
    data.mkdir(parents=True, exist_ok=True)
    lock = DataLock(data).acquire()
    try:
        sandbox = _start(data, port_base, host, currency, airtable_penalty, token_life)
    except BaseException:
        lock.release()
        raise
    sandbox.lock = lock
    sandbox.publish(data)
    return sandbox


def _start(
    data: Path,
    port_base: int,
    host: str,
    currency: str,
    airtable_penalty: float,
    token_life: float,
) -> Sandbox:
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
        client_id=creds.shopify_client_id,
        client_secret=creds.shopify_client_secret,
        token_life=token_life,
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
