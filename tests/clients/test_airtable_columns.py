"""Typed writes -> cells: every command fills only real columns, and clears what it says."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from cards.money import Money
from cards.vocab import (
    BalanceOutcome,
    CardActionOutcome,
    CardStatus,
    CreationOutcome,
    ProngState,
    RedemptionOutcome,
    RequestStatus,
)
from clients import airtable_columns as columns
from clients import airtable_ledger_columns as ledger
from clients.commands import (
    AbandonPendingCard,
    ActivateCard,
    CardUpdate,
    ChangeExpiry,
    CloseBalanceCheck,
    CloseCardAction,
    CloseCreation,
    CloseRedemption,
    CloseRedemptionMinimally,
    FillCodeDigest,
    MirrorBalance,
    NewCardRow,
    Queue,
    ReactivateCard,
    RecordIntent,
    RecordRedemptionRefusal,
    RequestWrite,
    VoidCard,
)
from clients.records import StatusRow
from clients.status_commands import (
    ClaimLease,
    EndRun,
    ReleaseLease,
    RenewLease,
    StartRun,
    StatusHeartbeat,
    StatusWrite,
)
from config.layout import GiftCards, Status, StoreRedemptions, table_spec

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
USD = Money.of("12.50", "USD")
REC = "recAAAAAAAAAAAAAA"

REQUEST_WRITES: list[RequestWrite] = [
    RecordIntent(Queue.REDEMPTIONS, REC, card_id="recCCCCCCCCCCCCCC"),
    RecordIntent(Queue.CARD_ACTIONS, REC),
    RecordRedemptionRefusal(REC, RedemptionOutcome.INSUFFICIENT_BALANCE, "only 1.00"),
    CloseRedemption(
        REC,
        RequestStatus.DONE,
        RedemptionOutcome.SUCCESS,
        "ok",
        NOW,
        "••••••••7KQ2",
        None,
        USD,
        None,
    ),
    CloseRedemptionMinimally(REC, RedemptionOutcome.ERROR, "refused", NOW, None),
    CloseCreation(REC, RequestStatus.DONE, CreationOutcome.CREATED, "ok", NOW, "recCCCCCCCCCCCCCC"),
    CloseBalanceCheck(REC, RequestStatus.DONE, BalanceOutcome.SENT, NOW, "••••••••7KQ2"),
    CloseCardAction(REC, RequestStatus.DONE, CardActionOutcome.APPLIED, "ok", NOW),
]
CARD_UPDATES: list[CardUpdate] = [
    ActivateCard(REC, "gid://shopify/GiftCard/1", None, USD, NOW),
    AbandonPendingCard(REC, "code taken"),
    FillCodeDigest(REC, "ab" * 32, "••••••••7KQ2", "7KQ2"),
    MirrorBalance(REC, USD, NOW, status=CardStatus.ACTIVE, activity_at=NOW),
    VoidCard(REC, "lost", USD, None, NOW),
    ReactivateCard(REC, USD, NOW),
    ChangeExpiry(REC, None, CardStatus.ACTIVE, NOW),
]
STATUS_WRITES: list[StatusWrite] = [
    ClaimLease("host:1:x", NOW, NOW),
    StartRun(NOW, NOW),
    RenewLease(NOW, NOW),
    StatusHeartbeat(NOW),
    EndRun(NOW, 3, None, offline=True, expires_at=NOW),
    ReleaseLease(NOW, offline=True),
]


@pytest.mark.parametrize("write", REQUEST_WRITES, ids=lambda w: type(w).__name__)
def test_request_writes_fill_only_columns_of_their_table(write: RequestWrite) -> None:
    table, record_id, cells = columns.request_columns(write)
    names = {f.name for f in table_spec(table).fields}
    assert record_id == REC and cells and set(cells) <= names


@pytest.mark.parametrize("update", CARD_UPDATES, ids=lambda u: type(u).__name__)
def test_card_updates_fill_only_gift_cards_columns(update: CardUpdate) -> None:
    record_id, cells = columns.card_columns(update)
    names = {f.name for f in table_spec(GiftCards.TABLE).fields}
    assert record_id == REC and cells and set(cells) <= names


@pytest.mark.parametrize("write", STATUS_WRITES, ids=lambda w: type(w).__name__)
def test_status_writes_and_the_cached_row_agree(write: StatusWrite) -> None:
    cells = ledger.status_cells(write)
    assert set(cells) <= {f.name for f in table_spec(Status.TABLE).fields}
    row = write.applied_to(StatusRow("recS", "store-transactions", state=ProngState.PAUSED))
    attribute = {
        Status.STATE: "state",
        Status.OWNER: "owner",
        Status.LEASE_EXPIRES_AT: "lease_expires_at",
        Status.HEARTBEAT_AT: "heartbeat_at",
        Status.LAST_STARTED_AT: "last_started_at",
        Status.LAST_FINISHED_AT: "last_finished_at",
        Status.LAST_SUCCESS_AT: "last_success_at",
        Status.LAST_RUN_PROCESSED: "last_run_processed",
        Status.LAST_ERROR: "last_error",
    }
    for name, value in cells.items():
        assert getattr(row, attribute[name]) == value


def test_what_a_command_clears_and_what_it_leaves() -> None:
    _, reactivated = columns.card_columns(ReactivateCard(REC, USD, NOW))
    assert reactivated[GiftCards.VOID_REASON] is None  # cleared
    _, never = columns.card_columns(ChangeExpiry(REC, None, CardStatus.ACTIVE, NOW))
    assert never[GiftCards.EXPIRES_ON] is None  # "never expires" clears the date
    _, mirrored = columns.card_columns(MirrorBalance(REC, USD, NOW))
    assert GiftCards.STATUS not in mirrored and GiftCards.LAST_ACTIVITY_AT not in mirrored
    _, _, intent = columns.request_columns(RecordIntent(Queue.CARD_ACTIONS, REC))
    assert intent == {StoreRedemptions.STATUS: RequestStatus.PROCESSING}
    paused = ledger.status_cells(EndRun(NOW, 0, "boom", offline=False, expires_at=NOW))
    assert Status.STATE not in paused and Status.LAST_SUCCESS_AT not in paused
    assert paused[Status.LEASE_EXPIRES_AT] == NOW  # a run's end keeps the lease
    released = ledger.status_cells(ReleaseLease(NOW, offline=True))
    assert released[Status.LEASE_EXPIRES_AT] is None  # a clean stop gives it up
    claimed = ledger.status_cells(ClaimLease("host:1:x", NOW, NOW))
    assert Status.STATE not in claimed  # a claim is not a run


def test_a_new_card_row_leaves_out_empty_cells() -> None:
    cells = columns.new_card_cells(
        NewCardRow(origin_key="create:" + REC, expires_on=date(2030, 1, 1))
    )
    assert cells == {GiftCards.ORIGIN_KEY: "create:" + REC, GiftCards.EXPIRES_ON: date(2030, 1, 1)}
