"""Push: the store prong hears of a form submission within seconds, for fewer Airtable calls.

One thread (:class:`PushLoop`) keeps giftbridge's webhook (:mod:`daemon.push_keeper`), reads
its payloads and wakes the store prong (:mod:`daemon.push_schedule`) when a request table
changed:

- ``poll``: payloads are read every ``PUSH_POLL_SECONDS``;
- ``notify``: Airtable pings ``PUBLIC_URL/airtable/notify``; the HTTP endpoint checks the MAC
  (:meth:`PushLoop.notification`), answers 204 at once and this thread reads the payloads;
  they are also read with every safety-net poll, in case a ping was lost.

Health: push is healthy while the webhook is kept and Airtable answers (and, in notify mode,
Airtable's pings reach us). While healthy the daemon polls slowly (:mod:`daemon.cadence`);
after ``unhealthy_after`` seconds of failures, or when the webhook cannot be kept, it falls back
to polling every tick, logs ``push.unhealthy`` and calls ``on_unhealthy(reason)`` (the hook an
alert can hang on), and keeps trying to restore push with a growing pause.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import structlog

from clients.errors import ClientError, Permanent, RateLimited
from clients.ports import Clock
from config.settings import PushMode
from daemon.cadence import DAY_SECONDS, NOTIFY_SAFETY_NET_SECONDS, WEBHOOK_CHECK_SECONDS
from daemon.push_keeper import WebhookGone, WebhookKeeper
from daemon.push_metrics import PushMetrics
from daemon.push_schedule import StoreWaker

log = structlog.get_logger(__name__)
MAC_HEADER = "x-airtable-content-mac"  # headers arrive by lower-case name
MAX_PAUSE_SECONDS = 300.0
RECHECK_SECONDS = 300.0
IDLE_WAIT_SECONDS = 30.0  # the notify-mode thread looks at its clock at least this often


@dataclass(frozen=True, slots=True)
class PushConfig:
    mode: PushMode  # POLL or NOTIFY
    poll_seconds: float = 2.5
    safety_read_seconds: float = NOTIFY_SAFETY_NET_SECONDS
    check_seconds: float = WEBHOOK_CHECK_SECONDS
    refresh_seconds: float = DAY_SECONDS
    unhealthy_after_seconds: float = 10.0


@dataclass(frozen=True, slots=True)
class PushView:
    mode: str
    healthy: bool
    reason: str
    webhook_id: str | None
    cursor: int | None
    last_read_ago: float | None
    wakeups: int


def mac_matches(secret: bytes, body: bytes, header: str | None) -> bool:
    """``X-Airtable-Content-MAC`` is ``hmac-sha256=`` + hex HMAC-SHA256 of the raw body; compared
    in constant time."""
    if not header:
        return False
    expected = b"hmac-sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest().encode()
    return hmac.compare_digest(expected, header.strip().encode("utf-8", "replace"))


class PushLoop:
    def __init__(
        self,
        config: PushConfig,
        keeper: WebhookKeeper,
        waker: StoreWaker,
        clock: Clock,
        metrics: PushMetrics,
        *,
        on_health: Callable[[bool], None],
        on_unhealthy: Callable[[str], None] | None = None,
    ) -> None:
        self.config = config
        self.keeper = keeper
        self.waker = waker
        self._clock = clock
        self._metrics = metrics
        self._on_health = on_health
        self.on_unhealthy = on_unhealthy or (lambda reason: None)
        self.store_running: Callable[[], bool] = lambda: False
        self._lock = threading.Lock()
        self._event = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._notified = False
        self._deferred = False  # a read was skipped while the store prong ran
        self._healthy: bool | None = None  # None: not judged yet (starting)
        self._reason = "starting"
        self._alerted = False
        self._failing_since: float | None = None
        self._failures = 0
        self._last_error: str | None = None
        self._pause_until = 0.0
        self._next_read = 0.0
        self._next_check = 0.0
        self._next_refresh = 0.0
        self._last_read: float | None = None

    # --- the thread -----------------------------------------------------------------------
    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="push", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stopping.set()
        self._event.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _loop(self) -> None:
        while not self._stopping.is_set():
            self._event.clear()  # before the step: a ping or nudge from now on wakes the wait
            try:
                delay = self.step()
            except Exception:  # never let the thread die: log, pause, try again
                log.error("push.step_crashed", exc_info=True)
                delay = self.config.poll_seconds
            self.waker.rekick_if_waiting()
            if self.waker.pending:
                delay = min(delay, 1.0)
            self._event.wait(max(0.0, delay))

    # --- one step (tests drive it on a fake clock) ---------------------------------------------
    def step(self) -> float:
        """Do what is due; returns the seconds until the next step."""
        now = self._clock.monotonic()
        if now >= self._pause_until:
            try:
                self._due_work(now)
            except (ClientError, WebhookGone, OSError) as exc:  # OSError: the state file
                self._failed(exc, now)
            else:
                self._failures, self._failing_since, self._last_error = 0, None, None
        self._judge(now)
        return self._delay(self._clock.monotonic())

    def _due_work(self, now: float) -> None:
        listed_nothing_new = False
        if self.keeper.state is None:
            if self.keeper.establish() is not None:
                self._new_webhook()
            self._scheduled_after_establish(now)
        elif now >= self._next_check:
            if self.keeper.check() is not None:
                self._new_webhook()
                self._next_refresh = now + self.config.refresh_seconds
            else:  # the list shows the next cursor: a read now would find nothing
                listed_nothing_new = not self.keeper.unread_payloads
            self._next_check = now + self._check_interval()
        if now >= self._next_refresh:
            self.keeper.refresh()
            self._next_refresh = now + self.config.refresh_seconds
        if not self._read_due(now):
            return
        if listed_nothing_new:
            self._next_read = now + self.config.safety_read_seconds
        else:
            self._read(now)

    def _check_interval(self) -> float:
        """Hourly; every 5 minutes while Airtable's pings fail, to see them succeed again."""
        if self.keeper.notification_failure:
            return min(self.config.check_seconds, RECHECK_SECONDS)
        return self.config.check_seconds

    def _scheduled_after_establish(self, now: float) -> None:
        self._next_check = now + self.config.check_seconds
        self._next_refresh = now + self.config.refresh_seconds  # establishing refreshed it
        self._next_read = now  # read at once: proves the webhook answers

    def _read_due(self, now: float) -> bool:
        """Poll mode: every step; notify mode: on a ping or for the safety net. Never while
        the store prong runs: the run watches its queues itself, the base's 5 requests a
        second are better spent on the till, and the cursor keeps what changed meanwhile for
        the read right after the run (:meth:`nudge`)."""
        if self.store_running():
            self._deferred = True
            return False
        with self._lock:
            notified, self._notified = self._notified, False
        return self.config.mode is PushMode.POLL or notified or now >= self._next_read

    def _read(self, now: float) -> None:
        self._deferred = False
        try:
            result = self.keeper.read()
        except WebhookGone as gone:
            log.warning("push.webhook_lost", reason=str(gone))
            self.keeper.replace(str(gone))
            self._new_webhook()
            self._scheduled_after_establish(now)
            result = self.keeper.read()
        self._metrics.payload_reads.inc()
        self._metrics.payloads.inc(result.payloads)
        self._metrics.last_read.set(self._clock.now().timestamp())
        self._last_read = now
        self._next_read = now + self.config.safety_read_seconds
        if result.wake:
            self._wake(result.wake)
        if result.broken:
            log.warning("push.payload_error", code=result.broken)
            self._next_check = now  # look at the webhook at the next step

    def _new_webhook(self) -> None:
        self._metrics.webhooks_created.inc()
        self._wake("a new webhook: one full poll covers the time without one")

    def _wake(self, reason: str) -> None:
        self._metrics.wakeups.inc()
        self.waker.wake(reason)

    # --- failures and health ------------------------------------------------------------
    def _failed(self, exc: Exception, now: float) -> None:
        self._failures += 1
        if self._failing_since is None:
            self._failing_since = now
        self._last_error = str(exc) or type(exc).__name__
        if isinstance(exc, Permanent) and exc.status in (401, 403):
            self._last_error += (
                " (the Airtable token needs the webhook:manage scope and creator access to the "
                "base for AIRTABLE_PUSH; or set GIFTBRIDGE_AIRTABLE_PUSH=off)"
            )
        pause = min(self.config.poll_seconds * 2 ** (self._failures - 1), MAX_PAUSE_SECONDS)
        if isinstance(exc, RateLimited) and exc.retry_after:
            pause = max(pause, exc.retry_after)
        self._pause_until = now + pause
        if self._failures & (self._failures - 1) == 0:  # 1st, 2nd, 4th, 8th... failure
            log.warning("push.call_failed", error=str(exc), failures=self._failures)

    def _verdict(self, now: float) -> tuple[bool, str]:
        if self._failing_since is not None:
            failing_for = now - self._failing_since
            if failing_for >= self.config.unhealthy_after_seconds:
                return False, f"webhook calls failing for {failing_for:.0f} s: {self._last_error}"
            if self._healthy is not None:
                return self._healthy, self._reason  # a passing failure changes nothing yet
        if self.keeper.state is None:
            return False, "starting"
        if self.keeper.notification_failure:
            return False, f"Airtable cannot reach PUBLIC_URL: {self.keeper.notification_failure}"
        return True, "healthy"

    def _judge(self, now: float) -> None:
        """Apply the verdict: switch the cadence on a change, and alert once per fall (a
        start that has not reached Airtable yet is not a fall)."""
        healthy, reason = self._verdict(now)
        changed = healthy != self._healthy
        self._healthy, self._reason = healthy, reason
        if changed:
            self._metrics.healthy.set(1 if healthy else 0)
            self._on_health(healthy)
        if healthy:
            if changed:
                log.info("push.healthy", mode=self.config.mode.value, webhook_id=self.webhook_id)
            self._alerted = False
        elif reason != "starting" and not self._alerted:
            self._alerted = True
            log.warning("push.unhealthy", reason=reason, fallback="polling every tick")
            self.on_unhealthy(reason)

    def _delay(self, now: float) -> float:
        if now < self._pause_until:
            return self._pause_until - now
        if self.config.mode is PushMode.POLL:
            return self.config.poll_seconds
        due = min(self._next_check, self._next_refresh)
        if not self._deferred:  # a read put off until the store run ends waits for nudge()
            due = min(due, self._next_read)
        return max(0.0, min(due - now, IDLE_WAIT_SECONDS))

    def nudge(self) -> None:
        """A store run ended: if a read was put off during it, read now."""
        if self._deferred:
            self._event.set()

    # --- notifications (the HTTP endpoint's thread) ----------------------------------------
    def notification(self, body: bytes, headers: Mapping[str, str]) -> int:
        """Answer one ``POST /airtable/notify`` (``headers`` by lower-case name): 204 and a
        payload read at once, or 401 when the MAC is missing or wrong (nothing is read)."""
        state = self.keeper.state
        secret = _decoded(state.mac_secret_base64) if state else None
        if secret is None or not mac_matches(secret, body, headers.get(MAC_HEADER)):
            why = "no webhook secret yet" if secret is None else "MAC does not match"
            log.warning("push.notification_rejected", reason=why, bytes=len(body))
            self._metrics.notifications.labels("rejected").inc()
            return 401
        self._metrics.notifications.labels("accepted").inc()
        self.keeper.notification_failure = None  # a ping got through: Airtable reaches us
        if _webhook_id(body) not in (None, state.webhook_id if state else None):
            return 204  # signed with our secret but about another webhook: nothing to read
        with self._lock:
            self._notified = True
        self._event.set()
        return 204

    # --- what the page and metrics show ---------------------------------------------------
    @property
    def webhook_id(self) -> str | None:
        state = self.keeper.state
        return state.webhook_id if state else None

    def view(self) -> PushView:
        state = self.keeper.state
        now = self._clock.monotonic()
        return PushView(
            mode=self.config.mode.value,
            healthy=bool(self._healthy),
            reason=self._reason,
            webhook_id=state.webhook_id if state else None,
            cursor=state.cursor if state else None,
            last_read_ago=None if self._last_read is None else now - self._last_read,
            wakeups=self.waker.wakeups,
        )


def _decoded(secret_base64: str) -> bytes | None:
    try:
        return base64.b64decode(secret_base64, validate=True)
    except (binascii.Error, ValueError):
        return None


def _webhook_id(body: bytes) -> str | None:
    try:
        document = json.loads(body)
        value = document["webhook"]["id"]
    except (ValueError, KeyError, TypeError):
        return None
    return value if isinstance(value, str) else None
