"""Per-prong progress: what the watchdog, ``/healthz`` and the status page judge the daemon by.

A prong *progresses* while its runs keep finishing: a run that ends in a handled error counts, a
skip (another owner's lease, Paused, back-off) counts, a run that never returns does not. Two ways
to stop progressing, both measured on the monotonic clock:

- **hung**: a run has been going longer than ``hung_after`` (the lease time: past it another
  process may already have taken the lease over);
- **stalled**: no run has finished for ``stall_after`` (lease + two ticks), e.g. the scheduler
  thread died or every tick misfired.

A Paused prong is not waited for (an operator stopped it on purpose). ``/healthz`` additionally
fails when a prong has *failed every run* for ``failing_window`` seconds (10 minutes).
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum

from clients.ports import Clock

FAILING_WINDOW_SECONDS = 600.0
RECENT_RUNS = 12


class RunResult(StrEnum):
    OK = "ok"
    FAILED = "failed"  # a handled error in the report, or an exception out of the run
    SKIPPED = "skipped"  # lease held elsewhere, Paused, stopping


@dataclass(frozen=True, slots=True)
class RunRecord:
    """One finished run, as the status page lists it. Consecutive idle runs or identical skips
    merge into one entry (``repeats``, ``started_at`` of the latest)."""

    started_at: datetime
    seconds: float
    result: RunResult
    processed: int = 0
    outcomes: tuple[tuple[str, int], ...] = ()
    detail: str | None = None
    repeats: int = 1


@dataclass
class _Prong:
    name: str
    paused: bool = False
    running_since: float | None = None
    running_started_at: datetime | None = None
    last_finished: float | None = None
    last_ok_at: datetime | None = None
    failing_since: float | None = None
    failing_since_at: datetime | None = None  # the same moment on the wall clock
    consecutive_failures: int = 0
    runs: int = 0
    recent: deque[RunRecord] = field(default_factory=lambda: deque(maxlen=RECENT_RUNS))


@dataclass(frozen=True, slots=True)
class ProngView:
    """A consistent copy of one prong's progress, for the endpoint and the page."""

    name: str
    state: str  # running, idle, paused, hung, stalled, failing
    problems: tuple[str, ...]
    paused: bool
    running_for: float | None
    since_finished: float | None
    consecutive_failures: int
    failing_for: float | None
    failing_since_at: datetime | None
    last_ok_at: datetime | None
    runs: int
    recent: tuple[RunRecord, ...]


class HealthBook:
    def __init__(
        self,
        prongs: Iterable[str],
        clock: Clock,
        *,
        hung_after: float,
        stall_after: float,
        failing_window: float = FAILING_WINDOW_SECONDS,
    ) -> None:
        self._clock = clock
        self._hung_after = hung_after
        self._stall_after = stall_after
        self._failing_window = failing_window
        self._prongs = {name: _Prong(name) for name in prongs}
        self._changed = threading.Condition()
        self._baseline = clock.monotonic()

    def restart_baseline(self) -> None:
        """Staleness counts from now (the service started) for prongs that never finished."""
        with self._changed:
            self._baseline = self._clock.monotonic()

    # --- events -------------------------------------------------------------------------
    def started(self, prong: str) -> None:
        with self._changed:
            p = self._prongs[prong]
            p.running_since = self._clock.monotonic()
            p.running_started_at = self._clock.now()

    def finished(self, prong: str, record: RunRecord) -> None:
        with self._changed:
            p = self._prongs[prong]
            now = self._clock.monotonic()
            p.running_since = p.running_started_at = None
            p.last_finished = now
            p.runs += 1
            if record.result is RunResult.OK:
                p.failing_since, p.failing_since_at, p.consecutive_failures = None, None, 0
                p.last_ok_at = self._clock.now()
            elif record.result is RunResult.FAILED:
                p.consecutive_failures += 1
                if p.failing_since is None:
                    p.failing_since, p.failing_since_at = now, self._clock.now()
            self._remember(p, record)
            self._changed.notify_all()

    @staticmethod
    def _remember(p: _Prong, record: RunRecord) -> None:
        """Append to the recent runs; a repeat of an idle run or of the same skip is counted
        on the previous entry instead, so a quiet hour does not push the last real run out."""
        last = p.recent[-1] if p.recent else None
        quiet = record.result is not RunResult.FAILED and record.processed == 0
        if (
            last is not None
            and quiet
            and last.result is record.result
            and last.processed == 0
            and last.detail == record.detail
        ):
            p.recent[-1] = replace(last, repeats=last.repeats + 1, started_at=record.started_at)
        else:
            p.recent.append(record)

    def alive(self, prong: str) -> None:
        """A tick that chose not to run (back-off): the prong's thread is not stuck."""
        with self._changed:
            self._prongs[prong].last_finished = self._clock.monotonic()

    def set_paused(self, prong: str, paused: bool) -> None:
        with self._changed:
            if prong in self._prongs:
                self._prongs[prong].paused = paused

    # --- judgements ---------------------------------------------------------------------
    def _problems(self, p: _Prong, now: float, *, failing: bool) -> list[tuple[str, str]]:
        """(kind, one line) for each way the prong is not healthy; kinds: hung, stalled,
        failing."""
        if p.paused:
            return []
        problems = []
        if p.running_since is not None and now - p.running_since > self._hung_after:
            problems.append(("hung", f"{p.name}: hung, running for {now - p.running_since:.0f} s"))
        finished = p.last_finished if p.last_finished is not None else self._baseline
        if p.running_since is None and now - finished > self._stall_after:
            problems.append(
                ("stalled", f"{p.name}: stalled, no run finished for {now - finished:.0f} s")
            )
        failing_for = None if p.failing_since is None else now - p.failing_since
        if failing and failing_for is not None and failing_for >= self._failing_window:
            problems.append(
                (
                    "failing",
                    f"{p.name}: every run failed for {failing_for:.0f} s "
                    f"({p.consecutive_failures} runs)",
                )
            )
        return problems

    def progressing(self) -> tuple[bool, list[str]]:
        """The watchdog's question: is every prong that is not Paused finishing runs?"""
        now = self._clock.monotonic()
        with self._changed:
            problems = [
                line
                for p in self._prongs.values()
                for _, line in self._problems(p, now, failing=False)
            ]
        return not problems, problems

    def healthy(self) -> tuple[bool, list[str]]:
        """``/healthz``: progressing, and no prong has failed every run for the window."""
        now = self._clock.monotonic()
        with self._changed:
            problems = [
                line
                for p in self._prongs.values()
                for _, line in self._problems(p, now, failing=True)
            ]
        return not problems, problems

    def running(self) -> set[str]:
        with self._changed:
            return {p.name for p in self._prongs.values() if p.running_since is not None}

    def wait_idle(self, timeout: float) -> bool:
        """Block (real time) until no run is in flight; False if ``timeout`` passed first."""
        with self._changed:
            return self._changed.wait_for(
                lambda: all(p.running_since is None for p in self._prongs.values()), timeout
            )

    def views(self) -> list[ProngView]:
        now = self._clock.monotonic()
        with self._changed:
            return [self._view(p, now) for p in self._prongs.values()]

    def _view(self, p: _Prong, now: float) -> ProngView:
        found = self._problems(p, now, failing=True)
        problems = tuple(line for _, line in found)
        if p.paused:
            state = "paused"
        elif found:
            state = found[0][0]
        else:
            state = "running" if p.running_since is not None else "idle"
        return ProngView(
            name=p.name,
            state=state,
            problems=problems,
            paused=p.paused,
            running_for=None if p.running_since is None else now - p.running_since,
            since_finished=None if p.last_finished is None else now - p.last_finished,
            consecutive_failures=p.consecutive_failures,
            failing_for=None if p.failing_since is None else now - p.failing_since,
            failing_since_at=p.failing_since_at,
            last_ok_at=p.last_ok_at,
            runs=p.runs,
            recent=tuple(reversed(p.recent)),
        )
