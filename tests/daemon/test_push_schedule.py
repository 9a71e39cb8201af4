"""Waking the store prong's job through the real APScheduler, one run at a time and without
losing a wake-up; the safety-net cadence; and the idle budget of each push mode."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest

from config.settings import PushMode
from daemon.cadence import CadenceSwitch, healthy_push, idle_figures, plain_polling
from daemon.clock import SystemClock
from daemon.health import HealthBook
from daemon.push_schedule import SafetyNetTick, StoreWaker
from daemon.scheduler import build_scheduler
from tests.fakes import FakeClock

STORE = "store-transactions"


class Prong:
    """A store job that records its runs; ``hold`` keeps a run going until released."""

    def __init__(self) -> None:
        self.runs: list[float] = []
        self.running = 0
        self.overlapped = False
        self.hold = threading.Event()
        self.hold.set()
        self.started = threading.Event()
        self._lock = threading.Lock()

    def __call__(self) -> None:
        with self._lock:
            self.running += 1
            self.overlapped |= self.running > 1
            self.runs.append(time.monotonic())
        self.started.set()
        self.hold.wait(10)
        with self._lock:
            self.running -= 1


def _wait(condition: Callable[[], bool], seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def _scheduled(prong: Prong, tick: float = 60.0, *, healthy: bool = True):  # type: ignore[no-untyped-def]
    clock = SystemClock()
    cadence = CadenceSwitch(tick, healthy_push(PushMode.POLL, 2.5))
    cadence.set_push_healthy(healthy)
    waker = StoreWaker(clock)
    health = HealthBook([STORE], clock, hung_after=90, stall_after=120)
    tick_fn = SafetyNetTick(STORE, prong, waker=waker, cadence=cadence, health=health, clock=clock)
    scheduler = build_scheduler([(STORE, tick_fn)], tick)
    waker.attach(scheduler, STORE)
    return scheduler, waker, health


def test_a_wake_runs_the_job_now_not_at_the_next_tick() -> None:
    prong = Prong()
    scheduler, waker, _ = _scheduled(prong)
    scheduler.start()
    try:
        _wait(lambda: len(prong.runs) == 1)  # the first tick, at start
        time.sleep(0.2)
        woken_at = time.monotonic()
        waker.wake("a form")
        _wait(lambda: len(prong.runs) == 2)
        assert prong.runs[1] - woken_at < 1.0  # the tick is 60 s
    finally:
        scheduler.shutdown(wait=True)


def test_a_wake_during_a_run_runs_again_after_it_never_alongside() -> None:
    prong = Prong()
    scheduler, waker, _ = _scheduled(prong)
    scheduler.start()
    try:
        _wait(lambda: len(prong.runs) == 1)
        prong.hold.clear()
        waker.wake("first")
        _wait(prong.started.is_set)
        _wait(lambda: len(prong.runs) == 2)
        waker.wake("while it runs")  # APScheduler skips the start: max_instances=1
        waker.wake("and again")
        time.sleep(0.3)
        assert len(prong.runs) == 2
        prong.hold.set()
        _wait(lambda: len(prong.runs) == 3)  # both wakes taken by one more run
        time.sleep(0.3)
        assert len(prong.runs) == 3 and not prong.overlapped and not waker.pending
    finally:
        prong.hold.set()
        scheduler.shutdown(wait=True)


def test_a_skipped_kick_is_kicked_again_while_the_wake_waits() -> None:
    clock = FakeClock()
    waker = StoreWaker(clock)
    kicks: list[int] = []
    waker._kick = lambda: kicks.append(1)  # as attach() does, without a scheduler
    waker.wake("a form")
    assert len(kicks) == 1 and not waker.rekick_if_waiting()
    clock.advance(1.0)
    assert waker.rekick_if_waiting() and len(kicks) == 2
    assert waker.take() and not waker.rekick_if_waiting()


def test_between_safety_nets_a_tick_only_reports_alive() -> None:
    clock = FakeClock()
    cadence = CadenceSwitch(15, healthy_push(PushMode.POLL, 2.5))
    cadence.set_push_healthy(True)
    waker = StoreWaker(clock)
    health = HealthBook([STORE], clock, hung_after=90, stall_after=120)
    runs: list[float] = []
    tick = SafetyNetTick(
        STORE,
        lambda: runs.append(clock.monotonic()),
        waker=waker,
        cadence=cadence,
        health=health,
        clock=clock,
    )
    for _ in range(12):  # three minutes of 15 s ticks
        tick()
        clock.advance(15)
    assert len(runs) == 3  # every 60 s
    assert health.progressing() == (True, [])  # 45 s between runs is not a stall
    waker.wake("a form")
    tick()
    assert len(runs) == 4
    clock.advance(15)
    tick()
    assert len(runs) == 4  # the woken run was a full poll: the safety net starts over
    cadence.set_push_healthy(False)
    tick()
    assert len(runs) == 5  # not healthy: every tick


# --- the idle budget -----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("cadence", "budget", "monthly"),
    [
        (plain_polling(15), 0.5, 907_200),
        (healthy_push(PushMode.POLL, 2.5), 0.5, 1_227_600),
        (healthy_push(PushMode.NOTIFY, 2.5), 0.04, 30_990),
    ],
)
def test_each_mode_keeps_its_idle_budget(cadence: object, budget: float, monthly: int) -> None:
    assert cadence.requests_per_second(4) <= budget  # type: ignore[attr-defined]
    assert cadence.monthly_calls(4) == pytest.approx(monthly, abs=100)  # type: ignore[attr-defined]


def test_the_start_log_figures() -> None:
    assert idle_figures(15, 4, None) == {"requests_per_second": 0.35}
    assert idle_figures(15, 4, healthy_push(PushMode.NOTIFY, 2.5)) == {
        "requests_per_second": 0.35,
        "push_healthy_requests_per_second": 0.012,
    }
