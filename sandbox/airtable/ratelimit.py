"""Airtable's per-base limit: N requests in any sliding window, then a penalty for the base.

Past the limit the request gets a 429 and every request to that base is refused until the
penalty ends (30 s in production). A refused request neither counts toward the window nor
extends the penalty (Airtable documents only "wait 30 seconds").
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable


class BaseRateLimiter:
    def __init__(
        self,
        limit: int | None = 5,
        *,
        window_seconds: float = 1.0,
        penalty_seconds: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """``limit=None`` turns the limiter off."""
        self.limit = limit
        self.window_seconds = window_seconds
        self.penalty_seconds = penalty_seconds
        self._clock = clock
        self._recent: dict[str, deque[float]] = {}
        self._penalty_until: dict[str, float] = {}
        self._lock = threading.Lock()
        # What the base's clients drew, for tests, benchmarks and `make run`: every request
        # answered 429 by the limit, and how many times the limit was crossed (penalties).
        self.answered_429: dict[str, int] = {}
        self.penalties: dict[str, int] = {}

    def allow(self, base_id: str) -> bool:
        """Count a request to ``base_id``; False when it must get a 429."""
        if self.limit is None:
            return True
        now = self._clock()
        with self._lock:
            if now < self._penalty_until.get(base_id, 0.0):
                return self._refused(base_id)
            recent = self._recent.setdefault(base_id, deque())
            while recent and recent[0] <= now - self.window_seconds:
                recent.popleft()
            if len(recent) >= self.limit:
                self._penalty_until[base_id] = now + self.penalty_seconds
                self.penalties[base_id] = self.penalties.get(base_id, 0) + 1
                return self._refused(base_id)
            recent.append(now)
            return True

    def _refused(self, base_id: str) -> bool:
        self.answered_429[base_id] = self.answered_429.get(base_id, 0) + 1
        return False

    def counts(self) -> dict[str, dict[str, int]]:
        """Per base: ``answered_429`` (requests refused by the limit) and ``penalties``."""
        with self._lock:
            bases = set(self.answered_429) | set(self.penalties)
            return {
                b: {
                    "answered_429": self.answered_429.get(b, 0),
                    "penalties": self.penalties.get(b, 0),
                }
                for b in sorted(bases)
            }

    def penalised(self, base_id: str) -> bool:
        with self._lock:
            return self._clock() < self._penalty_until.get(base_id, 0.0)

    def reset(self) -> None:
        with self._lock:
            self._recent.clear()
            self._penalty_until.clear()
            self.answered_429.clear()
            self.penalties.clear()
