"""The lifecycle class, driven tick by tick on a fake clock: idle cost, watchdog, stop."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from cards.vocab import ProngState
from config.layout import Status
from config.settings import SettingsError
from daemon.cadence import plain_polling
from daemon.runner import ProngJob
from daemon.service import Service
from prongs.report import Budget, Gate, RunReport
from tests.daemon.conftest import (
    PURCHASES,
    REDEMPTIONS,
    STORE,
    WorkJob,
    airtable_calls,
    build_service,
    idle_job,
    idle_store_job,
    status_row,
)
from tests.fakes import World

LEASE_FIELDS = (Status.STATE, Status.OWNER, Status.LAST_STARTED_AT)


def _idle_service(world: World) -> Service:
    jobs = [idle_store_job(world.airtable), idle_job(PURCHASES), idle_job(REDEMPTIONS)]
    service, _ = build_service(world, jobs)
    service.preflight()
    return service


def _lease_fields(world: World, service: Service) -> dict[str, dict[str, object]]:
    return {p: {f: status_row(world, p).get(f) for f in LEASE_FIELDS} for p in service.jobs}


def _tick(service: Service) -> None:
    """What the scheduler does each tick: the board job, then every prong's job."""
    service.board_tick()
    for job in service.jobs.values():
        service.runner.run_scheduled(job)


def test_idle_costs_at_most_half_a_request_per_second_and_only_renews_the_lease(
    world: World,
) -> None:
    service = _idle_service(world)
    for _ in range(4):  # warm up: rows created, first heartbeats written
        _tick(service)
        world.clock.advance(15)
    leases_before = _lease_fields(world, service)
    calls_before = len(airtable_calls(world))

    for _ in range(4):  # one simulated minute at the default tick
        _tick(service)
        world.clock.advance(15)

    calls = airtable_calls(world)[calls_before:]
    assert len(calls) / 60 <= 0.5, calls
    # exactly: 4 ticks x (1 Status read + 4 queue polls) + the renewal of the three prongs'
    # leases (their idle heartbeat) in one batched write
    assert calls.count("airtable.list") == 4 * 5
    assert calls.count("airtable.update") == 1
    assert len(calls) == 4 * 5 + 1
    renewed_at = world.clock.now() - timedelta(seconds=60)
    for p in service.jobs:
        row = status_row(world, p)
        assert row.get(Status.HEARTBEAT_AT) == renewed_at
        assert row[Status.LEASE_EXPIRES_AT] == renewed_at + timedelta(seconds=service.lease_seconds)
    assert _lease_fields(world, service) == leases_before  # held all along: no claim, no run
    assert all(status_row(world, p)[Status.STATE] == ProngState.OFFLINE for p in service.jobs)


def test_the_idle_budget_formula_matches_the_defaults() -> None:
    # every tick: 4 queue polls + 1 Status read; one batched heartbeat write a minute
    assert plain_polling(15).requests_per_second(4) == pytest.approx(5 / 15 + 1 / 60)
    assert plain_polling(15).requests_per_second(4) <= 0.5
    assert plain_polling(5).requests_per_second(4) > 0.5  # a 5 s tick would break the budget


def test_a_row_another_owner_leases_live_is_never_written(world: World) -> None:
    other = world.airtable.insert(
        Status.TABLE,
        {
            Status.PRONG: STORE,
            Status.STATE: "Executing",
            Status.OWNER: "other:1:x",
            Status.HEARTBEAT_AT: world.clock.now(),
            Status.LEASE_EXPIRES_AT: world.clock.now().replace(year=2030),
        },
    )
    seeded = len(world.airtable.writes)
    service = _idle_service(world)
    world.clock.advance(60)
    service.board_tick()
    assert not [w for w in world.airtable.writes[seeded:] if w[1] == other]
    assert service.leases.held() == [PURCHASES, REDEMPTIONS]
    assert status_row(world, PURCHASES)[Status.HEARTBEAT_AT] == world.clock.now()


def _hung_store(block: threading.Event) -> WorkJob:
    return WorkJob(STORE, items=1, block=block)


def test_watchdog_pings_while_every_prong_finishes_runs(world: World) -> None:
    jobs = [WorkJob(STORE, handled_error="recX: email failed").job(), idle_job(PURCHASES)]
    service, notifier = build_service(world, jobs, environ={"WATCHDOG_USEC": "300000000"})
    service.preflight()
    for _ in range(20):  # 5 minutes of ticks, store failing every run (handled)
        _tick(service)
        world.clock.advance(15)
        assert service.watchdog_tick()
    assert notifier.count("WATCHDOG=1") == 20


def test_a_hung_prong_stops_the_watchdog_pings(world: World) -> None:
    block = threading.Event()
    hung = _hung_store(block)
    service, notifier = build_service(
        world, [hung.job(), idle_job(PURCHASES)], environ={"WATCHDOG_USEC": "300000000"}
    )
    service.preflight()
    thread = threading.Thread(target=service.runner.run_scheduled, args=(hung.job(),))
    thread.start()
    assert hung.started.wait(5)
    try:
        service.runner.run_scheduled(idle_job(PURCHASES))
        assert service.watchdog_tick()  # running, but not for long yet
        world.clock.advance(91)  # past the lease: hung
        service.runner.run_scheduled(idle_job(PURCHASES))
        assert not service.watchdog_tick()
        assert not service.watchdog_tick()
        assert notifier.count("WATCHDOG=1") == 1
        assert any(s.startswith("STATUS=not progressing") and STORE in s for s in notifier.sent)
        healthy, problems = service.health.healthy()
        assert not healthy and "hung" in problems[0]
    finally:
        block.set()
        thread.join(5)
    assert service.watchdog_tick()  # it came back: pings resume


def test_a_paused_prong_is_not_waited_for(world: World) -> None:
    service, notifier = build_service(
        world, [idle_job(STORE), idle_job(PURCHASES)], environ={"WATCHDOG_USEC": "300000000"}
    )
    service.preflight()
    record = str(status_row(world, STORE)["id"])
    world.airtable.tables[Status.TABLE][record][Status.STATE] = "Paused"
    service.board_tick()
    world.clock.advance(600)
    service.runner.run_scheduled(idle_job(PURCHASES))  # only purchases keeps running
    assert service.watchdog_tick()
    assert notifier.count("WATCHDOG=1") == 1
    assert service.health.healthy()[0]


def test_a_prong_whose_runs_stop_finishing_is_stalled(world: World) -> None:
    service, _ = build_service(world, [idle_job(STORE)], environ={"WATCHDOG_USEC": "300000000"})
    service.preflight()
    service.runner.run_scheduled(idle_job(STORE))
    world.clock.advance(90 + 2 * 15 + 1)  # no run finished for lease + two ticks
    assert not service.watchdog_tick()
    assert "stalled" in service.health.healthy()[1][0]


def test_the_watchdog_must_exceed_the_lease(world: World) -> None:
    service, _ = build_service(world, [idle_job(STORE)], environ={"WATCHDOG_USEC": "60000000"})
    with pytest.raises(SettingsError, match="WatchdogSec"):
        service.preflight()


def test_a_failing_prong_backs_off_without_stopping_the_others(world: World) -> None:
    calls: list[str] = []

    def failing(budget: Budget, gate: Gate) -> RunReport:
        calls.append(STORE)
        raise ConnectionError("airtable unreachable")

    def fine(budget: Budget, gate: Gate) -> RunReport:
        calls.append(PURCHASES)
        return RunReport(PURCHASES)

    jobs = [ProngJob(STORE, failing), ProngJob(PURCHASES, fine)]
    service, _ = build_service(world, jobs)
    service.preflight()
    for _ in range(12):
        _tick(service)
        world.clock.advance(15)
    assert calls.count(PURCHASES) == 12
    # runs at ticks 1, 2 (then skip 1), 4 (skip 3), 8 (skip 7): backing off, never stopped
    assert calls.count(STORE) == 4
    assert service.watchdog_tick()  # failing and backing off is still progress


def test_once_runs_every_prong_through_the_same_runner(world: World) -> None:
    store = WorkJob(STORE, items=2)
    service, _ = build_service(world, [store.job(), idle_job(PURCHASES)])
    outcomes = service.run_once()
    assert [o.prong for o in outcomes] == [STORE, PURCHASES]
    assert store.done == [0, 1]
    assert status_row(world, STORE)[Status.LAST_RUN_PROCESSED] == 2
    with pytest.raises(ValueError, match="unknown prong"):
        service.run_once(["nope"])


def test_a_stop_request_ends_a_run_at_its_next_recovery_point(world: World) -> None:
    block = threading.Event()
    work = WorkJob(STORE, items=5, block=block)
    service, notifier = build_service(world, [work.job()])
    service.preflight()
    thread = threading.Thread(target=service.runner.run, args=(work.job(),))
    thread.start()
    assert work.started.wait(5)

    service.request_stop()
    block.set()
    assert service.shutdown()
    thread.join(5)

    assert work.done == []  # stopped before the first record, at a recovery point
    assert "STOPPING=1" in notifier.sent
    row = status_row(world, STORE)
    assert row[Status.STATE] == ProngState.OFFLINE and Status.LEASE_EXPIRES_AT not in row


def test_queue_depths_a_run_reports_reach_the_metrics(world: World) -> None:
    def run(budget: Budget, gate: Gate) -> RunReport:
        return RunReport("store-transactions", queue_depths={"redemptions": 3, "creations": 0})

    service, _ = build_service(world, [ProngJob("store-transactions", run)])
    service.run_once()
    assert service.metrics.queue_depths() == {"redemptions": 3, "creations": 0}


def test_a_blocked_prong_is_skipped_before_it_touches_anything_and_the_page_says_why(
    world: World,
) -> None:
    reason: list[str] = ["Shopify calls stopped: no access token since 2026-01-02 03:04 UTC"]
    work = WorkJob(STORE, items=2)
    job = work.job()
    blocked = ProngJob(
        job.name, job.run, job.airtable_polls_per_tick, blocked=lambda: reason[0] or None
    )
    service, _ = build_service(world, [blocked, idle_job(PURCHASES)])
    service.preflight()
    calls = len(airtable_calls(world))
    (outcome,) = service.run_once([STORE])
    assert outcome.result.value == "skipped" and outcome.detail == reason[0]
    assert work.done == []
    # the board's read, and once's end giving the leases up: nothing of the prong's own
    assert airtable_calls(world)[calls:] == ["airtable.list", "airtable.update"]
    view = next(v for v in service.health.views() if v.name == STORE)
    assert view.recent[0].detail == reason[0]  # the status page's recent runs
    reason[0] = ""  # a token is had again
    (outcome,) = service.run_once([STORE])
    assert outcome.result.value == "ok" and len(work.done) == 2
