"""A prong that keeps failing backs off, without stopping the others.

Counted in ticks, not seconds, so scheduler jitter never skips one tick too many: after ``n``
consecutive failed runs the prong sits out ``2**(n-1) - 1`` ticks (1, 3, 7, ...), at most
``cap_seconds`` worth of ticks (2 minutes by default, so a recovered Airtable or Shopify is picked
up quickly; a store redemption never waits long after an outage ends). One successful run resets
it. ``once`` does not back off: an operator asking for a run gets one.
"""

from __future__ import annotations

import threading

DEFAULT_CAP_SECONDS = 120.0


class Backoff:
    def __init__(self, tick_seconds: float, cap_seconds: float = DEFAULT_CAP_SECONDS) -> None:
        self._cap_ticks = max(1, int(cap_seconds // tick_seconds))
        self._failures: dict[str, int] = {}
        self._skips_left: dict[str, int] = {}
        self._lock = threading.Lock()

    def should_skip(self, prong: str) -> bool:
        """Called once per scheduled tick: True means sit this tick out."""
        with self._lock:
            left = self._skips_left.get(prong, 0)
            if left > 0:
                self._skips_left[prong] = left - 1
                return True
            return False

    def record(self, prong: str, *, failed: bool) -> None:
        with self._lock:
            if not failed:
                self._failures.pop(prong, None)
                self._skips_left.pop(prong, None)
                return
            n = self._failures.get(prong, 0) + 1
            self._failures[prong] = n
            self._skips_left[prong] = min(2 ** min(n - 1, 16) - 1, self._cap_ticks)

    def failures(self, prong: str) -> int:
        with self._lock:
            return self._failures.get(prong, 0)
