"""The Airtable adapter: :class:`clients.ports.AirtablePort` over pyairtable and real HTTP.

Built by :func:`clients.factory.build_airtable`. Every request goes through the shared per-base
limiter (``clients.airtable_http``), every failure becomes a class of :mod:`clients.errors`
(``clients.airtable_errors``), every formula is built by ``clients.airtable_queries``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from typing import Any

from pyairtable.formulas import AND, OR

from cards.vocab import CardStatus, Channel, ProngState, ReceiptAction
from clients import airtable_audit as audit_reads
from clients import airtable_queries as q
from clients import airtable_rows as rows
from clients.airtable_batch import grouped_by_table, update_in_tens
from clients.airtable_columns import card_columns, new_card_cells, request_columns
from clients.airtable_http import upload_body, upload_url
from clients.airtable_ledger_columns import (
    ORDER_KEY,
    RECEIPT_KEY,
    new_status_cells,
    order_cells,
    receipt_cells,
    status_cells,
)
from clients.airtable_tables import AirtableTables, Record
from clients.commands import CardUpdate, NewCardRow, RecordOrder, RequestWrite
from clients.errors import InvariantViolation, Permanent
from clients.records import (
    BalanceCheckRequest,
    CardActionRequest,
    CardRow,
    CreationRequest,
    OrderRow,
    Receipt,
    RedemptionRequest,
    StatusRow,
    Store,
)
from clients.status_commands import StatusWrite
from config.layout import (
    BalanceChecks,
    CardActions,
    CreationRequests,
    GiftCards,
    Receipts,
    ShopifyOrders,
    Status,
    StoreRedemptions,
    Stores,
)

#: What ``giftbridge card search`` looks in (never a code: only its last characters are stored).
CARD_SEARCH_FIELDS = (
    GiftCards.LAST_CHARACTERS,
    GiftCards.RECIPIENT_EMAIL,
    GiftCards.RECIPIENT_NAME,
    GiftCards.PURCHASER_EMAIL,
    GiftCards.PURCHASER_NAME,
    GiftCards.SHOPIFY_ORDER,
    GiftCards.ORIGIN_KEY,
)

#: A queue longer than this is read in Airtable's order up to the cap, then sorted: the oldest
#: come first in practice, and a flood never turns one poll into dozens of requests.
QUEUE_SCAN_CAP = 300
BULK = Channel.BULK.value
MAX_UPLOAD_BYTES = 5 * 1024 * 1024
#: ``receipt_references`` per request: a reminder run checks hundreds of keys at once.
REFERENCES_PER_READ = 100
REFERENCE_CHARS_PER_READ = 8000


class AirtableAdapter:
    def __init__(self, tables: AirtableTables, *, content_url: str) -> None:
        self._t = tables
        self._content_url = content_url
        self.currency = tables.currency

    def close(self) -> None:
        self._t.api.session.close()

    # --- queues -------------------------------------------------------------------------
    def _pending(self, table: str, status_field: str, limit: int) -> list[Record]:
        """Status blank or Processing, oldest first. One request while the queue fits a page:
        CREATED_TIME() cannot be a ``sort``, so the page is sorted here."""
        if limit <= 0:
            return []
        records = self._t.list_records(
            table, formula=q.pending(status_field), max_records=max(limit, QUEUE_SCAN_CAP)
        )
        # Stable sort: records created in the same millisecond keep Airtable's (creation) order.
        records.sort(key=lambda r: str(r.get("createdTime", "")))
        return records[:limit]

    def pending_redemptions(self, limit: int) -> list[RedemptionRequest]:
        found = self._pending(StoreRedemptions.TABLE, StoreRedemptions.STATUS, limit)
        return [rows.redemption(r) for r in found]

    def pending_creations(self, limit: int) -> list[CreationRequest]:
        """Every other channel first, then Channel Bulk, each oldest first. A bulk batch of
        hundreds of rows fills the scan; then the other rows are read apart, so a creation at a
        counter is never hidden behind an import (one more request, only while one is pending)."""
        if limit <= 0:
            return []
        table, status = CreationRequests.TABLE, CreationRequests.STATUS
        found = self._pending(table, status, max(limit, QUEUE_SCAN_CAP))
        if len(found) >= QUEUE_SCAN_CAP:
            formula = AND(q.pending(status), q.not_equal(CreationRequests.CHANNEL, BULK))
            others = self._t.list_records(table, formula=formula, max_records=QUEUE_SCAN_CAP)
            seen = {r["id"] for r in found}
            found += [r for r in others if r["id"] not in seen]
        requests = [rows.creation(r) for r in found]
        requests.sort(key=lambda r: (r.channel == Channel.BULK, r.created_time))
        return requests[:limit]

    def pending_balance_checks(self, limit: int) -> list[BalanceCheckRequest]:
        found = self._pending(BalanceChecks.TABLE, BalanceChecks.STATUS, limit)
        return [rows.balance_check(r) for r in found]

    def pending_card_actions(self, limit: int) -> list[CardActionRequest]:
        found = self._pending(CardActions.TABLE, CardActions.STATUS, limit)
        return [rows.card_action(r) for r in found]

    def recent_balance_checks(self, since: datetime) -> list[BalanceCheckRequest]:
        formula = q.at_or_after(BalanceChecks.PROCESSED_AT, since.astimezone(UTC))
        found = self._t.list_records(BalanceChecks.TABLE, formula=formula)
        return [rows.balance_check(r) for r in found]

    def update_request(self, write: RequestWrite) -> None:
        table, record_id, cells = request_columns(write)
        self._t.update(table, record_id, cells)

    def update_requests(self, writes: Sequence[RequestWrite]) -> dict[str, Permanent]:
        refused: dict[str, Permanent] = {}
        for table, updates in grouped_by_table(writes).items():
            refused |= update_in_tens(self._t, table, updates)
        return refused

    # --- cards --------------------------------------------------------------------------
    def get_card(self, record_id: str) -> CardRow | None:
        record = self._t.get(GiftCards.TABLE, record_id)
        return rows.card(record, self.currency) if record is not None else None

    def find_card(
        self,
        *,
        digest: str | None = None,
        origin_key: str | None = None,
        shopify_id: str | None = None,
    ) -> CardRow | None:
        given = [
            (GiftCards.CODE_DIGEST, digest),
            (GiftCards.ORIGIN_KEY, origin_key),
            (GiftCards.SHOPIFY_GIFT_CARD_ID, shopify_id),
        ]
        keys = [(name, value) for name, value in given if value is not None]
        if len(keys) != 1:
            raise ValueError("find_card takes exactly one key")
        name, value = keys[0]
        found = self._t.list_records(GiftCards.TABLE, formula=q.equals(name, value), max_records=2)
        if len(found) > 1:
            raise InvariantViolation(
                f"Gift Cards rows {found[0]['id']} and {found[1]['id']} share one {name}"
            )
        return rows.card(found[0], self.currency) if found else None

    def find_cards_by_digests(self, digests: Sequence[str]) -> dict[str, list[CardRow]]:
        return self._cards_by(GiftCards.CODE_DIGEST, digests, lambda row: row.code_digest)

    def _cards_by(
        self, field: str, values: Sequence[str], key: Callable[[CardRow], str | None]
    ) -> dict[str, list[CardRow]]:
        """Rows whose ``field`` is one of ``values``, by that value, in few reads."""
        found: dict[str, list[CardRow]] = {}
        for chunk in q.bounded_chunks(values):
            formula = q.any_of(field, chunk)
            for record in self._t.list_records(GiftCards.TABLE, formula=formula):
                row = rows.card(record, self.currency)
                value = key(row)
                if value in chunk:  # exactly as asked, whatever the formula compared
                    found.setdefault(value, []).append(row)
        return found

    def search_cards(self, text: str, limit: int = 20) -> list[CardRow]:
        formula = q.containing(text, CARD_SEARCH_FIELDS)
        if text.strip().title() in {s.value for s in CardStatus}:
            formula = OR(formula, q.equals(GiftCards.STATUS, text.strip().title()))
        found = self._t.list_records(GiftCards.TABLE, formula=formula, max_records=limit)
        return [rows.card(record, self.currency) for record in found]

    def cards_expiring_by(self, last_day: date, limit: int) -> list[CardRow]:
        formula = q.due_by(
            GiftCards.STATUS, CardStatus.ACTIVE.value, GiftCards.EXPIRES_ON, last_day
        )
        found = self._t.list_records(
            GiftCards.TABLE, formula=formula, max_records=limit, sort=[GiftCards.EXPIRES_ON]
        )
        return [rows.card(record, self.currency) for record in found]

    def create_card(self, card: NewCardRow) -> CardRow:
        return rows.card(self._t.create(GiftCards.TABLE, new_card_cells(card)), self.currency)

    def create_cards(self, cards: Sequence[NewCardRow]) -> list[CardRow]:
        created = self._t.create_batch(GiftCards.TABLE, [new_card_cells(c) for c in cards])
        return [rows.card(record, self.currency) for record in created]

    def find_cards_by_origin_keys(self, keys: Sequence[str]) -> dict[str, list[CardRow]]:
        return self._cards_by(GiftCards.ORIGIN_KEY, keys, lambda row: row.origin_key)

    def update_card(self, update: CardUpdate) -> CardRow:
        record_id, cells = card_columns(update)
        return rows.card(self._t.update(GiftCards.TABLE, record_id, cells), self.currency)

    def update_cards(self, updates: Sequence[CardUpdate]) -> dict[str, Permanent]:
        return update_in_tens(self._t, GiftCards.TABLE, [card_columns(u) for u in updates])

    def known_card_ids_by_shopify_id(self, shopify_ids: Sequence[str]) -> dict[str, CardRow]:
        result: dict[str, CardRow] = {}
        for chunk in q.chunks(shopify_ids):
            formula = q.any_of(GiftCards.SHOPIFY_GIFT_CARD_ID, chunk)
            for record in self._t.list_records(GiftCards.TABLE, formula=formula):
                row = rows.card(record, self.currency)
                if row.shopify_id is not None:
                    result[row.shopify_id] = row
        return result

    def cards_in_shopify_range(self, after_number: int, up_to: int | None) -> list[CardRow]:
        formula = audit_reads.range_formula(after_number, up_to)
        found = self._t.list_records(GiftCards.TABLE, formula=formula)
        return [rows.card(record, self.currency) for record in found]

    def receipts_in_windows(
        self, actions: Sequence[ReceiptAction], windows: Sequence[tuple[datetime, datetime]]
    ) -> list[Receipt]:
        found: list[Receipt] = []
        for formula in audit_reads.windows_formulas(actions, windows):
            for record in self._t.list_records(Receipts.TABLE, formula=formula):
                if (receipt := audit_reads.receipt(record, self.currency)) is not None:
                    found.append(receipt)
        return found

    def attach_certificate(
        self, card_id: str, filename: str, content: bytes, *, replace: bool = True
    ) -> None:
        """Clear the Certificate cell, then upload: the pair is safe to re-send as a whole.
        ``replace=False`` (a row with no certificate yet) uploads alone on the first try."""
        if len(content) > MAX_UPLOAD_BYTES:
            raise Permanent(
                "airtable", "uploadAttachment", "certificate over 5 MB", code="ATTACHMENT_TOO_LARGE"
            )
        url = upload_url(self._content_url, self._t.base_id, card_id, GiftCards.CERTIFICATE)
        body = upload_body(filename, content, "application/pdf")
        table = self._t.table(GiftCards.TABLE)

        tries = 0

        def upload() -> None:
            nonlocal tries
            tries += 1
            if replace or tries > 1:  # a second try may follow an upload that went through
                table.update(card_id, {GiftCards.CERTIFICATE: []})
            self._t.request("POST", url, body, "uploadAttachment")

        self._t.write(upload, "uploadAttachment", idempotent=True)

    def stores(self) -> list[Store]:
        return [rows.store(r) for r in self._t.list_records(Stores.TABLE)]

    # --- receipts and orders --------------------------------------------------------------
    def upsert_receipts(self, receipts: Sequence[Receipt]) -> None:
        latest = {r.reference: r for r in receipts}  # one row per Reference in a request
        unique = list(latest.values())
        for start in range(0, len(unique), 10):
            chunk = [receipt_cells(r) for r in unique[start : start + 10]]
            self._t.upsert(Receipts.TABLE, chunk, RECEIPT_KEY)

    def receipt_references(self, references: Sequence[str]) -> set[str]:
        found: set[str] = set()
        # 100 references a read (a long formula goes as POST listRecords: pyairtable's switch)
        for chunk in q.bounded_chunks(references, REFERENCES_PER_READ, REFERENCE_CHARS_PER_READ):
            records = self._t.list_records(
                Receipts.TABLE,
                formula=q.any_of(Receipts.REFERENCE, chunk, REFERENCES_PER_READ),
                fields=[Receipts.REFERENCE],
            )
            found |= {_reference(r) for r in records}
        return found & set(references)

    def order_rows(self, order_id: str) -> list[OrderRow]:
        formula = q.equals(ShopifyOrders.ORDER_ID, order_id)
        found = self._t.list_records(ShopifyOrders.TABLE, formula=formula)
        return [rows.order(r) for r in found]

    def record_order(self, order: RecordOrder) -> OrderRow:
        records = self._t.upsert(ShopifyOrders.TABLE, [order_cells(order)], ORDER_KEY)
        return rows.order(records[0])

    # --- status -------------------------------------------------------------------------
    def status_rows(self) -> list[StatusRow]:
        return [rows.status(r) for r in self._t.list_records(Status.TABLE)]

    def create_status_row(self, prong: str, state: ProngState) -> StatusRow:
        return rows.status(self._t.create(Status.TABLE, new_status_cells(prong, state)))

    def update_status_row(self, record_id: str, write: StatusWrite) -> None:
        self._t.update(Status.TABLE, record_id, status_cells(write))

    def update_status_rows(self, updates: Sequence[tuple[str, StatusWrite]]) -> None:
        cells = [(record_id, status_cells(write)) for record_id, write in updates]
        self._t.update_batch(Status.TABLE, cells)


def _reference(record: Record) -> str:
    value: Any = record.get("fields", {}).get(Receipts.REFERENCE)
    return value if isinstance(value, str) else ""
