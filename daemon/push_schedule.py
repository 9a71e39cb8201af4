"""Making the store prong's scheduled job run now, one run at a time, without losing a wake-up.

:class:`StoreWaker` is what push calls when a request table changed: it raises a flag and asks
APScheduler to run the store job now (``modify_job(next_run_time=now)``). The job keeps
``max_instances=1``; when a run is already going APScheduler skips the extra start, so the flag
is what counts: :class:`SafetyNetTick` (the store job's function while push is on) runs again
as soon as its run ends if the flag went up meanwhile. In the instant between a run's last look
at the flag and APScheduler counting the job as finished a kick can still be skipped; the push
loop therefore kicks again after a second while the flag stays up (:meth:`rekick_if_waiting`).

:class:`SafetyNetTick` also skips the scheduler's ticks between safety-net polls while push is
healthy (a skipped tick still tells the health book the job is alive, so a slow cadence is never
taken for a stalled prong).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from datetime import UTC, datetime

import structlog
from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers import SchedulerNotRunningError
from apscheduler.schedulers.base import BaseScheduler

from clients.ports import Clock
from daemon.cadence import CadenceSwitch
from daemon.health import HealthBook

log = structlog.get_logger(__name__)
REKICK_AFTER_SECONDS = 1.0


class StoreWaker:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._pending = False
        self._kicked_at = 0.0
        self._kick: Callable[[], None] = lambda: None
        self.wakeups = 0

    def attach(self, scheduler: BaseScheduler, job_id: str) -> None:
        """Kick this scheduler's job from now on."""

        def kick() -> None:
            with contextlib.suppress(JobLookupError, SchedulerNotRunningError):  # stopping
                scheduler.modify_job(job_id, next_run_time=datetime.now(UTC))

        self._kick = kick

    @property
    def pending(self) -> bool:
        with self._lock:
            return self._pending

    def wake(self, reason: str) -> None:
        with self._lock:
            self._pending = True
            self._kicked_at = self._clock.monotonic()
            self.wakeups += 1
        log.info("push.store_woken", reason=reason)
        self._kick()

    def take(self) -> bool:
        """Whether a wake-up was pending (and it is no longer)."""
        with self._lock:
            pending, self._pending = self._pending, False
            return pending

    def rekick_if_waiting(self) -> bool:
        """Kick again when a wake-up has waited a second without a run taking it."""
        with self._lock:
            waiting = self._pending
            due = waiting and self._clock.monotonic() - self._kicked_at >= REKICK_AFTER_SECONDS
            if due:
                self._kicked_at = self._clock.monotonic()
        if due:
            self._kick()
        return due


class SafetyNetTick:
    """The store job's function while push is configured: run when woken, or when the
    safety-net poll is due by the cadence in force; otherwise only report alive."""

    def __init__(
        self,
        prong: str,
        run: Callable[[], object],
        *,
        waker: StoreWaker,
        cadence: CadenceSwitch,
        health: HealthBook,
        clock: Clock,
        before_woken_run: Callable[[], None] = lambda: None,
        after_run: Callable[[], None] = lambda: None,
    ) -> None:
        self._prong = prong
        self._run = run
        self._waker = waker
        self._cadence = cadence
        self._health = health
        self._clock = clock
        self._before_woken_run = before_woken_run
        self._after_run = after_run

    def __call__(self) -> None:
        while True:
            woken = self._waker.take()
            now = self._clock.monotonic()
            if woken:
                self._cadence.due("queues", 0.0, now)  # a woken run is a full poll too
                self._before_woken_run()
            elif not self._cadence.queue_poll_due(now):
                self._health.alive(self._prong)
                return
            try:
                self._run()
            finally:
                self._after_run()
            if not self._waker.pending:
                return
