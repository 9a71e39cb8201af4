"""A push loop over the real webhook adapter and the Airtable stand-in, stepped by hand.

The loop's own timing runs on a manual monotonic clock (``rig.advance``), while ``now()`` is the
real time, which the stand-in's webhook expiry times are compared with. No thread, no
scheduler: ``rig.step()`` is one pass of the push thread, and the waker's flag shows whether the
store prong would have been woken.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry

from clients.airtable_webhooks import AirtableWebhooks
from clients.factory import build_webhooks
from config.layout import BalanceChecks, CardActions, CreationRequests, StoreRedemptions
from config.settings import PushMode
from daemon.push import PushConfig, PushLoop
from daemon.push_keeper import WebhookKeeper
from daemon.push_metrics import PushMetrics
from daemon.push_schedule import StoreWaker
from daemon.push_state import WebhookStateFile
from sandbox.airtable import AirtableSandbox, BaseHandle, load_layout_json, make_airtable_app
from sandbox.server import ServiceThread
from tests.clients.conftest import AIRTABLE_TOKEN, BASE_ID, open_limiters, settings
from tests.configs import airtable_config

REQUESTS = (StoreRedemptions.TABLE, CreationRequests.TABLE, BalanceChecks.TABLE, CardActions.TABLE)


class SteppedClock:
    """Real wall time, manual monotonic time."""

    def __init__(self) -> None:
        self.mono = 1000.0

    def now(self) -> datetime:
        return datetime.now(UTC)

    def monotonic(self) -> float:
        return self.mono

    def sleep(self, seconds: float) -> None:
        self.mono += seconds


@dataclass
class PushRig:
    sandbox: AirtableSandbox
    url: str
    state_dir: Path
    clock: SteppedClock = field(default_factory=SteppedClock)
    health: list[bool] = field(default_factory=list)
    alerts: list[str] = field(default_factory=list)
    closers: list[Callable[[], None]] = field(default_factory=list)

    @property
    def base(self) -> BaseHandle:
        return self.sandbox.base(BASE_ID)

    def port(self) -> AirtableWebhooks:
        adapter = build_webhooks(
            airtable_config(
                settings(
                    airtable_api_url=self.url, airtable_base_id=BASE_ID, call_timeout_seconds=2
                ),
                AIRTABLE_TOKEN,
                penalty=0.1,
            ),
            open_limiters(),
        )
        self.closers.append(adapter.close)
        return adapter

    def loop(
        self, mode: PushMode = PushMode.POLL, url: str | None = None, **config: Any
    ) -> PushLoop:
        """A fresh loop (a daemon start) over the same state directory."""
        keeper = WebhookKeeper(
            self.port(),
            WebhookStateFile(self.state_dir),
            self.clock,
            base_id=BASE_ID,
            notification_url=url,
            request_tables=REQUESTS,
        )
        return PushLoop(
            PushConfig(mode, **config),
            keeper,
            StoreWaker(self.clock),
            self.clock,
            PushMetrics(CollectorRegistry(), mode.value),
            on_health=self.health.append,
            on_unhealthy=self.alerts.append,
        )

    def advance(self, seconds: float) -> None:
        self.clock.mono += seconds

    def hooks(self) -> dict[str, dict[str, Any]]:
        with self.sandbox.lock:
            return {h["id"]: h for h in self.sandbox.webhooks.describe()}

    def submit(self, table: str = StoreRedemptions.TABLE) -> str:
        fields = {StoreRedemptions.CODE: "FORMCODE"} if table == StoreRedemptions.TABLE else {}
        return str(self.base.submit_form(table, fields)["id"])

    def payload_reads(self) -> int:
        return sum(1 for e in self.sandbox.request_log if e.operation == "airtable.payloads")


@contextmanager
def serving_rig(state_dir: Path, **sandbox_options: Any) -> Iterator[PushRig]:
    """The Airtable stand-in on loopback (rate limit off unless given) and a rig over it; its
    adapters closed and the stand-in stopped at the end."""
    sandbox_options.setdefault("rate_limit", None)
    sandbox = AirtableSandbox(AIRTABLE_TOKEN, BASE_ID, layout=load_layout_json(), **sandbox_options)
    service = ServiceThread(lambda: make_airtable_app(sandbox)).start()
    rig = PushRig(sandbox, service.url, state_dir)
    try:
        yield rig
    finally:
        for close in rig.closers:
            close()
        service.stop()
