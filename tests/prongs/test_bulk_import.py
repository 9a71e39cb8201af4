"""The import use case over the fakes: rows written once, a crash half-way, following a batch."""

from __future__ import annotations

import contextlib
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from cards.bulk import BulkFile, check_file
from cards.vocab import Channel, RequestStatus
from clients.records import CreationRequest, Store
from config.layout import CreationRequests
from prongs.bulk_import import (
    ImportRefused,
    choose_store,
    follow,
    plan_import,
    summarize,
    write_rows,
)
from tests.fakes import SimulatedCrash
from tests.fakes.airtable_bulk import FakeBulk
from tests.prongs.conftest import Harness, card_config
from tests.prongs.test_bulk_issuance import csv_rows

C = CreationRequests


def checked(data: bytes) -> BulkFile:
    return check_file(data, currency="USD", limits=card_config().limits)


def bulk_rows(h: Harness) -> list[dict[str, object]]:
    return [r for r in h.at.rows(C.TABLE) if r.get(C.CHANNEL) == Channel.BULK]


def test_rows_are_upserted_ten_a_request_and_a_second_import_writes_nothing(h: Harness) -> None:
    bulk, file = FakeBulk(h.at), checked(csv_rows(25))
    plan = plan_import(bulk, file, None)
    before = h.injector.count("airtable.upsert")
    assert write_rows(bulk, plan) == 25
    assert h.injector.count("airtable.upsert") - before == 3
    rows = bulk_rows(h)
    assert sorted(str(r[C.IMPORT_KEY]) for r in rows) == sorted(
        f"import:{file.batch}:{line}" for line in range(2, 27)
    )
    assert {r[C.BATCH] for r in rows} == {file.batch}
    again = plan_import(bulk, file, None)
    assert again.missing == [] and len(again.existing) == 25
    assert write_rows(bulk, again) == 0 and len(bulk_rows(h)) == 25


@pytest.mark.parametrize("mode", ["crash_before", "crash_after", "drop_after"])
@pytest.mark.parametrize("chunk", [0, 1, 2])
def test_a_crash_in_any_upsert_and_a_rerun_write_each_row_once(
    h: Harness, mode: str, chunk: int
) -> None:
    bulk, file = FakeBulk(h.at), checked(csv_rows(25))
    plan = plan_import(bulk, file, None)
    upserts = 0

    def arm(operation: str) -> None:
        nonlocal upserts
        if operation == "airtable.upsert":
            if upserts == chunk:
                h.injector.arm("airtable.upsert", mode)
            upserts += 1

    h.injector.hook = arm
    with contextlib.suppress(SimulatedCrash, Exception):
        write_rows(bulk, plan)
    h.injector.hook = None
    h.injector.disarm()
    rerun = plan_import(bulk, file, None)
    write_rows(bulk, rerun)
    keys = [r[C.IMPORT_KEY] for r in bulk_rows(h)]
    assert len(keys) == 25 == len(set(keys))
    h.run_until_quiet(runs=8)
    assert len(h.shop.cards) == 25
    issued = [e.unique_id for e in h.world.email.events]
    assert len(issued) == 25 == len(set(issued))  # one Gift Card Issued a card


def test_a_changed_file_is_a_new_batch_that_names_the_rows_it_repeats(h: Harness) -> None:
    bulk = FakeBulk(h.at)
    first = checked(csv_rows(5))
    write_rows(bulk, plan_import(bulk, first, None))
    changed = csv_rows(5).replace(
        b"Employee 5,e5@acme.example,25.00", b"Employee 5,e5@acme.example,30.00"
    )
    second = checked(changed)
    plan = plan_import(bulk, second, None)
    assert second.batch != first.batch and plan.existing == frozenset()
    assert [(r.line, r.batch, r.earlier_line) for r in plan.repeats] == [
        (line, first.batch, line) for line in range(2, 6)
    ]


def test_a_file_with_problems_is_never_planned(h: Harness) -> None:
    file = checked(b"recipient_name,recipient_email,amount\nA,a@x.io,2\n")
    with pytest.raises(ImportRefused):
        plan_import(FakeBulk(h.at), file, None)


def test_the_store_must_exist_once_and_be_active() -> None:
    stores = [
        Store("recA", "Main St", active=True),
        Store("recB", "Harbour", active=False),
        Store("recC", "Twin", active=True),
        Store("recD", "twin ", active=True),
    ]
    assert choose_store(stores, " main st ").id == "recA"
    with pytest.raises(ImportRefused, match=r"not Active"):
        choose_store(stores, "Harbour")
    with pytest.raises(ImportRefused, match=r"Active stores: Main St, Twin, twin"):
        choose_store(stores, "Nowhere")
    with pytest.raises(ImportRefused, match=r"several stores"):
        choose_store(stores, "TWIN")


def test_following_a_batch_polls_its_open_rows_until_every_row_is_final(h: Harness) -> None:
    bulk = FakeBulk(h.at)
    file = checked(csv_rows(12))
    plan = plan_import(bulk, file, None)
    write_rows(bulk, plan)
    ids = [r["id"] for r in bulk_rows(h)]
    bad = {C.RECIPIENT_EMAIL: "not-an-address", C.PURCHASER_EMAIL: "not-an-address"}
    h.at.edit(C.TABLE, str(ids[3]), bad)  # someone's edit in Airtable after the import
    h.config = replace(h.config, max_records_per_run=5)  # the daemon takes 5 a run
    ticks: list[tuple[int, int]] = []

    def tick(done: int, rows: int) -> None:
        ticks.append((done, rows))
        h.run()  # the daemon runs between two polls

    summary = follow(bulk, file.batch, 12, h.world.clock, tick)
    assert ticks == [(0, 12), (5, 12), (10, 12), (12, 12)]
    assert summary.created == 11 and summary.open == 0 and not summary.all_created
    assert summary.outcomes == {"Created": 11, "Invalid Email": 1}
    (end,) = summary.not_created
    assert (end.line, end.status, end.outcome) == (5, RequestStatus.REJECTED, "Invalid Email")


def test_following_says_once_when_nothing_moves(h: Harness) -> None:
    bulk = FakeBulk(h.at)
    file = checked(csv_rows(2))
    write_rows(bulk, plan_import(bulk, file, None))
    stalls: list[float] = []
    started = h.world.clock.monotonic()

    def stall() -> None:
        stalls.append(h.world.clock.monotonic() - started)
        h.run()  # the daemon comes back

    summary = follow(bulk, file.batch, 2, h.world.clock, lambda done, rows: None, stall)
    assert len(stalls) == 1 and 120 <= stalls[0] <= 126 and summary.all_created


def test_summary_counts_by_outcome_and_lists_what_was_not_created() -> None:
    at = datetime(2026, 1, 1, tzinfo=UTC)
    rows = [
        CreationRequest(
            "rec1", at, import_key="import:b:3", status=RequestStatus.DONE, outcome="Created"
        ),
        CreationRequest(
            "rec2",
            at,
            import_key="import:b:2",
            status=RequestStatus.NEEDS_ATTENTION,
            outcome="Created",
            result_message="email kept failing",
        ),
        CreationRequest("rec3", at, import_key="import:b:4", status=None),
    ]
    summary = summarize("b", rows)
    assert (summary.rows, summary.created, summary.open) == (3, 2, 1)
    assert [e.line for e in summary.not_created] == [2]
