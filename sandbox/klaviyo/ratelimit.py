"""Klaviyo's fixed-window limits (burst per second, steady per minute) and its headers.

Windows are aligned on the clock (the burst window is the current second, the steady window
the current minute). A refused request does not count. Successful responses carry
``RateLimit-Limit`` (the binding limit, then each policy as ``N;w=seconds``),
``RateLimit-Remaining`` and ``RateLimit-Reset`` (whole seconds until the binding window ends);
a 429 carries ``Retry-After`` (whole seconds, at least 1) instead.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    retry_after: int = 0
    headers: dict[str, str] | None = None


class FixedWindowLimiter:
    def __init__(
        self, policies: list[tuple[int, float]], clock: Callable[[], float] = time.time
    ) -> None:
        """``policies`` are (limit, window seconds); an empty list turns the limiter off."""
        self.policies = policies
        self._clock = clock
        self._counts: list[tuple[int, int]] = [(-1, 0)] * len(policies)  # (window index, n)
        self._lock = threading.Lock()

    def check(self) -> Decision:
        if not self.policies:
            return Decision(True, headers={})
        now = self._clock()
        with self._lock:
            counts = []
            for (_, window), (index, count) in zip(self.policies, self._counts, strict=True):
                current = math.floor(now / window)
                counts.append((current, count if index == current else 0))
            waits = [
                (index + 1) * window - now
                for (limit, window), (index, count) in zip(self.policies, counts, strict=True)
                if count >= limit
            ]
            if waits:
                self._counts = counts
                return Decision(False, retry_after=max(1, math.ceil(max(waits))))
            self._counts = [(index, count + 1) for index, count in counts]
            return Decision(True, headers=self._headers(now))

    def _headers(self, now: float) -> dict[str, str]:
        remaining = [
            (limit - count, limit, (index + 1) * window - now)
            for (limit, window), (index, count) in zip(self.policies, self._counts, strict=True)
        ]
        left, limit, reset = min(remaining)
        policies = ", ".join(f"{n};w={math.ceil(w)}" for n, w in self.policies)
        return {
            "RateLimit-Limit": f"{limit}, {policies}",
            "RateLimit-Remaining": str(left),
            "RateLimit-Reset": str(max(0, math.ceil(reset))),
        }

    def reset(self) -> None:
        with self._lock:
            self._counts = [(-1, 0)] * len(self.policies)
