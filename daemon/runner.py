"""One run of one prong: the single code path the scheduler's ticks and ``once`` share.

A :class:`ProngJob` is what the composition root hands the daemon: a name and a callable
``(budget, gate) -> RunReport`` closing over the prong's own deps and config. The runner wraps
each call with the run's Budget (run budget + the process stop flag), the Status lease as the
Gate, logging context, metrics, the health book and back-off; and it never lets an exception out
of a run (a dead scheduler thread would be worse than a failed run).
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

import structlog

from cards.vocab import ProngState
from clients.ports import Clock
from daemon.backoff import Backoff
from daemon.health import HealthBook, RunRecord, RunResult
from daemon.leases import Leases, RunGate
from daemon.logging import mask_codes
from daemon.metrics import Metrics
from prongs.report import Budget, Gate, RunReport

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class ProngJob:
    """One prong as the daemon runs it.

    ``airtable_polls_per_tick``: Airtable requests one idle run makes (its queue polls); the
    service adds them up to check the idle request budget at start. ``due``: for a prong that
    runs less often than every tick (:mod:`daemon.interval`), whether this tick should run it
    (None: every tick); ``once`` ignores it. ``blocked``: a one-line reason the prong cannot
    run now (Shopify calls stopped for want of a token), checked before each run: the run is
    skipped untouched, so its requests wait as they are.
    """

    name: str
    run: Callable[[Budget, Gate], RunReport]
    airtable_polls_per_tick: int = 1
    due: Callable[[], bool] | None = None
    blocked: Callable[[], str | None] | None = None


@dataclass(frozen=True, slots=True)
class RunOutcome:
    prong: str
    result: RunResult
    report: RunReport | None
    detail: str | None  # the skip reason, the error line, or a note (stopped early)
    seconds: float


class StopSignal:
    """The process's stop flag, seen by every run's Budget.

    :meth:`request` only assigns an attribute, so a signal handler may call it: it takes no lock
    (an ``Event.set`` in a handler can deadlock against the interrupted main thread). Each run
    gets its own Event (:meth:`run_event`) that reads as set once the process flag is up, and that
    a lease can also set to stop just that run (an operator paused the prong mid-run).
    """

    def __init__(self) -> None:
        self._requested = False
        self._runs: set[threading.Event] = set()
        self._lock = threading.Lock()

    def request(self) -> None:
        self._requested = True

    def is_set(self) -> bool:
        return self._requested

    def stop(self) -> None:
        """The orderly path (not for signal handlers): raise the flag and set every run's
        event, so runs blocked in ``Event.wait`` wake too."""
        self._requested = True
        with self._lock:
            for event in self._runs:
                event.set()

    @contextmanager
    def run_event(self) -> Iterator[threading.Event]:
        event = _RunEvent(self)
        with self._lock:
            self._runs.add(event)
        try:
            yield event
        finally:
            with self._lock:
                self._runs.discard(event)


class _RunEvent(threading.Event):
    """Set when the run was told to stop, or when the whole process was."""

    def __init__(self, process: StopSignal) -> None:
        super().__init__()
        self._process = process

    def is_set(self) -> bool:
        return self._process.is_set() or super().is_set()


class ProngRunner:
    def __init__(
        self,
        *,
        leases: Leases,
        health: HealthBook,
        metrics: Metrics,
        backoff: Backoff,
        clock: Clock,
        stop: StopSignal,
        run_budget_seconds: float,
    ) -> None:
        self._leases = leases
        self._board = leases.board
        self._health = health
        self._metrics = metrics
        self._backoff = backoff
        self._clock = clock
        self._stop = stop
        self.owner = leases.owner
        self._run_budget = run_budget_seconds

    def run_scheduled(self, job: ProngJob) -> RunOutcome | None:
        """A scheduler tick: like :meth:`run`, but a prong that keeps failing backs off."""
        if self._stop.is_set():
            return None
        if job.due is not None and not job.due():
            self._health.alive(job.name)  # not due yet: the prong is not stuck
            return None
        if self._backoff.should_skip(job.name):
            self._health.alive(job.name)
            self._metrics.run_skipped(job.name, "backoff")
            log.debug("run.backing_off", prong=job.name, failures=self._backoff.failures(job.name))
            return None
        return self.run(job)

    def run(self, job: ProngJob) -> RunOutcome:
        cached = self._board.cached(job.name)
        if cached is not None and cached.state is ProngState.PAUSED:
            return self._skipped(job.name, "Paused", "paused")  # no queue polls while Paused
        reason = job.blocked() if job.blocked is not None else None
        if reason:
            return self._skipped(job.name, reason, "blocked", level="warning")
        elsewhere = self._leases.lease(job.name).elsewhere
        if elsewhere is not None:  # another owner's live lease: not even a queue poll
            return self._skipped(job.name, f"lease held by {elsewhere}", "lease")
        run_id = "run-" + secrets.token_hex(4)
        with (
            self._stop.run_event() as event,
            structlog.contextvars.bound_contextvars(prong=job.name, run_id=run_id),
        ):
            return self._run_gated(job, event)

    def _run_gated(self, job: ProngJob, event: threading.Event) -> RunOutcome:
        lease = RunGate(self._leases, job.name, self._clock, event)
        budget = Budget(self._clock, self._run_budget, event)
        started_at, t0 = self._clock.now(), self._clock.monotonic()
        self._health.started(job.name)
        self._metrics.running.labels(job.name).set(1)
        report: RunReport | None = None
        error: str | None = None
        try:
            report = job.run(budget, lease)
        except Exception as exc:
            error = mask_codes(f"{type(exc).__name__}: {exc}")
            log.error("run.crashed", error=error, exc_info=True)
        finally:
            if report is None and error is None:
                error = "interrupted"  # a BaseException is on its way out
            lease.release(report, error)
            self._metrics.running.labels(job.name).set(0)
            for queue, depth in (report.queue_depths if report else {}).items():
                self._metrics.set_queue_depth(queue, depth)
            outcome = self._conclude(job.name, lease, report, error, t0)
            self._record(outcome, started_at)
        return outcome

    def _conclude(
        self,
        prong: str,
        lease: RunGate,
        report: RunReport | None,
        error: str | None,
        t0: float,
    ) -> RunOutcome:
        seconds = self._clock.monotonic() - t0
        if error is not None or report is None:
            return RunOutcome(prong, RunResult.FAILED, report, error or "no report", seconds)
        skipped = (None if lease.claimed else lease.skip_reason) or report.skipped
        if skipped and report.processed == 0 and not report.failed:
            return RunOutcome(prong, RunResult.SKIPPED, report, skipped, seconds)
        if report.failed:
            return RunOutcome(prong, RunResult.FAILED, report, "; ".join(report.errors), seconds)
        note = f"stopped early: {lease.lost}" if lease.lost else None
        if note is None and report.budget_exhausted:
            note = "budget exhausted: the rest waits for the next run"
        return RunOutcome(prong, RunResult.OK, report, note, seconds)

    def _record(self, outcome: RunOutcome, started_at: datetime) -> None:
        report = outcome.report
        processed = report.processed if report else 0
        outcomes = dict(report.outcomes) if report else {}
        self._health.finished(
            outcome.prong,
            RunRecord(
                started_at=started_at,
                seconds=outcome.seconds,
                result=outcome.result,
                processed=processed,
                outcomes=tuple(sorted(outcomes.items())),
                detail=outcome.detail,
            ),
        )
        if outcome.result is RunResult.SKIPPED:
            self._metrics.run_skipped(outcome.prong, _skip_kind(outcome.detail))
            log.info("run.skipped", reason=outcome.detail)
            return
        self._backoff.record(outcome.prong, failed=outcome.result is RunResult.FAILED)
        self._metrics.run_finished(
            outcome.prong,
            outcome.result.value,
            outcome.seconds,
            outcomes,
            self._clock.now().timestamp(),
        )
        if outcome.result is RunResult.FAILED:
            log.warning("run.failed", error=outcome.detail, processed=processed)
        elif report is not None and (report.found_work or processed):
            log.info("run.finished", processed=processed, outcomes=outcomes, note=outcome.detail)
        else:
            log.debug("run.idle")

    def _skipped(self, prong: str, reason: str, kind: str, level: str = "debug") -> RunOutcome:
        outcome = RunOutcome(prong, RunResult.SKIPPED, None, reason, 0.0)
        self._health.finished(
            prong, RunRecord(self._clock.now(), 0.0, RunResult.SKIPPED, detail=reason)
        )
        self._metrics.run_skipped(prong, kind)
        getattr(log, level)("run.skipped", prong=prong, reason=reason)
        return outcome


def _skip_kind(reason: str | None) -> str:
    if reason == "Paused":
        return "paused"
    if reason == "stopping":
        return "stopping"
    return "lease" if reason and reason.startswith("lease") else "other"
