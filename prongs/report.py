"""What every prong run takes (a budget and a gate) and gives back (a report).

A run is bounded by its :class:`Budget` (the run budget, and the daemon's stop flag) and checks it
between records, so it always stops at a recovery point. Before its first outside effect it asks
the :class:`Gate` for the lease: a run that finds nothing to do never touches the lease, and a run
whose gate says no (another owner's live lease, or Paused) does nothing.
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from clients.errors import Retryable
from clients.ports import Clock


class Gate(Protocol):
    def claim(self) -> bool:
        """Take the lease before the first effect; False means do nothing this run."""
        ...

    def heartbeat(self) -> None:
        """Called between records; the daemon renews the lease at most once a minute."""
        ...


@runtime_checkable
class Fence(Protocol):
    """What a gate that holds a real lease also answers (the daemon's, :mod:`daemon.lease`):
    whether effects are allowed right now, and whether another owner may have acted lately."""

    def fence(self) -> None:
        """Raise :class:`LeaseNotProven` unless this process may move money right now (called
        right before each debit or credit)."""
        ...

    def contested(self) -> bool:
        """The lease was taken over from another owner within a lease period: read Shopify
        back for a request's key before moving money, fresh requests too."""
        ...


class LeaseNotProven(Retryable):
    """Ownership of the prong is not proven now: nothing was done; the next run tries again."""

    def __init__(self, why: str) -> None:
        super().__init__("giftbridge", "lease", f"not moving money: {why}")


class NoFence:
    """The fence of a gate without a lease (tests, a single process by design): always open."""

    def fence(self) -> None:
        return None

    def contested(self) -> bool:
        return False


def fence_of(gate: Gate) -> Fence:
    return gate if isinstance(gate, Fence) else NoFence()


class OpenGate:
    """A gate that always lets the run through (tests, and ``once`` without a base lease)."""

    def __init__(self) -> None:
        self.claims = 0
        self.heartbeats = 0

    def claim(self) -> bool:
        self.claims += 1
        return True

    def heartbeat(self) -> None:
        self.heartbeats += 1


class Budget:
    """The run's time allowance plus the process's stop flag."""

    def __init__(self, clock: Clock, seconds: float, stop: threading.Event | None = None) -> None:
        self._clock = clock
        self._deadline = clock.monotonic() + seconds
        self._stop = stop or threading.Event()

    def remaining(self) -> float:
        return max(0.0, self._deadline - self._clock.monotonic())

    @property
    def exhausted(self) -> bool:
        """True when the run must stop at the next recovery point."""
        return self._stop.is_set() or self.remaining() <= 0


@dataclass
class RunReport:
    prong: str
    found_work: bool = False
    skipped: str | None = None  # why the run did nothing (lease held, Paused)
    processed: int = 0  # records brought to a final state
    outcomes: Counter[str] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)  # handled errors, one line each
    budget_exhausted: bool = False
    # Records waiting in each queue when the run first read it (up to one page): the status
    # page and /metrics show them.
    queue_depths: dict[str, int] = field(default_factory=dict)

    def record(self, outcome: str) -> None:
        self.processed += 1
        self.outcomes[outcome] += 1

    @property
    def failed(self) -> bool:
        return bool(self.errors)
