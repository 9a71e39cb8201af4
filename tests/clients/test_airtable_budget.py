"""Airtable's budget: calls counted until a window after they end, one budget for every local
process (a file in STATE_DIR), priorities across processes, dead processes forgotten."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest

from clients.airtable_budget import BudgetState, CallBudget, FileLedger
from clients.ports import Priority, priority
from clients.ratelimit import LimiterTimeout


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def budget(clock: Clock, ledger: FileLedger | None = None, pid: int = 1) -> CallBudget:
    return CallBudget(
        "airtable",
        limit=5,
        window=1.0,
        ledger=ledger,
        clock=clock,
        pid=lambda: pid,
        alive=lambda p: p in (1, 2),
    )


def test_a_call_counts_until_a_window_after_its_end_not_its_admission() -> None:
    clock = Clock()
    gate = budget(clock)
    for _ in range(5):
        assert gate.acquire(max_wait=0) == 0
    clock.now += 5.0  # five slow calls still in flight: nothing may start
    with pytest.raises(LimiterTimeout):
        gate.acquire(max_wait=0)
    gate.release()  # one ends at 105.0
    clock.now += 0.99
    with pytest.raises(LimiterTimeout):
        gate.acquire(max_wait=0)
    clock.now += 0.02
    assert gate.acquire(max_wait=0) == 0
    assert gate.in_use() == 5


def test_a_penalty_silences_every_process_sharing_the_file(tmp_path: Path) -> None:
    clock = Clock()
    path = tmp_path / "budget.json"
    one, two = budget(clock, FileLedger(path, clock), 1), budget(clock, FileLedger(path, clock), 2)
    one.penalize(30)
    assert two.silent_for() == pytest.approx(30)
    with pytest.raises(LimiterTimeout) as caught:
        two.acquire(max_wait=1)
    assert caught.value.retry_after == pytest.approx(30)
    clock.now += 30
    assert two.acquire(max_wait=0) == 0


def test_two_processes_share_one_budget(tmp_path: Path) -> None:
    clock = Clock()
    path = tmp_path / "budget.json"
    one, two = budget(clock, FileLedger(path, clock), 1), budget(clock, FileLedger(path, clock), 2)
    for _ in range(3):
        one.acquire(max_wait=0)
    for _ in range(2):
        two.acquire(max_wait=0)
    with pytest.raises(LimiterTimeout):
        one.acquire(max_wait=0)
    two.release()
    clock.now += 1.01
    assert one.acquire(max_wait=0) == 0
    assert path.stat().st_mode & 0o077 == 0


def test_a_redemption_waiting_in_the_daemon_goes_before_a_cli_call_that_waited_longer(
    tmp_path: Path,
) -> None:
    path = tmp_path / "budget.json"

    def process(pid: int) -> CallBudget:
        return CallBudget(
            "airtable",
            limit=5,
            window=0.3,
            ledger=FileLedger(path),
            pid=lambda: pid,
            alive=lambda p: p in (1, 2),
        )

    daemon, cli = process(1), process(2)
    for _ in range(5):
        daemon.acquire(max_wait=0)
        daemon.release()  # five calls just ended: nobody may start for 0.3 s
    admitted: list[str] = []

    def call(gate: CallBudget, level: Priority, name: str) -> None:
        with priority(level):
            gate.acquire(max_wait=5)
        admitted.append(name)

    bulk = threading.Thread(target=call, args=(cli, Priority.BULK, "cli"))
    bulk.start()
    time.sleep(0.05)  # the CLI has waited longer...
    urgent = threading.Thread(target=call, args=(daemon, Priority.REDEMPTION, "redemption"))
    urgent.start()
    for thread in (bulk, urgent):
        thread.join(timeout=10)
    assert admitted == ["redemption", "cli"]  # ...and still goes second


def test_a_dead_process_calls_and_place_are_forgotten(tmp_path: Path) -> None:
    clock = Clock()
    path = tmp_path / "budget.json"
    living = CallBudget(
        "airtable",
        limit=5,
        window=1.0,
        ledger=FileLedger(path, clock),
        clock=clock,
        pid=lambda: 1,
        alive=lambda p: p == 1,
    )
    state = BudgetState(in_flight={7: [99.0] * 5}, waiting={7: (0, 50.0, 100.0)})
    path.write_text(json.dumps(state.to_json()), "utf-8")
    with pytest.raises(LimiterTimeout):  # pid 7 died: its calls ended now, as far as we know
        living.acquire(max_wait=0)
    clock.now += 1.01
    assert living.acquire(max_wait=0) == 0  # and its place in the queue is gone
    assert living.in_use() == 1


def test_a_file_from_before_a_reboot_starts_afresh(tmp_path: Path) -> None:
    clock = Clock()
    path = tmp_path / "budget.json"
    state = BudgetState(in_flight={1: [9_000.0] * 5}, silent_until=99_999.0)
    path.write_text(json.dumps(state.to_json()), "utf-8")
    assert budget(clock, FileLedger(path, clock)).acquire(max_wait=0) == 0


def test_threads_of_one_process_never_have_more_than_five_counted() -> None:
    gate = CallBudget("airtable", limit=5, window=0.1)
    peak = 0
    lock = threading.Lock()

    def call() -> None:
        nonlocal peak
        for _ in range(6):
            gate.acquire(max_wait=5)
            with lock:
                peak = max(peak, gate.in_use())
            gate.release()

    threads = [threading.Thread(target=call) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    assert peak == 5 and gate.admitted == 24
