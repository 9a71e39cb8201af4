"""The daemon with push, whole, against the three stand-ins over HTTP (all in this process).

:func:`sandbox_trio` starts the stand-ins (rate limits off: correctness here, speed in
``bench/bench_push.py``); :func:`running_daemon` assembles the daemon exactly as ``giftbridge
run`` does (``daemon.bootstrap.assemble``: live settings pointed at the stand-ins, push, the HTTP
endpoint) with a long tick, starts it, and stops it at the end. ``Daemon`` submits staff forms
as Airtable forms do (webhook source ``formSubmission``) and waits for the outcome.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cards.vocab import Metric
from config.layout import CreationRequests, StoreRedemptions, Stores
from config.settings import PREFIX, PushMode, Settings
from daemon import bootstrap
from daemon.metrics import Metrics
from daemon.service import Service
from sandbox.stack import Sandbox, start

FINAL = {"Done", "Rejected", "Needs Attention"}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def sandbox_trio(tmp_path: Path) -> Iterator[Sandbox]:
    sandbox = start(tmp_path / "sandbox-state", port_base=0, airtable_penalty=1.0)
    sandbox.airtable.limiter.limit = None  # correctness here; the rate limits in bench/
    try:
        yield sandbox
    finally:
        sandbox.stop()


@dataclass
class Daemon:
    sandbox: Sandbox
    service: Service
    port: int

    @property
    def base(self) -> Any:
        return self.sandbox.airtable.base()

    def store_id(self) -> str:
        return str(self.base.records(Stores.TABLE)[0]["id"])

    def form(self, table: str, fields: dict[str, Any]) -> str:
        return str(self.base.submit_form(table, fields)["id"])

    def wait_final(self, record_id: str, seconds: float = 20.0) -> tuple[dict[str, Any], float]:
        """The record once its Status is final, and the seconds that took from now."""
        started = time.monotonic()
        while True:
            fields = (self.base.record(record_id) or {}).get("fields", {})
            if fields.get("Status") in FINAL:
                return fields, time.monotonic() - started
            assert time.monotonic() - started < seconds, f"{record_id} not final: {fields}"
            time.sleep(0.02)

    def issue_card(self, amount: int = 50) -> str:
        """A card sold at the till (through the daemon); returns its code from the email."""
        record = self.form(
            CreationRequests.TABLE,
            {
                CreationRequests.PURCHASER_NAME: "Ada",
                CreationRequests.PURCHASER_EMAIL: "ada@example.com",
                CreationRequests.RECIPIENT_NAME: "Alan",
                CreationRequests.RECIPIENT_EMAIL: "alan@example.com",
                CreationRequests.IS_GIFT: True,
                CreationRequests.AMOUNT: amount,
                CreationRequests.CHANNEL: "Store",
                CreationRequests.STORE: [self.store_id()],
            },
        )
        fields, _ = self.wait_final(record)
        assert fields["Status"] == "Done", fields
        [issued] = self.sandbox.klaviyo.events_for(Metric.ISSUED.value, "alan@example.com")
        return str(issued.properties["code"])

    def redeem(self, code: str, amount: int = 1) -> str:
        return self.form(
            StoreRedemptions.TABLE,
            {
                StoreRedemptions.CODE: code,
                StoreRedemptions.AMOUNT: amount,
                StoreRedemptions.STORE: [self.store_id()],
            },
        )

    def store_runs(self) -> int:
        return next(v.runs for v in self.service.health.views() if v.name == "store-transactions")

    def wait_idle_start(self) -> None:
        """Until the start-up is over: push healthy, and the start-up runs (the first tick,
        the new webhook's full poll) and the first payload read done, nothing changing for
        longer than the rate limiter's window (a call may be waiting there)."""
        deadline = time.monotonic() + 20
        push, stable, last = self.service.push, 0, (-1, -1)
        while stable < 12 or self.payload_reads() == 0:
            assert time.monotonic() < deadline, "the daemon did not settle"
            time.sleep(0.1)
            polling = push is not None and push.loop.config.mode is PushMode.POLL
            now = (self.store_runs(), 0 if polling else self.payload_reads())
            quiet = bool(push and push.loop.view().healthy and not push.waker.pending)
            quiet = quiet and not self.service.health.running() and now == last
            stable, last = (stable + 1 if quiet else 0), now

    def payload_reads(self) -> int:
        return sum(
            1 for e in self.sandbox.airtable.request_log if e.operation == "airtable.payloads"
        )


def daemon_settings(sandbox: Sandbox, state: Path, port: int, **values: Any) -> Settings:
    env: dict[str, Any] = {
        k.removeprefix(PREFIX).lower(): v for k, v in sandbox.environment().items()
    }
    env.update(state_dir=state, http_port=port, tick_seconds=60.0, push_poll_seconds=0.5)
    env.update(values)
    return Settings(**env, _env_file=None)  # type: ignore[call-arg]


@contextmanager
def running_daemon(
    sandbox: Sandbox, state: Path, mode: PushMode = PushMode.POLL, **values: Any
) -> Iterator[Daemon]:
    port = free_port()
    if mode is PushMode.NOTIFY:
        values.setdefault("public_url", f"http://127.0.0.1:{port}")
    settings = daemon_settings(sandbox, state, port, airtable_push=mode, **values)
    assembly = bootstrap.assemble(settings, Metrics(), http=True)
    try:
        assembly.service.start()
        daemon = Daemon(sandbox, assembly.service, port)
        daemon.wait_idle_start()
        yield daemon
    finally:
        assembly.service.shutdown()
        assembly.close()
