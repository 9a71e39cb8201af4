"""Airtable's 5 requests per second per base, as one budget for every giftbridge process on the
machine, with no 429 from our own traffic whatever the network does.

**The rule.** A call may start only while fewer than ``limit`` calls are *in flight or ended
within the last* ``window`` *seconds* (``window`` = 1 s plus a margin). Counting a call until
``window`` after its response, not after its admission, is what makes this hold however the
network bunches arrivals up: Airtable counts a request when it arrives, which is after we
admitted it and before we have its response. Suppose six requests arrived within one second,
``[t, t + 1]``; take the one admitted last, at ``A <= t + 1``. Each of the other five was
admitted before ``A``; at ``A`` it was either still in flight (counted) or had ended at
``e >= its arrival >= t >= A - 1 > A - window`` (counted too). So five were counted at ``A`` and
the sixth was not admitted: a contradiction. Admission spacing alone cannot promise this: a
request that waits 200 ms on a slow connection lands in the next second beside the next five.
The price is one round trip per slot: at most ``limit / (window + round trip)`` calls a second
(4.6 at 30 ms, 3.7 at 300 ms), still far above what a 429 leaves (none for 30 s).

**One budget per base for every local process.** ``STATE_DIR/airtable-budget-<base id>.json``
holds the calls in flight (by process id), the ends of recent calls, the processes waiting
(with their priority and since when), and the silence after a 429, read and written under a
file lock (:mod:`filelock`) on each admission and each end: the daemon and an operator's
``giftbridge card search`` (run as the same user on the same ``STATE_DIR``, see the setup guide)
share one budget. Between processes the head of each process's queue competes by priority, then
by how long it has waited, so the daemon's store redemptions go before any ``card`` command's
calls. The clock is the system-wide monotonic clock (one for every process on the machine). A
process that dies leaves calls in flight that no one will end: they are ended when its process
id is found gone, or after ``stale_after`` seconds; a waiter that stops looking for half a second
is forgotten. A file from before a reboot (times ahead of the clock) is started afresh.

Within one process the queue, priorities and waiting are :class:`clients.ratelimit.PriorityGate`'s;
a process on its own (tests, no ``STATE_DIR``) keeps the same state in memory.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from filelock import FileLock

from clients.atomic_file import write_atomically
from clients.ratelimit import PriorityGate

WAITER_TTL = 0.5  # a waiting process refreshes its place at least this often (it polls faster)
FILE_POLL = 0.02  # how often a head looks again when another process may free a slot
LOCAL_WAIT = 0.25  # with only this process: a slot frees when one of our calls ends (notified)


@dataclass
class BudgetState:
    """The shared state of one base's budget (times on the system's monotonic clock)."""

    ends: list[float] = field(default_factory=list)  # when recent calls ended
    in_flight: dict[int, list[float]] = field(default_factory=dict)  # pid -> call start times
    waiting: dict[int, tuple[int, float, float]] = field(
        default_factory=dict
    )  # pid -> (priority, since, seen)
    silent_until: float = float("-inf")

    def prune(
        self, now: float, window: float, stale_after: float, alive: Callable[[int], bool]
    ) -> None:
        for pid in list(self.in_flight):
            starts = self.in_flight[pid]
            ended = [s for s in starts if now - s > stale_after] if alive(pid) else list(starts)
            for start in ended:
                starts.remove(start)
                self.ends.append(now)  # ended, as far as we can know, now
            if not starts:
                del self.in_flight[pid]
        self.ends = sorted(e for e in self.ends if e > now - window)
        self.waiting = {
            pid: w for pid, w in self.waiting.items() if now - w[2] <= WAITER_TTL and alive(pid)
        }

    def delay(
        self, me: int, rank: tuple[int, float], now: float, limit: int, window: float
    ) -> float | None:
        """0: go now; more: wait that long; None: unknown (a call in flight must end first, or
        another process waits ahead of us)."""
        if self.silent_until > now:
            return self.silent_until - now
        if any(pid != me and (w[0], w[1]) < rank for pid, w in self.waiting.items()):
            return None
        used = sum(len(s) for s in self.in_flight.values()) + len(self.ends)
        if used < limit:
            return 0.0
        excess = used - limit  # excess + 1 recent ends must leave the window
        return self.ends[excess] + window - now if excess < len(self.ends) else None

    def started(self, pid: int, now: float) -> None:
        self.in_flight.setdefault(pid, []).append(now)
        self.waiting.pop(pid, None)

    def ended(self, pid: int, now: float) -> None:
        starts = self.in_flight.get(pid)
        if starts:
            starts.remove(min(starts))
            if not starts:
                del self.in_flight[pid]
        self.ends.append(now)

    def to_json(self) -> dict[str, Any]:
        return {
            "ends": self.ends,
            "in_flight": {str(p): s for p, s in self.in_flight.items()},
            "waiting": {str(p): list(w) for p, w in self.waiting.items()},
            "silent_until": self.silent_until if self.silent_until > 0 else None,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any], now: float) -> BudgetState:
        state = cls(
            ends=[float(e) for e in data.get("ends", [])],
            in_flight={int(p): [float(s) for s in v] for p, v in data.get("in_flight", {}).items()},
            waiting={
                int(p): (int(w[0]), float(w[1]), float(w[2]))
                for p, w in data.get("waiting", {}).items()
            },
            silent_until=float(data.get("silent_until") or float("-inf")),
        )
        times = [*state.ends, *(s for v in state.in_flight.values() for s in v)]
        if any(t > now + 1 for t in times) or state.silent_until > now + 3600:
            return cls()  # written before a reboot: that monotonic clock is gone
        return state


class Ledger(Protocol):
    """Where the state lives; ``poll``: how often a waiting head looks again (None: only this
    process uses it, so a freed slot is always announced)."""

    poll: float | None

    def state(self) -> AbstractContextManager[BudgetState]: ...


class MemoryLedger:
    poll: float | None = None

    def __init__(self) -> None:
        self._state = BudgetState()

    @contextmanager
    def state(self) -> Iterator[BudgetState]:
        yield self._state  # the gate's own lock guards it


class FileLedger:
    """The state in a JSON file beside a lock file, both 0600, read and written under the lock;
    the file is replaced atomically, so a process killed mid-write leaves the last whole state."""

    poll: float | None = FILE_POLL

    def __init__(self, path: Path, clock: Callable[[], float] = time.monotonic) -> None:
        self.path = path
        self._clock = clock
        self._lock = FileLock(path.with_name(path.name + ".lock"), mode=0o600, thread_local=False)

    @contextmanager
    def state(self) -> Iterator[BudgetState]:
        with self._lock:
            now = self._clock()
            try:
                data = json.loads(self.path.read_text("utf-8"))
                state = BudgetState.from_json(data, now)
            except (OSError, ValueError, TypeError, KeyError, AttributeError, IndexError):
                data, state = None, BudgetState()
            yield state
            if state.to_json() == data:
                return  # nothing changed (a look at the state)
            write_atomically(self.path, json.dumps(state.to_json()))


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process: alive
    return True


class CallBudget(PriorityGate):
    """At most ``limit`` calls in flight or ended within ``window`` seconds (see the module)."""

    def __init__(
        self,
        name: str,
        *,
        limit: int,
        window: float,
        ledger: Ledger | None = None,
        stale_after: float = 120.0,
        clock: Callable[[], float] = time.monotonic,
        alive: Callable[[int], bool] = _alive,
        pid: Callable[[], int] = os.getpid,
    ) -> None:
        super().__init__(name, clock)
        if limit < 1 or window <= 0:
            raise ValueError("a call budget needs a positive limit and window")
        self.limit, self.window = limit, window
        self.ledger: Ledger = ledger or MemoryLedger()
        self.stale_after = stale_after
        self._alive = alive
        self._pid = pid  # this process (tests play two processes in one)
        self.poll = self.ledger.poll
        self.rate_limited = 0  # 429s this process was answered (each silences everybody)

    # PriorityGate's window hooks are not used: _try decides and counts in one step.
    def _delay(self, now: float, cost: float) -> float:  # pragma: no cover - not called
        raise NotImplementedError

    def _admit(self, now: float, cost: float) -> None:  # pragma: no cover - not called
        raise NotImplementedError

    def _try(self, now: float, cost: float, priority: int, waiting_since: float) -> float:
        me, rank = self._pid(), (priority, waiting_since)
        with self.ledger.state() as state:
            state.prune(now, self.window, self.stale_after, self._alive)
            delay = state.delay(me, rank, now, self.limit, self.window)
            if delay is not None and delay <= 0:
                state.started(me, now)
                return 0.0
            state.waiting[me] = (*rank, now)
        if delay is None:  # at least this long: a call must end, or another process go first
            return self.poll if self.poll is not None else LOCAL_WAIT
        return delay

    def _withdraw(self) -> None:
        with self.ledger.state() as state:
            state.waiting.pop(self._pid(), None)

    def release(self) -> None:
        with self._cond:
            with self.ledger.state() as state:
                state.ended(self._pid(), self._clock())
            self._cond.notify_all()

    def penalize(self, seconds: float) -> None:
        with self._cond:
            self.rate_limited += 1
            with self.ledger.state() as state:
                state.silent_until = max(state.silent_until, self._clock() + seconds)
            self._cond.notify_all()

    def silent_for(self) -> float:
        with self._cond, self.ledger.state() as state:
            return max(0.0, state.silent_until - self._clock())

    def in_use(self) -> int:
        """Calls in flight or ended within the window, every process's (for tests)."""
        with self._cond, self.ledger.state() as state:
            state.prune(self._clock(), self.window, self.stale_after, self._alive)
            return sum(len(s) for s in state.in_flight.values()) + len(state.ends)


def shared_file(state_dir: Path, base_id: str) -> Path:
    """The budget file of ``base_id`` in ``state_dir`` (created with the directory if needed)."""
    state_dir.mkdir(parents=True, exist_ok=True)
    return state_dir / f"airtable-budget-{base_id}.json"


#: Airtable's window is 1 s; ours 1.05 s after each call's end: the margin covers the server's
#: clock running a little apart from ours, and timer granularity.
AIRTABLE_WINDOW_MARGIN = 0.05


def airtable_limiter(
    per_second: int = 5,
    *,
    margin: float = AIRTABLE_WINDOW_MARGIN,
    window: float = 1.0,
    shared_file: Path | None = None,
) -> PriorityGate:
    """Airtable's budget for one base: this process's own, or (``shared_file``, in STATE_DIR)
    one for every giftbridge process on the machine."""
    ledger = FileLedger(shared_file) if shared_file is not None else None
    return CallBudget("airtable", limit=per_second, window=window + margin, ledger=ledger)
