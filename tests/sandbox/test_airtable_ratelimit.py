"""The per-base sliding window and penalty on a fake clock (HTTP: test_airtable_faults)."""

from __future__ import annotations

from sandbox.airtable.ratelimit import BaseRateLimiter


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_sliding_window_then_penalty_without_extension() -> None:
    clock = FakeClock()
    limiter = BaseRateLimiter(5, penalty_seconds=30.0, clock=clock)
    for step in range(5):
        clock.now = 100.0 + step * 0.1
        assert limiter.allow("appA")
    clock.now = 100.9
    assert not limiter.allow("appA")  # sixth inside one second
    assert limiter.allow("appB")  # another base has its own budget
    clock.now = 120.0
    assert not limiter.allow("appA") and limiter.penalised("appA")
    clock.now = 130.95  # 30 s after the 429; the refused request at 120 did not extend it
    assert limiter.allow("appA")
    assert limiter.counts() == {"appA": {"answered_429": 2, "penalties": 1}}
    limiter.reset()
    assert limiter.counts() == {}


def test_window_slides_rather_than_resetting_each_second() -> None:
    clock = FakeClock()
    limiter = BaseRateLimiter(2, penalty_seconds=0.0, clock=clock)
    clock.now = 100.9
    assert limiter.allow("appA") and limiter.allow("appA")
    clock.now = 101.1  # a fixed window would have reset at 101.0
    assert not limiter.allow("appA")


def test_disabled_limit_always_allows() -> None:
    limiter = BaseRateLimiter(None)
    assert all(limiter.allow("appA") for _ in range(1000))
