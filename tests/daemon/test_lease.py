"""The Status lease: claim, skip, take over, heartbeat, release in every case."""

from __future__ import annotations

import threading
from datetime import timedelta

import structlog

from cards.vocab import ProngState
from config.layout import Status
from daemon.health import RunResult
from daemon.lease import HEARTBEAT_SECONDS, Lease, StatusBoard
from daemon.runner import ProngJob
from prongs.report import RunReport
from tests.daemon.conftest import (
    OWNER,
    PRONGS,
    STORE,
    WorkJob,
    build_service,
    status_row,
    status_writes,
)
from tests.fakes import World

OTHER = "host-b:200:bbbbbb"


def _seed(world: World, prong: str = STORE, **fields: object) -> str:
    return world.airtable.insert(Status.TABLE, {Status.PRONG: prong, **fields})


def test_a_run_claims_then_releases_with_its_figures(world: World) -> None:
    work = WorkJob(STORE, items=3)
    service, _ = build_service(world, [work.job()])
    service.board.refresh()
    start = world.clock.now()

    outcome = service.runner.run(work.job())

    assert outcome.result is RunResult.OK
    assert work.done == [0, 1, 2]
    row = status_row(world, STORE)
    assert row[Status.STATE] == ProngState.OFFLINE
    assert row[Status.OWNER] == OWNER  # the last owner stays, for the operator
    assert Status.LEASE_EXPIRES_AT not in row  # cleared: nobody holds it now
    assert row[Status.LAST_STARTED_AT] == start
    assert row[Status.LAST_FINISHED_AT] == start
    assert row[Status.LAST_SUCCESS_AT] == start
    assert row[Status.LAST_RUN_PROCESSED] == 3
    assert Status.LAST_ERROR not in row
    cached = service.board.cached(STORE)  # the status page's copy follows our own writes
    assert cached is not None and cached.state is ProngState.OFFLINE
    assert cached.last_run_processed == 3 and cached.lease_expires_at is None
    claim = next(w for w in status_writes(world) if w[2].get(Status.STATE) == "Executing")
    assert claim[2][Status.OWNER] == OWNER
    assert claim[2][Status.LEASE_EXPIRES_AT] == start + timedelta(seconds=90)


def test_a_live_lease_of_another_owner_is_respected(world: World) -> None:
    until = world.clock.now() + timedelta(seconds=30)
    _seed(world, **{Status.STATE: "Executing", Status.OWNER: OTHER})
    record = status_row(world, STORE)["id"]
    world.airtable.tables[Status.TABLE][str(record)][Status.LEASE_EXPIRES_AT] = until
    work = WorkJob(STORE)
    service, _ = build_service(world, [work.job()])
    service.board.refresh()
    writes_before = len(status_writes(world))

    outcome = service.runner.run(work.job())

    assert outcome.result is RunResult.SKIPPED
    assert outcome.detail is not None and OTHER in outcome.detail
    assert work.claims == [False] and work.done == []
    assert len(status_writes(world)) == writes_before  # nothing written over their lease
    assert status_row(world, STORE)[Status.OWNER] == OTHER


def test_a_stale_lease_is_taken_over_with_a_log_line(world: World) -> None:
    _seed(world, **{Status.STATE: "Executing", Status.OWNER: OTHER})
    record = str(status_row(world, STORE)["id"])
    stale = world.clock.now() - timedelta(seconds=1)
    world.airtable.tables[Status.TABLE][record][Status.LEASE_EXPIRES_AT] = stale
    work = WorkJob(STORE, items=1)
    service, _ = build_service(world, [work.job()])
    service.board.refresh()

    with structlog.testing.capture_logs() as logs:
        outcome = service.runner.run(work.job())

    assert outcome.result is RunResult.OK and work.done == [0]
    taken = [e for e in logs if e["event"] == "lease.taken_over"]
    assert taken and taken[0]["previous_owner"] == OTHER
    assert status_row(world, STORE)[Status.OWNER] == OWNER


def test_paused_is_respected_and_polls_nothing(world: World) -> None:
    _seed(world, **{Status.STATE: "Paused"})
    work = WorkJob(STORE)
    service, _ = build_service(world, [work.job()])
    service.board.refresh()
    calls_before = len(world.injector.calls)

    outcome = service.runner.run(work.job())

    assert outcome.result is RunResult.SKIPPED and outcome.detail == "Paused"
    assert work.claims == []  # the pre-check kept the prong from even polling its queues
    assert len(world.injector.calls) == calls_before
    assert status_row(world, STORE)[Status.STATE] == "Paused"


def test_paused_found_at_claim_skips_the_run(world: World) -> None:
    work = WorkJob(STORE)
    service, _ = build_service(world, [work.job()])
    service.board.refresh()  # cached as Offline
    record = str(status_row(world, STORE)["id"])
    world.airtable.tables[Status.TABLE][record][Status.STATE] = "Paused"  # operator, just now

    outcome = service.runner.run(work.job())

    assert outcome.result is RunResult.SKIPPED and outcome.detail == "Paused"
    assert work.claims == [False] and work.done == []
    assert status_row(world, STORE)[Status.STATE] == "Paused"


def test_paused_set_during_a_run_is_kept_at_release(world: World) -> None:
    block = threading.Event()
    work = WorkJob(STORE, items=2, block=block)
    service, _ = build_service(world, [work.job()])
    service.board.refresh()
    result: list[RunResult] = []
    thread = threading.Thread(target=lambda: result.append(service.runner.run(work.job()).result))
    thread.start()
    assert work.started.wait(5)
    record = str(status_row(world, STORE)["id"])
    world.airtable.tables[Status.TABLE][record][Status.STATE] = "Paused"
    block.set()
    thread.join(5)

    assert result == [RunResult.OK]
    row = status_row(world, STORE)
    assert row[Status.STATE] == "Paused"  # the operator's choice survives the release
    assert row[Status.LAST_RUN_PROCESSED] == 2 and Status.LEASE_EXPIRES_AT not in row


def test_the_lease_is_released_after_an_exception(world: World) -> None:
    work = WorkJob(STORE, fail_with=RuntimeError("shopify exploded"))
    service, _ = build_service(world, [work.job()])
    service.board.refresh()

    outcome = service.runner.run(work.job())

    assert outcome.result is RunResult.FAILED
    assert outcome.detail == "RuntimeError: shopify exploded"
    row = status_row(world, STORE)
    assert row[Status.STATE] == ProngState.OFFLINE
    assert Status.LEASE_EXPIRES_AT not in row
    assert row[Status.LAST_ERROR] == "RuntimeError: shopify exploded"
    assert Status.LAST_SUCCESS_AT not in row
    assert row[Status.LAST_FINISHED_AT] == world.clock.now()


def test_a_handled_error_is_written_to_last_error(world: World) -> None:
    work = WorkJob(STORE, items=1, handled_error="recX: Klaviyo kept failing")
    service, _ = build_service(world, [work.job()])
    service.board.refresh()

    outcome = service.runner.run(work.job())

    assert outcome.result is RunResult.FAILED
    row = status_row(world, STORE)
    assert row[Status.LAST_ERROR] == "recX: Klaviyo kept failing"
    assert row[Status.STATE] == ProngState.OFFLINE and row[Status.LAST_RUN_PROCESSED] == 1


def test_a_run_that_never_claims_writes_nothing(world: World) -> None:
    service, _ = build_service(world, [WorkJob(STORE).job()])
    service.board.refresh()
    writes_before = len(status_writes(world))

    outcome = service.runner.run(ProngJob(STORE, lambda b, g: RunReport(STORE)))

    assert outcome.result is RunResult.OK
    assert len(status_writes(world)) == writes_before


def test_heartbeat_renews_at_most_once_a_minute(world: World) -> None:
    board = StatusBoard(world.airtable, PRONGS, world.clock)
    board.refresh()
    stop = threading.Event()
    lease = Lease(board, STORE, OWNER, world.clock, 90, stop)
    assert lease.claim()
    writes = len(status_writes(world))
    for _ in range(10):
        world.clock.advance(5)
        lease.heartbeat()
    assert len(status_writes(world)) == writes  # 50 s: no renewal yet
    world.clock.advance(HEARTBEAT_SECONDS - 50)
    lease.heartbeat()
    renewal = status_writes(world)[writes:]
    assert len(renewal) == 1
    assert renewal[0][2][Status.LEASE_EXPIRES_AT] == world.clock.now() + timedelta(seconds=90)
    assert not stop.is_set()


def test_heartbeat_stops_the_run_when_an_operator_pauses(world: World) -> None:
    board = StatusBoard(world.airtable, PRONGS, world.clock)
    board.refresh()
    stop = threading.Event()
    lease = Lease(board, STORE, OWNER, world.clock, 90, stop)
    assert lease.claim()
    record = str(status_row(world, STORE)["id"])
    world.airtable.tables[Status.TABLE][record][Status.STATE] = "Paused"
    world.clock.advance(HEARTBEAT_SECONDS)

    lease.heartbeat()

    assert stop.is_set() and lease.lost is not None and "Paused" in lease.lost
    assert status_row(world, STORE)[Status.STATE] == "Paused"


def test_a_lease_lost_to_another_owner_is_not_written_over(world: World) -> None:
    board = StatusBoard(world.airtable, PRONGS, world.clock)
    board.refresh()
    lease = Lease(board, STORE, OWNER, world.clock, 90, threading.Event())
    assert lease.claim()
    record = str(status_row(world, STORE)["id"])
    world.airtable.tables[Status.TABLE][record][Status.OWNER] = OTHER
    writes = len(status_writes(world))

    lease.release(None, None)

    assert len(status_writes(world)) == writes
    assert status_row(world, STORE)[Status.STATE] == "Executing"


def test_missing_rows_are_created_once_and_duplicates_ignored(world: World) -> None:
    _seed(world, STORE)
    _seed(world, STORE)  # an operator duplicated the row
    board = StatusBoard(world.airtable, PRONGS, world.clock)
    with structlog.testing.capture_logs() as logs:
        rows = board.refresh()
        board.refresh()
    assert set(rows) == set(PRONGS)
    missing = len(PRONGS) - 1
    assert world.injector.count("airtable.create") == missing  # each missing prong, once
    assert [e["event"] for e in logs].count("status.duplicate_row") == 1
    assert len(world.airtable.rows(Status.TABLE)) == missing + 2
