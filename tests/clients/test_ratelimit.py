"""The shared limiters: window arithmetic (fake clock), priority order and silence (threads)."""

from __future__ import annotations

import threading
import time

import pytest

from clients.airtable_budget import CallBudget, airtable_limiter
from clients.ports import Priority, priority
from clients.ratelimit import (
    CostBucket,
    LimiterTimeout,
    Window,
    WindowLimiter,
    klaviyo_limiter,
)


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_window_admits_limit_then_asks_to_wait_for_the_oldest_to_leave() -> None:
    clock = Clock()
    limiter = WindowLimiter("t", [Window(5, 1.0)], clock=clock)
    for _ in range(5):
        assert limiter.acquire(max_wait=0) == 0
    with pytest.raises(LimiterTimeout) as caught:
        limiter.acquire(max_wait=0.5)
    assert caught.value.retry_after == pytest.approx(1.0)
    clock.now += 0.4
    with pytest.raises(LimiterTimeout) as caught:
        limiter.acquire(max_wait=0.5)
    assert caught.value.retry_after == pytest.approx(0.6)
    clock.now += 0.6
    assert limiter.acquire(max_wait=0) == 0


def test_every_window_of_a_two_window_limiter_binds() -> None:
    clock = Clock()
    limiter = WindowLimiter("t", [Window(3, 1.0), Window(4, 60.0)], clock=clock)
    for _ in range(3):
        limiter.acquire(max_wait=0)
    clock.now += 1.0
    limiter.acquire(max_wait=0)  # the 4th in the minute
    clock.now += 1.0
    with pytest.raises(LimiterTimeout) as caught:
        limiter.acquire(max_wait=1.0)
    assert caught.value.retry_after == pytest.approx(58.0)


def test_a_penalty_silences_everybody_and_never_shortens() -> None:
    clock = Clock()
    limiter = WindowLimiter("t", [Window(5, 1.0)], clock=clock)
    limiter.penalize(30)
    limiter.penalize(5)
    assert limiter.silent_for() == pytest.approx(30)
    with pytest.raises(LimiterTimeout) as caught:
        limiter.acquire(max_wait=10)
    assert caught.value.retry_after == pytest.approx(30)
    clock.now += 30
    assert limiter.acquire(max_wait=0) == 0


def test_cost_bucket_waits_for_the_missing_points_at_the_restore_rate() -> None:
    clock = Clock()
    bucket = CostBucket("s", maximum=100, restore_rate=10, clock=clock)
    bucket.acquire(80, max_wait=0)
    assert bucket.available() == pytest.approx(20)
    with pytest.raises(LimiterTimeout) as caught:
        bucket.acquire(50, max_wait=1)
    assert caught.value.retry_after == pytest.approx(3.0)
    bucket.observe(currently_available=60, maximum=200, restore_rate=20)
    assert bucket.maximum == 200
    bucket.acquire(50, max_wait=0)
    clock.now += 1
    assert bucket.available() == pytest.approx(30)


def test_cost_bucket_never_waits_forever_for_a_query_dearer_than_the_bucket() -> None:
    clock = Clock()
    bucket = CostBucket("s", maximum=100, restore_rate=10, clock=clock)
    assert bucket.acquire(500, max_wait=0) == 0  # waits for a full bucket, not for 500 points


def test_defaults_follow_the_services_published_limits() -> None:
    airtable = airtable_limiter()
    assert isinstance(airtable, CallBudget)
    assert airtable.limit == 5 and airtable.window == pytest.approx(1.05)
    kla = klaviyo_limiter()
    assert [w.limit for w in kla.windows] == [350, 3500]


class RecordingLimiter(WindowLimiter):
    """Keeps every admission time (taken under the limiter's lock)."""

    def __init__(self, windows: list[Window]) -> None:
        super().__init__("t", windows)
        self.stamps: list[float] = []

    def _admit(self, now: float, cost: float) -> None:
        super()._admit(now, cost)
        self.stamps.append(now)


def test_three_threads_never_put_more_than_five_admissions_in_one_window() -> None:
    limiter = RecordingLimiter([Window(5, 0.2)])

    def hammer() -> None:
        for _ in range(8):
            limiter.acquire()

    threads = [threading.Thread(target=hammer) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    stamps = limiter.stamps
    assert len(stamps) == 24
    assert stamps == sorted(stamps)
    for i in range(len(stamps) - 5):
        assert stamps[i + 5] - stamps[i] >= 0.2, "six admissions inside one window"
    assert stamps[-1] - stamps[0] < 1.5  # and it did not dawdle: 24 calls need ~0.8 s


def test_a_waiting_redemption_overtakes_bulk_calls_that_queued_before_it() -> None:
    limiter = WindowLimiter("t", [Window(1, 0.05)])
    order: list[str] = []
    lock = threading.Lock()
    limiter.acquire()  # the window is full: everybody below has to queue

    def call(name: str, level: Priority) -> None:
        with priority(level):
            limiter.acquire()
        with lock:
            order.append(name)

    bulk = [threading.Thread(target=call, args=(f"bulk{i}", Priority.BULK)) for i in range(4)]
    for thread in bulk:
        thread.start()
    time.sleep(0.01)  # the bulk calls are queued first
    urgent = threading.Thread(target=call, args=("redemption", Priority.REDEMPTION))
    urgent.start()
    for thread in [*bulk, urgent]:
        thread.join(timeout=10)
    assert order.index("redemption") <= 1, order


def test_a_caller_that_gives_up_leaves_the_queue() -> None:
    limiter = WindowLimiter("t", [Window(1, 0.3)])
    limiter.acquire()
    with pytest.raises(LimiterTimeout):
        limiter.acquire(max_wait=0.05)
    time.sleep(0.3)
    assert limiter.acquire(max_wait=0.1) < 0.1  # no ghost ticket blocks the head
