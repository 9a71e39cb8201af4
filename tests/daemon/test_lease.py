"""The Status lease in the daemon: claimed once and kept between runs, respected, taken over only
after a lease period (or at once from this STATE_DIR's earlier process), renewed, given up on a
clean stop; Paused respected; effects fenced."""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import structlog

from cards.vocab import ProngState
from config.layout import Status
from daemon.health import RunResult
from daemon.lease import StatusBoard
from daemon.leases import OWNERS_FILE
from daemon.ownership import CLAIM_WAIT_SECONDS
from daemon.runner import ProngJob
from prongs.report import LeaseNotProven, RunReport
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


def _seed(world: World, prong: str = STORE, **fields: Any) -> str:
    return world.airtable.insert(Status.TABLE, {Status.PRONG: prong, **fields})


def held_by_other(world: World, *, wall_offset: timedelta = timedelta(0)) -> str:
    """A row another daemon holds: its lease and heartbeat as its own wall clock wrote them."""
    at = world.clock.now() + wall_offset
    fields: dict[str, Any] = {
        Status.STATE: "Executing",
        Status.OWNER: OTHER,
        Status.HEARTBEAT_AT: at,
        Status.LEASE_EXPIRES_AT: at + timedelta(seconds=90),
    }
    return _seed(world, STORE, **fields)


def test_a_run_claims_once_and_keeps_the_lease_with_its_figures(world: World) -> None:
    work = WorkJob(STORE, items=3)
    service, _ = build_service(world, [work.job()])
    service.board.refresh()

    outcome = service.runner.run(work.job())

    assert outcome.result is RunResult.OK and work.done == [0, 1, 2]
    row = status_row(world, STORE)
    assert row[Status.STATE] == ProngState.OFFLINE
    assert row[Status.OWNER] == OWNER
    assert row[Status.LEASE_EXPIRES_AT] == world.clock.now() + timedelta(
        seconds=service.lease_seconds
    )  # kept between runs
    assert row[Status.LAST_STARTED_AT] == world.clock.now()
    assert row[Status.LAST_RUN_PROCESSED] == 3 and Status.LAST_ERROR not in row
    claim = next(w for w in status_writes(world) if w[2].get(Status.OWNER) == OWNER)
    assert Status.STATE not in claim[2]  # the claim itself is not a run
    claims_before = sum(1 for w in status_writes(world) if Status.OWNER in w[2])
    assert service.runner.run(work.job()).result is RunResult.OK  # the second run: no claim
    assert sum(1 for w in status_writes(world) if Status.OWNER in w[2]) == claims_before
    cached = service.board.cached(STORE)
    assert cached is not None and cached.last_run_processed == 3


def test_a_claim_costs_its_pause_once_per_process_not_per_run(world: World) -> None:
    work = WorkJob(STORE, items=1)
    service, _ = build_service(world, [work.job()])
    service.preflight()  # the service claims at start
    assert service.leases.held() == [STORE]
    before = world.clock.monotonic()
    for _ in range(3):
        assert service.runner.run(work.job()).result is RunResult.OK
    assert world.clock.monotonic() - before < CLAIM_WAIT_SECONDS  # no claim's pause in a run


def test_a_live_lease_of_another_owner_is_respected(world: World) -> None:
    held_by_other(world)
    work = WorkJob(STORE)
    service, _ = build_service(world, [work.job()])
    service.preflight()
    writes_before = len(status_writes(world))

    outcome = service.runner.run(work.job())

    assert outcome.result is RunResult.SKIPPED
    assert outcome.detail is not None and OTHER in outcome.detail
    assert work.claims == [] and work.done == []  # not even a queue poll
    assert STORE not in service.leases.held()
    assert len(status_writes(world)) == writes_before  # nothing written over their lease
    assert status_row(world, STORE)[Status.OWNER] == OTHER


@pytest.mark.parametrize("their_clock", [timedelta(hours=-2), timedelta(0), timedelta(hours=2)])
def test_a_lease_is_taken_over_only_after_we_saw_it_unchanged_for_a_lease_period(
    world: World, their_clock: timedelta
) -> None:
    held_by_other(world, wall_offset=their_clock)  # their wall clock, hours off ours
    work = WorkJob(STORE, items=1)
    service, _ = build_service(world, [work.job()])
    service.preflight()  # first look
    lease = service.lease_seconds  # ours (115 s at 60 s renewals): longer than the row's 90
    world.clock.advance(lease - 1)
    service.board_tick()
    assert STORE not in service.leases.held()
    world.clock.advance(2)
    with structlog.testing.capture_logs() as logs:
        service.board_tick()  # unchanged for a lease period on our own clock: gone
    assert STORE in service.leases.held()
    assert any(e["event"] == "lease.claimed" and e["contested"] for e in logs)
    gate = service.runner  # a run now acts, and reads every debit's key back first
    assert gate.run(work.job()).result is RunResult.OK and work.done == [0]
    assert service.leases.lease(STORE).contested(world.clock.monotonic())
    assert status_row(world, STORE)[Status.OWNER] == OWNER


def test_a_renewing_owner_is_never_taken_over(world: World) -> None:
    record = held_by_other(world)
    service, _ = build_service(world, [WorkJob(STORE).job()])
    service.preflight()
    for _ in range(20):  # ten minutes in which the other daemon renews every 30 s
        world.clock.advance(30)
        at = world.clock.now()
        world.airtable.tables[Status.TABLE][record][Status.HEARTBEAT_AT] = at
        world.airtable.tables[Status.TABLE][record][Status.LEASE_EXPIRES_AT] = at + timedelta(
            seconds=90
        )
        service.board_tick()
        assert STORE not in service.leases.held()


def test_this_state_dirs_earlier_process_is_taken_over_at_once(
    world: World, tmp_path: Path
) -> None:
    (tmp_path / OWNERS_FILE).write_text(f"{OTHER}\n", "utf-8")  # it held our lock before us
    held_by_other(world)
    service, _ = build_service(world, [WorkJob(STORE).job()])
    service2 = type(service)(
        service.config,
        world.airtable,
        list(service.jobs.values()),
        clock=world.clock,
        notifier=service.notifier,
        owner=OWNER,
        environ={},
        state_dir=tmp_path,
    )
    service2.preflight()
    assert STORE in service2.leases.held()
    assert service2.leases.lease(STORE).contested(world.clock.monotonic())
    assert (tmp_path / OWNERS_FILE).read_text("utf-8").split() == [OTHER, OWNER]


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
    service.preflight()  # held, cached as Offline
    record = str(status_row(world, STORE)["id"])
    world.airtable.tables[Status.TABLE][record][Status.STATE] = "Paused"  # operator, just now

    outcome = service.runner.run(work.job())

    assert outcome.result is RunResult.SKIPPED and outcome.detail == "Paused"
    assert work.claims == [False] and work.done == []
    assert status_row(world, STORE)[Status.STATE] == "Paused"


def test_paused_set_during_a_run_is_kept_at_its_end(world: World) -> None:
    block = threading.Event()
    work = WorkJob(STORE, items=2, block=block)
    service, _ = build_service(world, [work.job()])
    service.preflight()
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
    assert row[Status.STATE] == "Paused"  # the operator's choice survives the run's end
    assert row[Status.LAST_RUN_PROCESSED] == 2


def test_an_exception_still_writes_the_runs_end(world: World) -> None:
    work = WorkJob(STORE, fail_with=RuntimeError("shopify exploded"))
    service, _ = build_service(world, [work.job()])
    service.board.refresh()

    outcome = service.runner.run(work.job())

    assert outcome.result is RunResult.FAILED
    assert outcome.detail == "RuntimeError: shopify exploded"
    row = status_row(world, STORE)
    assert row[Status.STATE] == ProngState.OFFLINE
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


def test_a_run_that_never_claims_reads_and_writes_nothing(world: World) -> None:
    service, _ = build_service(world, [WorkJob(STORE).job()])
    service.preflight()
    calls_before = len(world.injector.calls)

    outcome = service.runner.run(ProngJob(STORE, lambda b, g: RunReport(STORE)))

    assert outcome.result is RunResult.OK
    assert len(world.injector.calls) == calls_before


def test_held_leases_are_renewed_in_one_write_when_due(world: World) -> None:
    service, _ = build_service(world, [WorkJob(STORE).job()])
    service.preflight()
    writes = len(status_writes(world))
    world.clock.advance(45)
    service.board_tick()
    assert len(status_writes(world)) == writes  # not due yet
    world.clock.advance(15)
    service.board_tick()
    renewals = status_writes(world)[writes:]
    assert len(renewals) == 1  # the held row, renewed
    row = status_row(world, STORE)
    assert row[Status.HEARTBEAT_AT] == world.clock.now()
    expected = world.clock.now() + timedelta(seconds=service.lease_seconds)
    assert row[Status.LEASE_EXPIRES_AT] == expected


def test_effects_are_refused_once_the_lease_runs_short_without_renewals(world: World) -> None:
    work = WorkJob(STORE, items=1)
    service, _ = build_service(world, [work.job()])
    service.preflight()
    stop = threading.Event()
    from daemon.leases import RunGate

    gate = RunGate(service.leases, STORE, world.clock, stop)
    assert gate.claim()
    gate.fence()  # fine now
    # no renewal (Airtable unreachable): effects stop a margin before the lease's end
    world.clock.advance(service.lease_seconds - service.effect_margin)
    with pytest.raises(LeaseNotProven):
        gate.fence()
    gate.heartbeat()
    assert stop.is_set() and gate.lost is not None


def test_heartbeat_stops_the_run_when_an_operator_pauses(world: World) -> None:
    service, _ = build_service(world, [WorkJob(STORE).job()])
    service.preflight()
    from daemon.leases import RunGate

    stop = threading.Event()
    gate = RunGate(service.leases, STORE, world.clock, stop)
    assert gate.claim()
    record = str(status_row(world, STORE)["id"])
    world.airtable.tables[Status.TABLE][record][Status.STATE] = "Paused"
    world.clock.advance(15)
    service.board_tick()  # the next Status read

    gate.heartbeat()

    assert stop.is_set() and gate.lost is not None and "Paused" in gate.lost
    assert status_row(world, STORE)[Status.STATE] == "Paused"


def test_a_lease_lost_to_another_owner_is_not_written_over(world: World) -> None:
    service, _ = build_service(world, [WorkJob(STORE).job()])
    service.preflight()
    from daemon.leases import RunGate

    gate = RunGate(service.leases, STORE, world.clock, threading.Event())
    assert gate.claim()
    record = str(status_row(world, STORE)["id"])
    world.airtable.tables[Status.TABLE][record][Status.OWNER] = OTHER
    writes = len(status_writes(world))

    gate.release(None, None)

    assert len(status_writes(world)) == writes
    assert status_row(world, STORE)[Status.STATE] == "Executing"
    assert STORE not in service.leases.held()


def test_a_clean_stop_and_once_give_the_leases_up(world: World) -> None:
    work = WorkJob(STORE, items=1)
    service, _ = build_service(world, [work.job()])
    outcomes = service.run_once()
    assert [o.result for o in outcomes] == [RunResult.OK]
    row = status_row(world, STORE)
    assert Status.LEASE_EXPIRES_AT not in row and row[Status.STATE] == ProngState.OFFLINE
    assert service.leases.held() == []
    other, _ = build_service(world, [work.job()], owner=OTHER)
    other.preflight()  # released: the next process takes it at once
    assert STORE in other.leases.held()


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
