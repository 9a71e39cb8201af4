"""Settings -> push (:mod:`daemon.push`) for the daemon, or None when ``AIRTABLE_PUSH=off``."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from cards.vocab import Prong
from clients.ports import Clock, WebhookPort
from config.layout import BalanceChecks, CardActions, CreationRequests, StoreRedemptions
from config.settings import PushMode, Settings
from daemon.cadence import CadenceSwitch, healthy_push
from daemon.health import HealthBook
from daemon.metrics import Metrics
from daemon.push import PushConfig, PushLoop
from daemon.push_keeper import WebhookKeeper
from daemon.push_metrics import PushMetrics
from daemon.push_schedule import SafetyNetTick, StoreWaker
from daemon.push_state import WebhookStateFile

NOTIFY_PATH = "/airtable/notify"
#: The queues the store prong polls: a change in one of these wakes it.
REQUEST_TABLES = (
    StoreRedemptions.TABLE,
    CreationRequests.TABLE,
    BalanceChecks.TABLE,
    CardActions.TABLE,
)


@dataclass
class PushSetup:
    """What the service needs: the loop, the waker, the cadence, and which prong it wakes."""

    loop: PushLoop
    waker: StoreWaker
    cadence: CadenceSwitch
    prong: str = Prong.STORE_TRANSACTIONS.value

    @property
    def serves_notifications(self) -> bool:
        return self.loop.config.mode is PushMode.NOTIFY

    def notification(self, body: bytes, headers: Mapping[str, str]) -> int:
        return self.loop.notification(body, headers)

    def scheduled(
        self,
        run: Callable[[], object],
        health: HealthBook,
        clock: Clock,
        *,
        before_woken_run: Callable[[], None],
    ) -> SafetyNetTick:
        """The store prong's scheduled function: woken by push, else the safety-net cadence.
        Push reads no payloads while it runs, and reads once right after."""
        self.loop.store_running = lambda: self.prong in health.running()
        return SafetyNetTick(
            self.prong,
            run,
            waker=self.waker,
            cadence=self.cadence,
            health=health,
            clock=clock,
            before_woken_run=before_woken_run,
            after_run=self.loop.nudge,
        )

    def status_line(self) -> str:
        """Push health in one line, for the status page."""
        view = self.loop.view()
        if view.healthy:
            state = "healthy"
            polling = f"full poll every {self.cadence.healthy_cadence.queue_seconds:g} s"
        else:
            state, polling = f"NOT HEALTHY ({view.reason})", "polling every tick"
        read = "never" if view.last_read_ago is None else f"{view.last_read_ago:.0f} s ago"
        return (
            f"{view.mode}, {state}; webhook {view.webhook_id or 'none yet'}, payloads read "
            f"{read}, {view.wakeups} wake-ups; {polling}"
        )


def notification_url(settings: Settings) -> str | None:
    if settings.airtable_push is not PushMode.NOTIFY or settings.public_url is None:
        return None
    return settings.public_url.rstrip("/") + NOTIFY_PATH


def build_push(
    settings: Settings,
    webhooks: WebhookPort,
    metrics: Metrics,
    clock: Clock,
    *,
    state_dir: Path | None = None,
    on_push_unhealthy: Callable[[str], None] | None = None,
) -> PushSetup | None:
    """Push as the settings ask, on ``webhooks`` (None with ``AIRTABLE_PUSH=off``).

    ``on_push_unhealthy(reason)`` is called once each time push falls back to polling every
    tick (the webhook cannot be kept, Airtable keeps failing, or its pings cannot reach
    ``PUBLIC_URL``); the fall-back is logged (``push.unhealthy``) whether or not it is given.
    This is the hook for an operator alert."""
    mode = settings.airtable_push
    if mode is PushMode.OFF:
        return None
    if settings.airtable_base_id is None:
        raise ValueError("push needs GIFTBRIDGE_AIRTABLE_BASE_ID")
    cadence = CadenceSwitch(settings.tick_seconds, healthy_push(mode, settings.push_poll_seconds))
    waker = StoreWaker(clock)
    keeper = WebhookKeeper(
        webhooks,
        WebhookStateFile(state_dir or settings.state_dir),
        clock,
        base_id=settings.airtable_base_id,
        notification_url=notification_url(settings),
        request_tables=REQUEST_TABLES,
    )
    loop = PushLoop(
        PushConfig(mode, poll_seconds=settings.push_poll_seconds),
        keeper,
        waker,
        clock,
        PushMetrics(metrics.registry, mode.value),
        on_health=cadence.set_push_healthy,
        on_unhealthy=on_push_unhealthy,
    )
    return PushSetup(loop, waker, cadence)
