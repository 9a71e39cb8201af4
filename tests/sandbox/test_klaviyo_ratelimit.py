"""Klaviyo's fixed windows and headers, on a fake clock."""

from __future__ import annotations

from sandbox.klaviyo.ratelimit import FixedWindowLimiter


class FakeClock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_burst_and_steady_windows() -> None:
    clock = FakeClock(1_000.2)
    limiter = FixedWindowLimiter([(2, 1.0), (3, 60.0)], clock=clock)
    first = limiter.check()
    assert first.allowed and first.headers == {
        "RateLimit-Limit": "2, 2;w=1, 3;w=60",
        "RateLimit-Remaining": "1",
        "RateLimit-Reset": "1",
    }
    assert limiter.check().allowed
    refused = limiter.check()
    assert (refused.allowed, refused.retry_after) == (False, 1)
    clock.now = 1_001.0  # a new second: the burst window resets, the minute has one left
    assert limiter.check().allowed
    clock.now = 1_001.5
    refused = limiter.check()
    assert not refused.allowed and refused.retry_after == 19  # the minute ends at 1020
    clock.now = 1_020.0
    assert limiter.check().allowed


def test_no_policies_means_no_limit() -> None:
    limiter = FixedWindowLimiter([])
    assert all(limiter.check().allowed for _ in range(1000))
