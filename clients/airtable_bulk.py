"""The Airtable side of bulk issuance and the card export: :class:`clients.ports.BulkPort`.

Writes are upserts on Import Key, 10 rows a request (safe to re-send after a lost response).
Reads go page by page through :meth:`clients.airtable_reports.AirtableReports.pages` (one request
a page, an expired page iterator restarted), asking only for the fields they need; formulas are
built with ``pyairtable.formulas`` only. Every request goes through the shared limiter.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import structlog
from pyairtable.formulas import AND, EQ, Field, Formula

from cards.errors import InvariantViolation
from cards.vocab import CardStatus, Channel
from clients import airtable_queries as q
from clients import airtable_rows as rows
from clients.airtable_columns import Changes, link
from clients.airtable_errors import SERVICE
from clients.airtable_reports import AirtableReports
from clients.airtable_tables import AirtableTables, Record
from clients.commands import NewCreationRequest
from clients.records import CardRow, CreationRequest
from config.layout import CreationRequests, GiftCards

log = structlog.get_logger()
BATCH = 10  # records per write request (Airtable's limit)
IMPORT_KEY = [CreationRequests.IMPORT_KEY]

#: What an export shows of a card (never the digest or the sealed code).
EXPORT_FIELDS = [
    GiftCards.MASKED_CODE,
    GiftCards.STATUS,
    GiftCards.KIND,
    GiftCards.SOURCE,
    GiftCards.INITIAL_VALUE,
    GiftCards.BALANCE,
    GiftCards.CURRENCY,
    GiftCards.ISSUED_AT,
    GiftCards.EXPIRES_ON,
    GiftCards.PURCHASER_NAME,
    GiftCards.PURCHASER_EMAIL,
    GiftCards.RECIPIENT_NAME,
    GiftCards.RECIPIENT_EMAIL,
    GiftCards.STORE,
]
_MONEY_FIELDS = (GiftCards.INITIAL_VALUE, GiftCards.BALANCE)
#: What following a batch reads of its rows.
PROGRESS_FIELDS = [CreationRequests.IMPORT_KEY, CreationRequests.STATUS]
SUMMARY_FIELDS = [
    CreationRequests.IMPORT_KEY,
    CreationRequests.BATCH,
    CreationRequests.CHANNEL,
    CreationRequests.STATUS,
    CreationRequests.OUTCOME,
    CreationRequests.RESULT_MESSAGE,
    CreationRequests.GIFT_CARD,
    CreationRequests.PROCESSED_AT,
    CreationRequests.RECIPIENT_NAME,
    CreationRequests.RECIPIENT_EMAIL,
    CreationRequests.AMOUNT,
]


def creation_request_cells(row: NewCreationRequest) -> Changes:
    """The cells of a bulk row (empty ones left out: a new row has nothing to clear)."""
    c = CreationRequests
    cells: Changes = {
        c.IMPORT_KEY: row.import_key,
        c.BATCH: row.batch,
        c.CHANNEL: row.channel,
        c.AMOUNT: row.amount,
        c.PURCHASER_NAME: row.purchaser_name,
        c.PURCHASER_EMAIL: row.purchaser_email,
        c.RECIPIENT_NAME: row.recipient_name,
        c.RECIPIENT_EMAIL: row.recipient_email,
        c.IS_GIFT: row.is_gift,
        c.MESSAGE: row.message,
        c.KIND: row.kind,
        c.THEME: row.theme,
        c.STORE: link(row.store_id),
    }
    return {name: value for name, value in cells.items() if value is not None}


def batch_formula(batch: str, *, open_only: bool) -> Formula:
    in_batch = EQ(Field(CreationRequests.BATCH), batch)
    return AND(in_batch, q.pending(CreationRequests.STATUS)) if open_only else in_batch


def bulk_for_formula(emails: Sequence[str]) -> Formula:
    bulk = EQ(Field(CreationRequests.CHANNEL), Channel.BULK.value)
    return AND(bulk, q.any_of(CreationRequests.RECIPIENT_EMAIL, emails))


def cards_formula(status: CardStatus | None) -> Formula | None:
    return EQ(Field(GiftCards.STATUS), status.value) if status is not None else None


class AirtableBulk:
    """:class:`clients.ports.BulkPort` over the shared Airtable plumbing."""

    def __init__(self, tables: AirtableTables) -> None:
        self._t = tables
        self._pages = AirtableReports(tables)

    def close(self) -> None:
        self._t.api.session.close()

    def import_creation_requests(self, new: Sequence[NewCreationRequest]) -> int:
        latest = {r.import_key: r for r in new}  # one row per Import Key in a request
        unique = list(latest.values())
        created = 0
        for start in range(0, len(unique), BATCH):
            chunk = [creation_request_cells(r) for r in unique[start : start + BATCH]]
            created += self._upsert(chunk)
        return created

    def _upsert(self, chunk: list[Changes]) -> int:
        records: list[Any] = [
            {"fields": self._t.encode(CreationRequests.TABLE, cells)} for cells in chunk
        ]
        table = self._t.table(CreationRequests.TABLE)

        def send() -> int:
            result = table.batch_upsert(records, key_fields=IMPORT_KEY)
            return len(result.get("createdRecords", []))

        return self._t.write(send, f"upsert {CreationRequests.TABLE}", idempotent=True)

    def batch_requests(self, batch: str, *, open_only: bool = False) -> list[CreationRequest]:
        formula = batch_formula(batch, open_only=open_only)
        fields = PROGRESS_FIELDS if open_only else SUMMARY_FIELDS
        return [
            rows.creation(r)
            for page in self._pages.pages(CreationRequests.TABLE, formula, fields)
            for r in page
        ]

    def bulk_requests_for(self, recipient_emails: Sequence[str]) -> list[CreationRequest]:
        emails = list(dict.fromkeys(e for e in recipient_emails if e))
        if not emails:
            return []
        formula = bulk_for_formula(emails[: q.MAX_TERMS])
        return [
            rows.creation(r)
            for page in self._pages.pages(CreationRequests.TABLE, formula, SUMMARY_FIELDS)
            for r in page
        ]

    def iter_card_rows(self, status: CardStatus | None = None) -> Iterator[list[CardRow]]:
        pages = self._pages.pages(GiftCards.TABLE, cards_formula(status), EXPORT_FIELDS)
        for page in pages:
            yield [self._card(record) for record in page]

    def _card(self, record: Record) -> CardRow:
        """The row; one whose amount is damaged keeps its other cells (and is logged)."""
        try:
            return rows.card(record, self._t.currency)
        except InvariantViolation as exc:
            log.warning(
                "unreadable card amount", service=SERVICE, record=record["id"], error=str(exc)
            )
            fields = {k: v for k, v in record.get("fields", {}).items() if k not in _MONEY_FIELDS}
            return rows.card({**record, "fields": fields}, self._t.currency)
