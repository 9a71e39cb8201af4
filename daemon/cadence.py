"""How often each idle Airtable call is made, per push mode and push health: the idle budget,
written down as arithmetic.

DESIGN.md's budgets, at the default 15 s tick: idle at most 0.5 Airtable requests per second
with push off or in ``poll`` mode, at most 0.04 in ``notify`` mode (a Team plan's monthly
allowance). Idle means nothing to do: no form submitted, no card to issue. Every idle call:

| call | off (or push not healthy) | poll, healthy | notify, healthy |
| --- | --- | --- | --- |
| store queues, a full poll (4 requests) | every tick | every 60 s | every 10 min |
| Status rows, one read | every tick | every 5 min | every 10 min |
| lease renewals (the idle heartbeat), one batched write | every 60 s | every 5 min | every 10 min |
| webhook payloads, one read | - | every ``PUSH_POLL_SECONDS`` | every 10 min |
| webhook list (alive? enabled? pings ok?) | - | hourly | hourly |
| webhook refresh | - | daily | daily |

At the defaults: off 0.350/s (907,000 calls in 30 days), poll 0.474/s (1.23 million), notify
0.012/s (31,000). The Shopify prongs touch Airtable only when Shopify shows them work; the
expiry and audit prongs run hourly. A run that finds work costs what the work costs.

The leases are sized to outlast the slowest renewal (:func:`daemon.ownership.lease_length`), so
renewing them costs nothing beyond the heartbeat that was already there.

While push is healthy a request reaches the store prong through the webhook within a payload
read (poll) or a notification (notify); the slow full poll is the safety net for a payload
that went missing. When push is not healthy the daemon polls as it does with push off.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from config.settings import PushMode
from daemon.lease import HEARTBEAT_SECONDS

MONTH_SECONDS = 30 * 24 * 3600
DAY_SECONDS = 24 * 3600.0
POLL_SAFETY_NET_SECONDS = 60.0
NOTIFY_SAFETY_NET_SECONDS = 600.0
POLL_STATUS_SECONDS = 300.0
WEBHOOK_CHECK_SECONDS = 3600.0


@dataclass(frozen=True, slots=True)
class Cadence:
    """Seconds between idle calls of each kind (None: that call is not made)."""

    queue_seconds: float  # the store prong's full poll of its queues
    status_seconds: float  # one read of every Status row
    heartbeat_seconds: float  # one batched write of the idle heartbeats
    payload_seconds: float | None = None  # one read of webhook payloads
    webhook_check_seconds: float | None = None  # one list of the base's webhooks
    webhook_refresh_seconds: float | None = None  # one webhook refresh

    def requests_per_second(self, queue_polls: int) -> float:
        """Idle Airtable requests per second with ``queue_polls`` requests per full poll."""
        rate = queue_polls / self.queue_seconds
        rate += 1 / self.status_seconds + 1 / self.heartbeat_seconds
        for seconds in (
            self.payload_seconds,
            self.webhook_check_seconds,
            self.webhook_refresh_seconds,
        ):
            rate += 1 / seconds if seconds else 0.0
        return rate

    def monthly_calls(self, queue_polls: int) -> int:
        return round(self.requests_per_second(queue_polls) * MONTH_SECONDS)


def plain_polling(tick_seconds: float) -> Cadence:
    """Push off, or push not healthy: everything every tick, heartbeats once a minute."""
    return Cadence(tick_seconds, tick_seconds, HEARTBEAT_SECONDS)


def healthy_push(mode: PushMode, poll_seconds: float) -> Cadence:
    """The cadence while the webhook is healthy in ``mode`` (poll or notify)."""
    if mode is PushMode.NOTIFY:
        slow = NOTIFY_SAFETY_NET_SECONDS
        return Cadence(slow, slow, slow, slow, WEBHOOK_CHECK_SECONDS, DAY_SECONDS)
    return Cadence(
        POLL_SAFETY_NET_SECONDS,
        POLL_STATUS_SECONDS,
        POLL_STATUS_SECONDS,
        poll_seconds,
        WEBHOOK_CHECK_SECONDS,
        DAY_SECONDS,
    )


def idle_figures(
    tick_seconds: float, queue_polls: int, healthy: Cadence | None
) -> dict[str, float]:
    """Idle requests per second polling every tick and, with push, while push is healthy."""
    figures = {"requests_per_second": plain_polling(tick_seconds).requests_per_second(queue_polls)}
    if healthy is not None:
        figures["push_healthy_requests_per_second"] = healthy.requests_per_second(queue_polls)
    return {name: round(value, 3) for name, value in figures.items()}


class CadenceSwitch:
    """The cadence in force now (thread-safe), and when each idle call is next due.

    The scheduler ticks every ``tick_seconds``; a call is due at the first tick at least its
    interval after the last one, so ``slack`` (half a tick) absorbs the jitter of ticks that
    fire a few milliseconds early."""

    def __init__(self, tick_seconds: float, healthy: Cadence) -> None:
        self.fallback = plain_polling(tick_seconds)
        self.healthy_cadence = healthy
        self.slack = tick_seconds / 2
        self._healthy = False
        self._last: dict[str, float] = {}
        self._lock = threading.Lock()

    @property
    def push_healthy(self) -> bool:
        return self._healthy

    def set_push_healthy(self, healthy: bool) -> None:
        with self._lock:
            self._healthy = healthy

    @property
    def current(self) -> Cadence:
        return self.healthy_cadence if self._healthy else self.fallback

    def due(self, kind: str, interval: float, now: float) -> bool:
        """True (and the call counted as made at ``now``) when ``kind`` is due."""
        with self._lock:
            last = self._last.get(kind)
            if last is not None and now - last < interval - self.slack:
                return False
            self._last[kind] = now
            return True

    def queue_poll_due(self, now: float) -> bool:
        return self.due("queues", self.current.queue_seconds, now)

    def status_read_due(self, now: float) -> bool:
        return self.due("status", self.current.status_seconds, now)

    def heartbeat_every(self) -> float:
        """The idle heartbeat interval as the board applies it (minus the tick slack)."""
        return max(1.0, self.current.heartbeat_seconds - self.slack)
