"""The run: queue order, the 2-second redemption re-check, lease, budget, bounds, isolation."""

from __future__ import annotations

from cards.vocab import CardActionType, RequestStatus
from config.layout import (
    BalanceChecks,
    CardActions,
    CreationRequests,
    GiftCards,
    Receipts,
    StoreRedemptions,
)
from prongs.report import Budget, OpenGate
from prongs.store_context import StoreConfig
from prongs.store_transactions import run_once
from tests.prongs.conftest import Harness, card_config

FINAL = {RequestStatus.DONE, RequestStatus.REJECTED, RequestStatus.NEEDS_ATTENTION}


def finish_order(h: Harness) -> list[str]:
    """Record ids in the order their final Status was written."""
    return [
        record
        for table, record, changes in h.at.writes
        if changes.get(CreationRequests.STATUS) in FINAL and table != GiftCards.TABLE
    ]


def test_queues_run_in_priority_order(h: Harness) -> None:
    card = h.issue("50.00")
    code = h.code_of(card).reveal()
    act = h.card_action(card, CardActionType.REGENERATE_PDF)
    check = h.balance_check(code)
    create = h.creation()
    redeem = h.redemption(code, "1.00")
    start = len(h.at.writes)
    h.run()
    h.at.writes = h.at.writes[start:]
    assert finish_order(h) == [redeem, create, check, act]


class RefusingGate(OpenGate):
    def claim(self) -> bool:
        super().claim()
        return False


def test_a_refused_lease_means_nothing_is_done(h: Harness) -> None:
    h.creation()
    writes = len(h.at.writes)
    gate = RefusingGate()
    report = h.run(gate)
    assert report.skipped and report.processed == 0 and gate.claims == 1
    assert len(h.at.writes) == writes and h.shop.cards == {}


def test_an_idle_run_reads_each_queue_once_and_never_claims(h: Harness) -> None:
    gate = OpenGate()
    report = h.run(gate)
    assert not report.found_work and gate.claims == 0
    assert h.injector.calls == ["airtable.list"] * 4


def test_the_run_heartbeats_between_records(h: Harness) -> None:
    for _ in range(3):
        h.creation()
    gate = OpenGate()
    report = h.run(gate)
    assert report.processed == 3 and gate.claims == 1 and gate.heartbeats == 2


def test_a_redemption_submitted_during_fifty_creations_waits_at_most_two_seconds(
    h: Harness,
) -> None:
    for _ in range(50):
        h.creation()
    created = 0
    submitted: dict[str, float] = {}

    def hook(op: str) -> None:
        nonlocal created
        if op == "shopify.create_card":
            created += 1
            h.world.clock.advance(0.3)  # each creation takes a while
            if created == 10:
                submitted["rec"] = h.world.clock.monotonic()
                submitted["id"] = h.redemption("QQQQQQQQQQQQ", "1.00")  # type: ignore[assignment]
                submitted["at_creation"] = created

    h.injector.hook = hook
    report = h.run(seconds=600)
    rec = str(submitted["id"])
    row = h.at.row(StoreRedemptions.TABLE, rec)
    assert row[StoreRedemptions.STATUS] == RequestStatus.REJECTED  # Not Found, but handled
    handled_after = next(i for i, (_, r, _c) in enumerate(h.at.writes) if r == rec)
    creations_before = sum(
        1
        for table, _r, changes in h.at.writes[:handled_after]
        if table == CreationRequests.TABLE and changes.get(CreationRequests.STATUS) in FINAL
    )
    assert creations_before <= 10 + 7  # 2 s at 0.3 s a creation, plus the one under way
    waited = row[StoreRedemptions.PROCESSED_AT].timestamp() - h.at.created[rec].timestamp()
    assert waited <= 2.0 + 0.3
    assert report.processed == 51


def test_the_budget_stops_the_run_between_records(h: Harness) -> None:
    recs = [h.creation() for _ in range(5)]

    def slow(op: str) -> None:
        if op == "shopify.create_card":
            h.world.clock.advance(0.6)

    h.injector.hook = slow
    report = run_once(h.deps, h.config, Budget(h.world.clock, 1.0), OpenGate())
    assert report.budget_exhausted and report.processed == 2
    statuses = [h.at.row(CreationRequests.TABLE, r).get(CreationRequests.STATUS) for r in recs]
    assert statuses[:2] == [RequestStatus.DONE] * 2 and statuses[2:] == [None] * 3
    h.injector.hook = None
    h.run()
    assert all(h.at.row(CreationRequests.TABLE, r)[CreationRequests.STATUS] for r in recs)


def test_records_per_run_are_bounded() -> None:
    h = Harness(config=StoreConfig(card=card_config(), max_records_per_run=3))
    for _ in range(5):
        h.balance_check("QQQQQQQQQQQQ")
    assert h.run().processed == 3
    assert h.run().processed == 2


def test_a_failing_record_does_not_stop_the_next_and_is_finished_later(h: Harness) -> None:
    first, second = h.creation(), h.creation()

    def fail_first_final_write(op: str) -> None:
        if op == "airtable.update" and not failed:
            last = h.at.writes[-1] if h.at.writes else None
            if last and last[0] == Receipts.TABLE:
                failed.append(True)
                h.injector.arm_index(len(h.injector.calls), "fail_before")

    failed: list[bool] = []
    h.injector.hook = fail_first_final_write
    report = h.run()
    assert len(report.errors) == 1 and first in report.errors[0]
    assert h.at.row(CreationRequests.TABLE, second)[CreationRequests.STATUS] == RequestStatus.DONE
    assert CreationRequests.STATUS not in h.at.row(CreationRequests.TABLE, first)
    h.injector.hook = None
    h.run()
    assert h.at.row(CreationRequests.TABLE, first)[CreationRequests.STATUS] == RequestStatus.DONE
    assert len(h.shop.cards) == 2


def test_queue_pages_are_read_with_the_configured_size(h: Harness) -> None:
    h.config = StoreConfig(card=card_config(), queue_page=2)
    for _ in range(3):
        h.at.insert(BalanceChecks.TABLE, {BalanceChecks.CODE: "QQQQQQQQQQQQ"})
    h.at.insert(CardActions.TABLE, {CardActions.ACTION: CardActionType.RESEND})
    report = h.run()
    assert report.processed == 3  # two checks this run (one page), the action
    assert h.run().processed == 1


def test_the_report_carries_each_queues_depth_when_first_read(h: Harness) -> None:
    store = h.store()
    h.redemption("NOSUCHCODE22", "5.00", store)
    h.redemption("NOSUCHCODE33", "5.00", store)
    h.creation()
    report = h.run()
    assert report.queue_depths == {
        "redemptions": 2,
        "creations": 1,
        "balance checks": 0,
        "card actions": 0,
    }
