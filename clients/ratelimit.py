"""Process-wide rate limiters, one per outside service, shared by every thread, with priority.

Every adapter calls :meth:`PriorityGate.acquire` right before each HTTP request. Callers queue
by ``clients.ports.current_priority()`` (REDEMPTION, then NORMAL, then BULK) and, within one
priority, first come first served: a waiting redemption is admitted before bulk calls that
queued earlier. Kinds of gate:

- :class:`WindowLimiter`: at most N admissions in any sliding window (Klaviyo: 350 per second
  and 3,500 per minute). Airtable's 5 per second per base is stricter (a 429 silences the base
  for 30 s) and shared between processes: :class:`clients.airtable_budget.CallBudget` counts
  each call until a window after its response instead.
- :class:`CostBucket`: Shopify's leaky bucket, estimated from the last ``throttleStatus`` seen
  and refilled at ``restoreRate``; bulk calls leave a reserve of it for the tills.

``penalize(seconds)`` silences a gate for everybody (Airtable's 429 means 30 s of silence for
the whole base, not just for the thread that got it). The clock is injectable so the admission
arithmetic can be tested without sleeping.
"""

from __future__ import annotations

import abc
import heapq
import itertools
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from clients.ports import Priority, current_priority


class LimiterTimeout(Exception):
    """Admission would take longer than the caller may wait; ``retry_after`` is our estimate."""

    def __init__(self, name: str, retry_after: float) -> None:
        super().__init__(f"{name}: no admission within the allowed wait ({retry_after:.1f}s)")
        self.retry_after = retry_after


class PriorityGate(abc.ABC):
    """The queue and the waiting; subclasses say when the head of the queue may go."""

    def __init__(self, name: str, clock: Callable[[], float] = time.monotonic) -> None:
        self.name = name
        self._clock = clock
        self._cond = threading.Condition()
        self._queue: list[tuple[int, int]] = []  # heap of (priority, arrival number)
        self._arrivals = itertools.count()
        self._silent_until = float("-inf")
        self.admitted = 0
        # A head looks again at least this often (None: when its delay is over, or when woken):
        # a budget shared with other processes cannot be woken by them.
        self.poll: float | None = None
        # Told (name, seconds) whenever a caller had to wait: the daemon's metrics listen here.
        self.on_wait: Callable[[str, float], None] | None = None

    # --- what subclasses define (called with the lock held) ------------------------------------
    @abc.abstractmethod
    def _delay(self, now: float, cost: float) -> float:
        """Seconds until a call of ``cost`` may go; 0 or less means now."""

    @abc.abstractmethod
    def _admit(self, now: float, cost: float) -> None:
        """Count a call of ``cost`` admitted at ``now``."""

    def _headroom(self, priority: int) -> float:
        """What a call of this priority must leave for others (beyond its own cost)."""
        return 0.0

    def _try(self, now: float, cost: float, priority: int, waiting_since: float) -> float:
        """Admit the head of the queue if it may go now (0 or less), else the seconds to wait
        before asking again. ``waiting_since``: when the head started waiting (the order
        between processes sharing a budget, :mod:`clients.airtable_budget`)."""
        wanted = cost + self._headroom(priority)
        delay = max(self._silent_until - now, self._delay(now, wanted))
        if delay <= 0:
            self._admit(now, cost)
        return delay

    def _withdraw(self) -> None:  # noqa: B027 - a hook; window and bucket gates need none
        """The head of the queue gave up waiting (a budget shared between processes forgets
        its place)."""

    def release(self) -> None:  # noqa: B027 - a hook; window and bucket gates need none
        """The admitted call is over: its response came, or it failed. Window and bucket
        limits count admissions only; a budget that counts calls in flight overrides this."""

    # --- the shared part -----------------------------------------------------------------------
    def acquire(self, cost: float = 1.0, *, max_wait: float | None = None) -> float:
        """Block until this call may go; returns the seconds waited.

        Raises :class:`LimiterTimeout` when admission would come after ``max_wait`` seconds.
        """
        ticket = (int(current_priority()), next(self._arrivals))
        start = self._clock()
        with self._cond:
            heapq.heappush(self._queue, ticket)
            try:
                waited = self._wait_for_turn(ticket, cost, start, max_wait)
            except BaseException:
                if ticket in self._queue:
                    if self._queue[0] == ticket:
                        self._withdraw()
                    self._queue.remove(ticket)
                    heapq.heapify(self._queue)
                    self._cond.notify_all()
                raise
        if waited > 0.001 and self.on_wait is not None:  # a real wait, not clock jitter
            self.on_wait(self.name, waited)
        return waited

    def _wait_for_turn(
        self, ticket: tuple[int, int], cost: float, start: float, max_wait: float | None
    ) -> float:
        while True:
            now = self._clock()
            delay: float | None = None  # None: not at the head, wait to be woken
            if self._queue[0] == ticket:
                delay = self._try(now, cost, ticket[0], start)
                if delay <= 0:
                    heapq.heappop(self._queue)
                    self.admitted += 1
                    self._cond.notify_all()  # the next head re-computes its own delay
                    return now - start
            timeout = delay
            if max_wait is not None:
                remaining = start + max_wait - now
                if remaining <= 0 or (delay is not None and delay > remaining):
                    raise LimiterTimeout(self.name, delay if delay is not None else max_wait)
                timeout = remaining if delay is None else min(delay, remaining)
            if self.poll is not None and delay is not None:
                timeout = min(timeout, self.poll) if timeout is not None else self.poll
            self._cond.wait(timeout)

    def penalize(self, seconds: float) -> None:
        """Admit nobody for ``seconds`` from now (extends, never shortens, a silence)."""
        with self._cond:
            self._silent_until = max(self._silent_until, self._clock() + seconds)
            self._cond.notify_all()

    def silent_for(self) -> float:
        with self._cond:
            return max(0.0, self._silent_until - self._clock())


@dataclass(frozen=True, slots=True)
class Window:
    limit: int
    seconds: float


class WindowLimiter(PriorityGate):
    """At most ``limit`` admissions in any ``seconds``-long window, for every given window."""

    def __init__(
        self, name: str, windows: Sequence[Window], clock: Callable[[], float] = time.monotonic
    ) -> None:
        super().__init__(name, clock)
        if not windows or any(w.limit < 1 or w.seconds <= 0 for w in windows):
            raise ValueError("a window limiter needs windows with a positive limit and length")
        self.windows = tuple(windows)
        # Only the last `limit` admissions matter for each window.
        self._recent = [deque[float](maxlen=w.limit) for w in self.windows]

    def _delay(self, now: float, cost: float) -> float:
        delay = 0.0
        for window, recent in zip(self.windows, self._recent, strict=True):
            if len(recent) == window.limit:
                delay = max(delay, recent[0] + window.seconds - now)
        return delay

    def _admit(self, now: float, cost: float) -> None:
        for recent in self._recent:
            recent.append(now)


class CostBucket(PriorityGate):
    """Shopify's leaky bucket as we last saw it, refilled at ``restore_rate`` points per second.

    ``observe()`` resets the estimate from a response's ``throttleStatus``; admissions spend
    their expected cost up front so that concurrent threads do not all see the same budget.
    """

    def __init__(
        self,
        name: str,
        *,
        maximum: float = 1000.0,
        restore_rate: float = 50.0,
        bulk_reserve_share: float = 0.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(name, clock)
        if not 0.0 <= bulk_reserve_share < 1.0:
            raise ValueError("the bulk reserve is a share of the bucket, from 0 to under 1")
        self.maximum = maximum
        self.restore_rate = restore_rate
        self.bulk_reserve_share = bulk_reserve_share
        self._available = maximum
        self._updated = clock()

    def _estimate(self, now: float) -> float:
        refill = (now - self._updated) * self.restore_rate
        return min(self.maximum, self._available + max(0.0, refill))

    def _delay(self, now: float, cost: float) -> float:
        wanted = min(cost, self.maximum)  # a query dearer than the bucket waits for a full one
        missing = wanted - self._estimate(now)
        return missing / self.restore_rate if missing > 0 else 0.0

    def _admit(self, now: float, cost: float) -> None:
        self._available = self._estimate(now) - cost
        self._updated = now

    def _headroom(self, priority: int) -> float:
        """Bulk calls (the audit, creations) wait until the bucket would still hold
        ``bulk_reserve_share`` of its size after them: a till's debit never finds it empty."""
        return self.bulk_reserve_share * self.maximum if priority >= Priority.BULK else 0.0

    def observe(self, currently_available: float, maximum: float, restore_rate: float) -> None:
        with self._cond:
            if maximum > 0:
                self.maximum = maximum
            if restore_rate > 0:
                self.restore_rate = restore_rate
            self._available = min(self.maximum, max(0.0, currently_available))
            self._updated = self._clock()
            self._cond.notify_all()

    def available(self) -> float:
        with self._cond:
            return self._estimate(self._clock())


# --- the defaults for the three services -------------------------------------------------------

def klaviyo_limiter(burst: int = 350, steady_per_minute: int = 3500) -> WindowLimiter:
    return WindowLimiter("klaviyo", [Window(burst, 1.02), Window(steady_per_minute, 60.5)])


#: The share of Shopify's bucket bulk work leaves for store redemptions (see CostBucket).
SHOPIFY_BULK_RESERVE = 0.2


def shopify_limiter(
    maximum: float = 1000.0,
    restore_rate: float = 50.0,
    bulk_reserve_share: float = SHOPIFY_BULK_RESERVE,
) -> CostBucket:
    return CostBucket(
        "shopify",
        maximum=maximum,
        restore_rate=restore_rate,
        bulk_reserve_share=bulk_reserve_share,
    )
