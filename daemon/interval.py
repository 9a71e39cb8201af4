"""A prong that runs less often than every tick (expiry: ``EXPIRY_INTERVAL_SECONDS``).

The scheduler still calls the prong's job every tick; :meth:`IntervalSchedule.due` tells the
runner whether this tick should run it, so the prong keeps its own thread, its health book and
its lease like every other, and a tick that is not due costs nothing (no run, no Airtable call).

Due at the process's first tick (once at start), then ``interval`` seconds after the start of
the last run that finished. A run cut short by its budget (work left) is due again at the next
tick; a run that raised is due at the next tick too (the runner's back-off spaces failures).
``once`` runs the prong whatever the schedule says.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from prongs.report import Budget, Gate, RunReport

Run = Callable[[Budget, Gate], RunReport]


class IntervalSchedule:
    def __init__(self, interval_seconds: float, monotonic: Callable[[], float]) -> None:
        if interval_seconds <= 0:
            raise ValueError("the interval must be positive")
        self.interval = interval_seconds
        self._monotonic = monotonic
        self._next: float | None = None  # None: due now (nothing has run yet)
        self._lock = threading.Lock()

    def due(self) -> bool:
        with self._lock:
            return self._next is None or self._monotonic() >= self._next

    def wrap(self, run: Run) -> Run:
        """``run``, noting when it started and whether it left work for the next tick."""

        def scheduled(budget: Budget, gate: Gate) -> RunReport:
            started = self._monotonic()
            report = run(budget, gate)
            with self._lock:
                self._next = None if report.budget_exhausted else started + self.interval
            return report

        return scheduled
