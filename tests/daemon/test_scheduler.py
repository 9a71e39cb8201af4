"""The real APScheduler: one job per prong, on its own thread, never overlapping itself."""

from __future__ import annotations

import threading
import time

from daemon.scheduler import build_scheduler, misfire_grace_seconds


def test_each_job_runs_on_its_own_thread_without_overlapping_itself() -> None:
    lock = threading.Lock()
    running = {"slow": 0, "fast": 0}
    overlaps: list[str] = []
    runs = {"slow": 0, "fast": 0}
    threads: dict[str, set[str]] = {"slow": set(), "fast": set()}

    def job(name: str, seconds: float) -> None:
        with lock:
            running[name] += 1
            runs[name] += 1
            threads[name].add(threading.current_thread().name)
            if running[name] > 1:
                overlaps.append(name)
        time.sleep(seconds)
        with lock:
            running[name] -= 1

    scheduler = build_scheduler(
        [("slow", lambda: job("slow", 0.5)), ("fast", lambda: job("fast", 0.0))], 0.05
    )
    scheduler.start()
    try:
        time.sleep(0.6)
    finally:
        scheduler.shutdown(wait=True)
    assert overlaps == []  # max_instances=1
    assert runs["slow"] <= 2  # coalesced: no backlog of missed ticks afterwards
    assert runs["fast"] >= 4  # the slow job never held the fast one up
    for job_id in ("slow", "fast"):
        assert all(not t.startswith("MainThread") for t in threads[job_id])


def test_jobs_carry_the_reliability_defaults() -> None:
    scheduler = build_scheduler([("a", lambda: None), ("b", lambda: None)], 15)
    for job in scheduler.get_jobs():
        assert job.max_instances == 1 and job.coalesce is True
        assert job.misfire_grace_time == misfire_grace_seconds(15) == 7
    assert misfire_grace_seconds(1) == 1 and misfire_grace_seconds(600) == 10
