"""Bulk creation requests in the store prong (in-memory fakes): in groups, last, exactly once.

Rows are written the way ``giftbridge cards import`` writes them (the BulkPort fake over the same
base), then the prong runs. A crash or a lost response at every call of a bulk run is the
``bulk`` flow of ``test_exactly_once``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import structlog.testing

from cards.bulk import check_file
from cards.vocab import CardSource, Channel, Metric, ReceiptAction, ReceiptSource
from clients.errors import Permanent
from config.layout import CreationRequests, GiftCards, Receipts, StoreRedemptions
from prongs.bulk_import import new_row
from tests.fakes.airtable_bulk import FakeBulk
from tests.prongs.conftest import Harness, card_config

C, G, R = CreationRequests, GiftCards, Receipts


def csv_rows(count: int, *, gift: bool = False, start: int = 1) -> bytes:
    head = "recipient_name,recipient_email,amount,purchaser_name,purchaser_email,theme\n"
    buyer = "Acme Corp,hr@acme.example" if gift else ","
    body = "".join(
        f"Employee {n},e{n}@acme.example,{20 + n}.00,{buyer},Thank You\n"
        for n in range(start, start + count)
    )
    return (head + body).encode()


def import_rows(h: Harness, data: bytes, store: str | None = None) -> list[str]:
    """The rows of a checked file, written as the import command writes them."""
    checked = check_file(data, currency="USD", limits=card_config().limits)
    assert not checked.problems, checked.problems
    store_row = None
    if store is not None:
        from clients.records import Store

        store_row = Store(store, "Main St", "shop@example.com", active=True)
    FakeBulk(h.at).import_creation_requests(
        [new_row(r, checked.batch, store_row) for r in checked.rows]
    )
    return [i for i, r in h.at.tables[C.TABLE].items() if r.get(C.CHANNEL) == Channel.BULK]


def test_twelve_rows_issue_twelve_cards_with_one_issued_email_each(h: Harness) -> None:
    ids = import_rows(h, csv_rows(12, gift=True))
    report = h.run()
    assert report.outcomes == {"Created": 12} and report.errors == []
    for record_id in ids:
        row = h.at.row(C.TABLE, record_id)
        assert (row[C.STATUS], row[C.OUTCOME]) == ("Done", "Created")
        (card_id,) = row[C.GIFT_CARD]
        card = h.card(card_id)
        assert card[G.SOURCE] == CardSource.BULK and card[G.STATUS] == "Active"
        assert card[G.ORIGIN_KEY] == f"create:{record_id}" and len(card[G.CERTIFICATE]) == 1
        assert card[G.RECIPIENT_EMAIL] == row[C.RECIPIENT_EMAIL]
        issued = h.event(f"create:{record_id}:recipient")
        assert (issued.metric, issued.email) == (Metric.ISSUED, row[C.RECIPIENT_EMAIL])
        assert issued.properties["code"] == h.code_of(card_id).reveal()
        assert issued.properties["sender_name"] == "Acme Corp"
        confirmation = h.event(f"create:{record_id}:purchaser")
        assert confirmation.metric == Metric.PURCHASE_CONFIRMATION
        receipts = {k: v for k, v in h.receipts().items() if k.startswith(f"create:{record_id}:")}
        assert sorted(receipts) == sorted(
            f"create:{record_id}:{s}"
            for s in ("created", "purchased", "sent:recipient", "sent:purchaser")
        )
        assert {r[R.SOURCE] for r in receipts.values()} == {ReceiptSource.MANUAL}
        assert receipts[f"create:{record_id}:purchased"][R.ACTION] == ReceiptAction.PURCHASED
    assert len(h.world.email.events) == 24 and h.world.email.duplicates == 0
    assert len(h.shop.cards) == 12


def test_a_group_shares_its_airtable_traffic(h: Harness) -> None:
    import_rows(h, csv_rows(20))
    start = len(h.injector.calls)
    h.run()
    calls = h.injector.calls[start:]
    airtable = [c for c in calls if c.startswith("airtable.")]
    assert calls.count("shopify.create_card") == 20 and calls.count("airtable.upload") == 20
    assert calls.count("airtable.create") == 2  # one request per group of ten
    # per group: a read by Origin Key, one create, one activation, receipts (3 a card: 3 upserts),
    # one closing; then the run's queue polls.
    assert len(airtable) / 20 < 2.0, sorted(set(airtable))


def test_bulk_rows_wait_for_every_other_queue(h: Harness) -> None:
    import_rows(h, csv_rows(3))
    counter = h.creation()  # a sale at a counter, made after the import
    check = h.balance_check("QQQQQQQQQQQQ")
    creates: list[tuple[Any, Any]] = []

    def note(operation: str) -> None:
        if operation == "shopify.create_card":
            creates.append(
                (
                    h.at.row(C.TABLE, counter).get(C.STATUS),
                    h.at.row("Balance Checks", check).get("Status"),
                )
            )

    h.injector.hook = note
    h.run()
    # The counter sale's card first (nothing final yet), then the bulk cards, each after both.
    assert creates[0] == (None, None)
    assert creates[1:] == [("Done", "Rejected")] * 3


def test_a_redemption_submitted_mid_group_is_handled_before_the_group_ends(h: Harness) -> None:
    store = h.store()
    card = h.issue("50.00")
    code = h.code_of(card).reveal()
    import_rows(h, csv_rows(10))
    submitted: list[str] = []

    def arrive(operation: str) -> None:
        # the group's second card is being created (the first card is the one redeemed)
        if operation == "shopify.create_card" and not submitted and len(h.shop.cards) == 3:
            submitted.append(h.redemption(code, "5.00", store=store))
        h.world.clock.advance(0.5)  # each outside call takes half a second

    h.injector.hook = arrive
    with structlog.testing.capture_logs() as logs:
        h.run(seconds=600)
    (redemption,) = submitted
    row = h.at.row(StoreRedemptions.TABLE, redemption)
    assert row[StoreRedemptions.STATUS] == "Done"
    debit_at = h.injector.calls.index("shopify.debit")
    last_upload = len(h.injector.calls) - 1 - h.injector.calls[::-1].index("airtable.upload")
    assert debit_at < last_upload, "the till waited for the whole group"
    # the redemption handled inside the group did not count the group as left by a dead process
    assert not [e for e in logs if e["event"] == "attempt failed"]
    assert not h.attempts.failures and not h.attempts.in_flight


def test_a_refused_row_costs_only_itself(h: Harness) -> None:
    ids = import_rows(h, csv_rows(4))
    h.at.edit(C.TABLE, ids[1], {C.AMOUNT: Decimal("2.00")})  # edited in Airtable after import
    h.run()
    statuses = [(h.at.row(C.TABLE, i)[C.STATUS], h.at.row(C.TABLE, i)[C.OUTCOME]) for i in ids]
    assert statuses == [
        ("Done", "Created"),
        ("Rejected", "Invalid Amount"),
        ("Done", "Created"),
        ("Done", "Created"),
    ]
    assert len(h.shop.cards) == 3 and not h.world.email.by_unique_id(f"create:{ids[1]}:store")


def test_a_create_airtable_refuses_is_retried_row_by_row(h: Harness) -> None:
    ids = import_rows(h, csv_rows(3))
    real = h.at.create_cards

    def refuse_batches(cards: Any) -> Any:
        if len(cards) > 1:
            raise Permanent("airtable", "create", "refused (test)", code="INVALID", status=422)
        return real(cards)

    h.at.create_cards = refuse_batches  # type: ignore[method-assign]
    h.run()
    assert all(h.at.row(C.TABLE, i)[C.OUTCOME] == "Created" for i in ids)
    assert len(h.at.tables[G.TABLE]) == 3


def test_a_lost_certificate_answer_leaves_one_certificate(h: Harness) -> None:
    (record,) = import_rows(h, csv_rows(1))
    h.injector.arm("airtable.upload", "drop_after")
    h.run()
    (card_id,) = h.at.row(C.TABLE, record)[C.GIFT_CARD]
    assert len(h.card(card_id)[G.CERTIFICATE]) == 1


def test_a_bulk_request_linking_an_inactive_store_is_not_allowed(h: Harness) -> None:
    from cards.vocab import CreationOutcome
    from config.layout import Stores

    closed = h.store(name="Old Town")
    h.at.edit(Stores.TABLE, closed, {Stores.ACTIVE: False})
    refused = import_rows(h, csv_rows(2), store=closed)
    fine = import_rows(h, csv_rows(2, start=3))[2:]  # no store: a bulk order needs none
    h.run()
    for record_id in refused:
        row = h.at.row(C.TABLE, record_id)
        assert (row[C.STATUS], row[C.OUTCOME]) == ("Rejected", CreationOutcome.NOT_ALLOWED)
        assert "Old Town is not Active" in row[C.RESULT_MESSAGE]
    assert {h.at.row(C.TABLE, r)[C.OUTCOME] for r in fine} == {"Created"}
    assert len(h.shop.cards) == 2
