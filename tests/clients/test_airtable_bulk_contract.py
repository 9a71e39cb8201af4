"""Bulk issuance's Airtable traffic against the sandbox over real HTTP: the BulkPort adapter, the
batched card creation, the first certificate upload, and a creation queue flooded by a batch."""

from __future__ import annotations

import time
from decimal import Decimal

import pytest

from cards.money import Money
from cards.vocab import CardStatus, Channel, Kind, RequestStatus, Theme
from clients.airtable_bulk import AirtableBulk
from clients.airtable_queries import MAX_TERMS
from clients.commands import NewCardRow, NewCreationRequest
from clients.factory import build_bulk
from config.layout import CreationRequests
from tests.clients.conftest import AIRTABLE_TOKEN, AirtableRig, fast_policy, open_limiters
from tests.configs import airtable_config

pytestmark = pytest.mark.slow
C = CreationRequests


def bulk_of(rig: AirtableRig) -> AirtableBulk:
    bulk = build_bulk(
        airtable_config(rig.settings(), AIRTABLE_TOKEN, retry=fast_policy()), open_limiters()
    )
    rig.closers.append(bulk.close)
    return bulk


def row(batch: str, line: int, **changes: object) -> NewCreationRequest:
    values: dict[str, object] = {
        "import_key": f"import:{batch}:{line}",
        "batch": batch,
        "amount": Money.of("25.50", "USD"),
        "purchaser_name": "Acme",
        "purchaser_email": None,
        "recipient_name": f"Employee {line}",
        "recipient_email": f"e{line}@acme.example",
        "is_gift": True,
        "theme": Theme.THANK_YOU,
    }
    values.update(changes)
    return NewCreationRequest(**values)  # type: ignore[arg-type]


def operations(rig: AirtableRig) -> list[str]:
    return [e.operation or "" for e in rig.sandbox.request_log]


def test_rows_upsert_on_import_key_ten_a_request(airtable: AirtableRig) -> None:
    bulk = bulk_of(airtable)
    rows = [row("abc123abc123", n) for n in range(2, 27)]
    assert bulk.import_creation_requests(rows) == 25
    assert operations(airtable).count("airtable.upsert") == 3
    assert bulk.import_creation_requests(rows[:12]) == 0  # a replay creates nothing
    records = airtable.base.records(C.TABLE)
    assert len(records) == 25
    fields = records[0]["fields"]
    assert fields[C.CHANNEL] == "Bulk" and fields[C.BATCH] == "abc123abc123"
    assert fields[C.AMOUNT] == 25.5 and fields[C.IS_GIFT] is True and fields[C.THEME] == "Thank You"
    assert C.PURCHASER_EMAIL not in fields


def test_a_batch_is_read_whole_or_by_its_open_rows(airtable: AirtableRig) -> None:
    bulk = bulk_of(airtable)
    bulk.import_creation_requests([row("b1", n) for n in range(2, 152)])
    bulk.import_creation_requests([row("b2", 2)])
    first = airtable.base.records(C.TABLE)[0]["id"]
    airtable.base.update(C.TABLE, first, {C.STATUS: "Done", C.OUTCOME: "Created"})
    start = len(airtable.sandbox.request_log)
    everything = bulk.batch_requests("b1")
    assert len(everything) == 150 and len(airtable.sandbox.request_log) - start == 2  # 2 pages
    done = next(r for r in everything if r.id == first)
    assert (done.status, done.outcome, done.batch) == (RequestStatus.DONE, "Created", "b1")
    assert done.amount == Decimal("25.5") and done.recipient_email == "e2@acme.example"
    still_open = bulk.batch_requests("b1", open_only=True)
    assert len(still_open) == 149 and all(r.import_key for r in still_open)
    assert all(r.recipient_email is None for r in still_open)  # only what following needs


def test_earlier_bulk_rows_are_found_by_recipient(airtable: AirtableRig) -> None:
    bulk = bulk_of(airtable)
    bulk.import_creation_requests([row("old", n) for n in range(2, 5)])
    airtable.base.create(C.TABLE, [{C.RECIPIENT_EMAIL: "e2@acme.example", C.CHANNEL: "Store"}])
    emails = ["e2@acme.example", "e4@acme.example", *(f"x{n}@y.z" for n in range(60))]
    found = bulk.bulk_requests_for(emails)
    assert sorted(r.import_key or "" for r in found) == ["import:old:2", "import:old:4"]
    assert len(emails[:MAX_TERMS]) == MAX_TERMS


def test_cards_are_created_ten_a_request_and_found_by_origin_key(airtable: AirtableRig) -> None:
    adapter = airtable.adapter()
    new = [
        NewCardRow(
            origin_key=f"create:rec{n:014d}",
            masked_code="••••••••7KQ2",
            status=CardStatus.PENDING,
            kind=Kind.GIFT_CARD,
            initial_value=Money.of("10.00", "USD"),
        )
        for n in range(10)
    ]
    created = adapter.create_cards(new)
    assert [c.origin_key for c in created] == [c.origin_key for c in new]
    assert operations(airtable) == ["airtable.create"]
    found = adapter.find_cards_by_origin_keys([c.origin_key or "" for c in new] + ["create:none"])
    assert sorted(found) == sorted(c.origin_key or "" for c in new)
    assert {len(rows) for rows in found.values()} == {1}


def test_the_first_certificate_of_a_row_is_one_upload(airtable: AirtableRig) -> None:
    adapter = airtable.adapter()
    card = adapter.create_card(NewCardRow(masked_code="••••••••7KQ2"))
    start = len(airtable.sandbox.request_log)
    adapter.attach_certificate(card.id, "certificate-7KQ2.pdf", b"%PDF-1.4 first", replace=False)
    assert operations(airtable)[start:] == ["airtable.upload"]
    fetched = adapter.get_card(card.id)
    assert fetched is not None and len(fetched.certificate_ids) == 1


def test_a_batch_flooding_the_creation_queue_hides_no_other_request(airtable: AirtableRig) -> None:
    adapter = airtable.adapter()
    first = {C.RECIPIENT_EMAIL: "early@example.com", C.CHANNEL: "Phone"}
    airtable.base.create(C.TABLE, [first])
    time.sleep(0.01)
    for start in range(0, 320, 10):
        airtable.base.create(
            C.TABLE, [{C.CHANNEL: "Bulk", C.BATCH: "b"} for _ in range(start, start + 10)]
        )
    time.sleep(0.01)
    airtable.base.create(C.TABLE, [{C.RECIPIENT_EMAIL: "late@example.com", C.CHANNEL: "Store"}])
    before = len(airtable.sandbox.request_log)
    page = adapter.pending_creations(100)
    assert [r.recipient_email for r in page[:2]] == ["early@example.com", "late@example.com"]
    assert {r.channel for r in page[2:]} == {Channel.BULK} and len(page) == 100
    assert len(airtable.sandbox.request_log) - before == 4  # 3 pages of the scan, 1 for the rest
    assert [r.channel for r in adapter.pending_creations(1)] == [Channel.PHONE]


def test_export_pages_never_carry_the_digest_or_the_sealed_code(airtable: AirtableRig) -> None:
    adapter, bulk = airtable.adapter(), bulk_of(airtable)
    for n in range(150):
        adapter.create_card(
            NewCardRow(
                origin_key=f"k{n}",
                code_digest=f"{n:064x}",
                code_sealed="gAAAA-sealed",
                masked_code="••••••••7KQ2",
                status=CardStatus.ACTIVE if n % 2 else CardStatus.VOIDED,
                initial_value=Money.of("10.00", "USD"),
            )
        )
    pages = list(bulk.iter_card_rows())
    assert [len(p) for p in pages] == [100, 50]
    assert all(r.code_digest is None and r.code_sealed is None for p in pages for r in p)
    assert sum(len(p) for p in bulk.iter_card_rows(CardStatus.VOIDED)) == 75
