"""The Airtable adapter against the Airtable sandbox over real HTTP: reads, writes, formulas."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from cards.money import Money
from cards.vocab import (
    BalanceOutcome,
    CardStatus,
    OrderKind,
    OrderOutcome,
    ProngState,
    ReceiptAction,
    ReceiptSource,
    RequestStatus,
)
from clients.commands import ChangeExpiry, CloseBalanceCheck, NewCardRow, RecordOrder
from clients.errors import InvariantViolation
from clients.records import OrderRow, Receipt
from clients.status_commands import EndRun
from config.layout import (
    BalanceChecks,
    CreationRequests,
    Receipts,
    ShopifyOrders,
    StoreRedemptions,
    Stores,
)
from tests.clients.conftest import AirtableRig

pytestmark = pytest.mark.slow
NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def requests_made(rig: AirtableRig, operation: str | None = None) -> int:
    return sum(1 for e in rig.sandbox.request_log if operation is None or e.operation == operation)


def test_an_idle_queue_poll_costs_one_request(airtable: AirtableRig) -> None:
    adapter = airtable.adapter()
    assert adapter.pending_redemptions(10) == []
    assert adapter.pending_creations(10) == []
    assert requests_made(airtable) == 2


def test_queues_page_through_more_than_a_hundred_records_oldest_first(
    airtable: AirtableRig,
) -> None:
    table = StoreRedemptions
    airtable.base.create(table.TABLE, [{table.CODE: f"old-{i}"} for i in range(5)])
    time.sleep(0.01)  # a later createdTime
    airtable.base.create(
        table.TABLE, [{table.CODE: f"new-{i}", table.AMOUNT: 12.5} for i in range(240)]
    )
    airtable.base.create(table.TABLE, [{table.CODE: "done", table.STATUS: "Done"}])
    airtable.base.create(table.TABLE, [{table.CODE: "resume", table.STATUS: "Processing"}])
    adapter = airtable.adapter()

    everything = adapter.pending_redemptions(1000)
    assert len(everything) == 246  # 5 + 240 + "resume"; "done" is not pending
    assert requests_made(airtable, "airtable.list") == 3  # pages of 100

    oldest = adapter.pending_redemptions(5)
    assert [r.code_text for r in oldest] == [f"old-{i}" for i in range(5)]
    codes = {r.code_text for r in everything}
    assert "resume" in codes and "done" not in codes
    assert any(r.status is RequestStatus.PROCESSING for r in everything)


def test_creation_requests_are_decoded(airtable: AirtableRig) -> None:
    store = airtable.base.create(Stores.TABLE, [{Stores.NAME: "Main St", Stores.ACTIVE: True}])
    c = CreationRequests
    airtable.base.create(
        c.TABLE,
        [
            {
                c.PURCHASER_NAME: "Ann",
                c.PURCHASER_EMAIL: "ann@example.com",
                c.IS_GIFT: True,
                c.AMOUNT: 25,
                c.KIND: "Gift Card",
                c.THEME: "Birthday",
                c.CHANNEL: "Store",
                c.STORE: [store[0]["id"]],
                c.MESSAGE: "Happy 🎂",
            }
        ],
    )
    adapter = airtable.adapter()
    (request,) = adapter.pending_creations(10)
    assert request.is_gift and request.amount == 25 and request.message == "Happy 🎂"
    assert request.store_ids == (store[0]["id"],)
    (found,) = adapter.stores()
    assert found.name == "Main St" and found.active


@pytest.mark.parametrize(
    "hostile", ["x' OR 1=1 OR '", '"),TRUE(),("', "{Code Digest}", "a\\b\\", "O'Brien\\'"]
)
def test_hostile_lookup_values_match_literally(airtable: AirtableRig, hostile: str) -> None:
    adapter = airtable.adapter()
    innocent = adapter.create_card(NewCardRow(code_digest="innocent", origin_key="k"))
    target = adapter.create_card(NewCardRow(code_digest=hostile))
    found = adapter.find_card(digest=hostile)
    assert found is not None and found.id == target.id
    assert adapter.find_card(digest=hostile + "x") is None
    assert adapter.find_card(origin_key=hostile) is None
    assert adapter.find_card(origin_key="k") is not None
    assert innocent.id != target.id


def test_a_duplicate_key_is_an_invariant_violation(airtable: AirtableRig) -> None:
    adapter = airtable.adapter()
    for _ in range(2):
        adapter.create_card(NewCardRow(shopify_id="gid://shopify/GiftCard/7"))
    with pytest.raises(InvariantViolation):
        adapter.find_card(shopify_id="gid://shopify/GiftCard/7")


def test_cards_round_trip_money_dates_and_links(airtable: AirtableRig) -> None:
    adapter = airtable.adapter()
    card = adapter.create_card(
        NewCardRow(
            status=CardStatus.PENDING,
            currency="USD",
            initial_value=Money.of("50.10", "USD"),
            balance=Money.of("0.30", "USD"),
            issued_at=NOW,
            expires_on=NOW.date() + timedelta(days=3650),
            shopify_id="gid://shopify/GiftCard/42",
        )
    )
    assert card.balance == Money.of("0.30", "USD")
    updated = adapter.update_card(ChangeExpiry(card.id, None, CardStatus.ACTIVE, at=NOW))
    assert updated.status is CardStatus.ACTIVE and updated.expires_on is None
    fetched = adapter.get_card(card.id)
    assert fetched is not None and fetched.issued_at == NOW
    assert fetched.initial_value == Money.of("50.10", "USD")
    assert adapter.get_card("recDoesNotExist00") is None
    known = adapter.known_card_ids_by_shopify_id(["gid://shopify/GiftCard/42", "gid://x/9"])
    assert list(known) == ["gid://shopify/GiftCard/42"]


def test_receipts_upsert_in_tens_and_a_replay_adds_nothing(airtable: AirtableRig) -> None:
    adapter = airtable.adapter()
    receipts = [
        Receipt(
            f"redeem:rec{i:014d}:redeemed",
            ReceiptAction.REDEEMED,
            NOW,
            ReceiptSource.STORE,
            amount=Money.of("1.25", "USD"),
        )
        for i in range(25)
    ]
    adapter.upsert_receipts(receipts)
    assert requests_made(airtable, "airtable.upsert") == 3
    adapter.upsert_receipts(receipts[:12])
    assert len(airtable.base.records(Receipts.TABLE)) == 25
    wanted = [receipts[3].reference, "redeem:recNotThere00000:redeemed"]
    assert adapter.receipt_references(wanted) == {receipts[3].reference}


def test_orders_upsert_on_order_id_and_kind(airtable: AirtableRig) -> None:
    adapter = airtable.adapter()
    card = adapter.create_card(NewCardRow(origin_key="order:1:2:1"))

    def record(kind: OrderKind, outcome: OrderOutcome, card_ids: list[str]) -> OrderRow:
        order = RecordOrder("gid://shopify/Order/1", "#1001", kind, outcome, tuple(card_ids), NOW)
        return adapter.record_order(order)

    record(OrderKind.PURCHASE, OrderOutcome.NEEDS_ATTENTION, [])
    row = record(OrderKind.PURCHASE, OrderOutcome.PROCESSED, [card.id])
    record(OrderKind.REDEMPTION, OrderOutcome.SKIPPED, [])
    rows = adapter.order_rows("gid://shopify/Order/1")
    assert len(rows) == 2 and len(airtable.base.records(ShopifyOrders.TABLE)) == 2
    assert row.card_ids == (card.id,) and row.outcome is OrderOutcome.PROCESSED


def test_requests_status_rows_and_recent_balance_checks(airtable: AirtableRig) -> None:
    adapter = airtable.adapter()
    b = BalanceChecks
    rows = airtable.base.create(b.TABLE, [{b.CODE: "A"}, {b.CODE: "B"}])
    old = datetime.now(UTC) - timedelta(hours=2)

    def close(record_id: str, at: datetime) -> CloseBalanceCheck:
        return CloseBalanceCheck(record_id, RequestStatus.DONE, BalanceOutcome.SENT, at, None)

    adapter.update_request(close(rows[0]["id"], datetime.now(UTC)))
    adapter.update_request(close(rows[1]["id"], old))
    recent = adapter.recent_balance_checks(datetime.now(UTC) - timedelta(hours=1))
    assert [r.id for r in recent] == [rows[0]["id"]]

    status = adapter.create_status_row("store-transactions", ProngState.OFFLINE)
    end = EndRun(NOW, processed=3, error=None, offline=True, expires_at=NOW)
    adapter.update_status_row(status.id, end)
    (read,) = adapter.status_rows()
    assert read.prong == "store-transactions" and read.last_run_processed == 3
    assert read.heartbeat_at == NOW


def test_a_certificate_upload_replaces_the_previous_one(airtable: AirtableRig) -> None:
    adapter = airtable.adapter()
    card = adapter.create_card(NewCardRow(masked_code="••••••••7KQ2"))
    adapter.attach_certificate(card.id, "certificate-7KQ2.pdf", b"%PDF-1.4 first")
    adapter.attach_certificate(card.id, "certificate-7KQ2.pdf", b"%PDF-1.4 second")
    fetched = adapter.get_card(card.id)
    assert fetched is not None and len(fetched.certificate_ids) == 1
    content = airtable.base.attachment_content(fetched.certificate_ids[0])
    assert content == b"%PDF-1.4 second"
    uploads = [e for e in airtable.sandbox.request_log if e.operation == "airtable.upload"]
    assert len(uploads) == 2 and all(e.path.endswith("/uploadAttachment") for e in uploads)


@pytest.mark.parametrize("hostile", ["x' OR 1=1 OR '", '"),TRUE(),("', "{Recipient Email}"])
def test_card_search_matches_parts_in_any_case_and_hostile_text_literally(
    airtable: AirtableRig, hostile: str
) -> None:
    adapter = airtable.adapter()
    ada = adapter.create_card(
        NewCardRow(
            last_characters="7KQ2", recipient_email="Ada@Example.com", status=CardStatus.ACTIVE
        )
    )
    bob = adapter.create_card(NewCardRow(purchaser_name="Bob O'Brien", status=CardStatus.VOIDED))
    assert [c.id for c in adapter.search_cards("ada@example")] == [ada.id]
    assert [c.id for c in adapter.search_cards("7kq2")] == [ada.id]
    assert [c.id for c in adapter.search_cards("o'brien")] == [bob.id]
    assert [c.id for c in adapter.search_cards("voided")] == [bob.id]
    assert adapter.search_cards(hostile) == []
    assert len(adapter.search_cards("e", limit=1)) == 1
