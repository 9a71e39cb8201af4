"""A simulated Airtable Status row for the lease protocol (:mod:`daemon.ownership`): claimants'
steps reach the row after an up latency and are answered after a down latency, both chosen by
the test, so writes can land in any order and acknowledgements come late; each claimant has its
own wall clock (skewed as the test likes) and the simulation's time as its monotonic clock.

Each claimant runs the daemon's loop: every tick it reads the row (a lost lease is noticed),
claims when it holds nothing, and renews every ``renew`` seconds while it holds; a test can
freeze a claimant for a while (a process that stops, then wakes up late). The simulation records
each claimant's *effect window*, from winning until ``lease_from + lease`` of its last counted
renewal (an effect started while :meth:`~daemon.ownership.ProngLease.may_act` lands by then),
and :func:`overlaps` finds two windows of different claimants that meet.
"""

from __future__ import annotations

import heapq
import itertools
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from cards.vocab import ProngState
from clients.records import StatusRow
from daemon.ownership import (
    Pause,
    ProngLease,
    ReadRows,
    Reply,
    Step,
    Steps,
    WriteRows,
    claim,
    renew,
)

PRONG = "store-transactions"
EPOCH = datetime(2026, 11, 22, 12, tzinfo=UTC)
Latency = Callable[[str, Step], tuple[float, float]]  # (claimant, step) -> (up, down) seconds


@dataclass
class Claimant:
    name: str
    lease: ProngLease
    wall_offset: float = 0.0  # seconds its wall clock is ahead of the truth
    frozen: list[tuple[float, float]] = field(default_factory=list)  # (from, until)
    windows: list[list[float]] = field(default_factory=list)  # [won at, good until]
    busy: bool = False
    last_renewal: float = float("-inf")

    def is_frozen(self, t: float) -> bool:
        return any(start <= t < end for start, end in self.frozen)


class Sim:
    def __init__(
        self,
        latency: Latency,
        *,
        lease_seconds: float = 90.0,
        margin: float = 15.0,
        tick: float = 15.0,
        renew_every: float = 30.0,
        row: StatusRow | None = None,
    ) -> None:
        self.latency = latency
        self.lease_seconds, self.margin = lease_seconds, margin
        self.tick, self.renew_every = tick, renew_every
        self.row = row or StatusRow("recStatus00000001", PRONG, ProngState.OFFLINE)
        self.t = 0.0
        self.claimants: dict[str, Claimant] = {}
        self._events: list[tuple[float, int, Callable[[], None]]] = []
        self._order = itertools.count()
        self.history: list[tuple[float, str, str]] = []  # (time, claimant, what landed)

    # --- setup ---------------------------------------------------------------------------
    def add(self, name: str, *, start: float = 0.0, wall_offset: float = 0.0) -> Claimant:
        lease = ProngLease(PRONG, f"host-{name}:1:{name}", self.lease_seconds, self.margin)
        claimant = Claimant(name, lease, wall_offset)
        self.claimants[name] = claimant
        self.at(start, lambda: self._tick(claimant))
        return claimant

    def at(self, when: float, action: Callable[[], None]) -> None:
        heapq.heappush(self._events, (when, next(self._order), action))

    def run(self, until: float) -> None:
        while self._events and self._events[0][0] <= until:
            self.t, _, action = heapq.heappop(self._events)
            action()

    # --- one claimant's loop -------------------------------------------------------------
    def _tick(self, c: Claimant) -> None:
        self.at(self.t + self.tick, lambda: self._tick(c))
        if c.busy or c.is_frozen(self.t):
            return
        if c.lease.held and self.t - c.last_renewal >= self.renew_every:
            c.last_renewal = self.t
            self._start(c, renew([c.lease], lambda: self._wall(c), self.lease_seconds))
        elif not c.lease.held:
            self._start(c, claim([c.lease], lambda: self._wall(c), self.lease_seconds))
        else:
            self._start(c, self._look(c))

    def _look(self, c: Claimant) -> Steps[None]:
        reply = yield ReadRows()
        c.lease.check(reply.rows[PRONG], reply.done)

    def _wall(self, c: Claimant) -> datetime:
        return EPOCH + timedelta(seconds=self.t + c.wall_offset)

    def _start(self, c: Claimant, steps: Steps[Any]) -> None:
        c.busy = True
        self._advance(c, steps, None, c.lease.held)

    def _advance(self, c: Claimant, steps: Steps[Any], reply: Reply | None, was_held: bool) -> None:
        try:
            step = steps.send(reply) if reply is not None else next(steps)
        except StopIteration:
            c.busy = False
            self._record(c, was_held)
            return
        sent = self.t
        if isinstance(step, Pause):
            done = sent + step.seconds
            self.at(done, lambda: self._advance(c, steps, Reply({}, sent, done), was_held))
            return
        up, down = self.latency(c.name, step)
        wake = self._wake_time(c, sent + up + down)

        def land() -> None:
            rows: dict[str, StatusRow] = {}
            if isinstance(step, ReadRows):
                rows = {PRONG: self.row}
            elif isinstance(step, WriteRows):
                for _, write in step.writes:
                    self.row = write.applied_to(self.row)
                    self.history.append((self.t, c.name, type(write).__name__))
            self.at(wake, lambda: self._advance(c, steps, Reply(rows, sent, wake), was_held))

        self.at(sent + up, land)

    def _wake_time(self, c: Claimant, answered: float) -> float:
        """A frozen claimant sees the answer only when it wakes up."""
        for start, end in c.frozen:
            if start <= answered < end:
                return end
        return answered

    def _record(self, c: Claimant, was_held: bool) -> None:
        lease = c.lease
        if lease.held and not was_held:
            c.windows.append([self.t, lease.lease_from + self.lease_seconds])
        elif lease.held and c.windows:
            c.windows[-1][1] = max(c.windows[-1][1], lease.lease_from + self.lease_seconds)


def overlaps(sim: Sim) -> list[tuple[str, str, list[float], list[float]]]:
    """Pairs of effect windows of different claimants that meet."""
    found = []
    names = list(sim.claimants)
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            for wa in sim.claimants[a].windows:
                for wb in sim.claimants[b].windows:
                    if wa[0] < wb[1] and wb[0] < wa[1]:
                        found.append((a, b, wa, wb))
    return found


def random_latency(rng: random.Random, slow: float = 0.1, quick: float = 0.6) -> Latency:
    """Answers within ``quick`` seconds each way, a ``slow`` share of them up to 4 s."""

    def latency(_: str, step: Step) -> tuple[float, float]:
        def one() -> float:
            return rng.uniform(0, 4.0) if rng.random() < slow else rng.uniform(0.02, quick)

        return one(), one()

    return latency
