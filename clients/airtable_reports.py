"""The Airtable side of reports and the status page's summary: :class:`clients.ports.ReportSource`.

Reads only, page by page (100 records a page), each page one request through the shared limiter
and the retry policy of :class:`clients.airtable_tables.AirtableTables`; only the fields the
books need are asked for. An expired page iterator (422 ``LIST_RECORDS_ITERATOR_NOT_AVAILABLE``)
restarts the listing from the first page, skipping the records already yielded. Formulas are
built with ``pyairtable.formulas`` only.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

import structlog
from pyairtable.formulas import (
    AND,
    EQ,
    GTE,
    LAST_MODIFIED_TIME,
    LT,
    OR,
    Field,
    Formula,
    to_formula_str,
)

from cards.ledger import BOOKED_ACTIONS, CardFacts, ReceiptFacts
from cards.money import Money, MoneyError
from cards.vocab import CardSource, CardStatus, ReceiptAction, RequestStatus
from clients import airtable_codec as codec
from clients.airtable_errors import ITERATOR_EXPIRED, SERVICE
from clients.airtable_tables import PAGE_SIZE, AirtableTables, Record
from clients.errors import Permanent
from clients.report_records import FlaggedRequest
from config.layout import (
    BalanceChecks,
    CardActions,
    CreationRequests,
    GiftCards,
    Receipts,
    StoreRedemptions,
    Stores,
)

log = structlog.get_logger()
LIST_RESTARTS = 3

RECEIPT_FIELDS = [
    Receipts.REFERENCE,
    Receipts.ACTION,
    Receipts.AT,
    Receipts.GIFT_CARD,
    Receipts.STORE,
    Receipts.AMOUNT,
    Receipts.BALANCE_BEFORE,
    Receipts.BALANCE_AFTER,
    Receipts.DETAILS,
]
CARD_FIELDS = [
    GiftCards.MASKED_CODE,
    GiftCards.CURRENCY,
    GiftCards.STATUS,
    GiftCards.INITIAL_VALUE,
    GiftCards.BALANCE,
    GiftCards.SOURCE,
    GiftCards.STORE,
    GiftCards.ISSUED_AT,
    GiftCards.EXPIRES_ON,
    GiftCards.ORIGIN_KEY,
]
#: Request table -> (Status, Outcome, Result Message or None, Processed At).
REQUEST_FIELDS: dict[str, tuple[str, str, str | None, str]] = {
    StoreRedemptions.TABLE: (
        StoreRedemptions.STATUS,
        StoreRedemptions.OUTCOME,
        StoreRedemptions.RESULT_MESSAGE,
        StoreRedemptions.PROCESSED_AT,
    ),
    CreationRequests.TABLE: (
        CreationRequests.STATUS,
        CreationRequests.OUTCOME,
        CreationRequests.RESULT_MESSAGE,
        CreationRequests.PROCESSED_AT,
    ),
    BalanceChecks.TABLE: (
        BalanceChecks.STATUS,
        BalanceChecks.OUTCOME,
        BalanceChecks.RESULT_MESSAGE,
        BalanceChecks.PROCESSED_AT,
    ),
    CardActions.TABLE: (
        CardActions.STATUS,
        CardActions.OUTCOME,
        CardActions.RESULT_MESSAGE,
        CardActions.PROCESSED_AT,
    ),
}


def receipts_formula(since: datetime | None, until: datetime | None) -> Formula:
    actions = sorted(a.value for a in BOOKED_ACTIONS)
    terms: list[Formula] = [OR(*(EQ(Field(Receipts.ACTION), a) for a in actions))]
    if since is not None:
        terms.append(GTE(Field(Receipts.AT), since.astimezone(UTC)))
    if until is not None:
        terms.append(LT(Field(Receipts.AT), until.astimezone(UTC)))
    return terms[0] if len(terms) == 1 else AND(*terms)


def cards_formula(issued_since: datetime | None, active_only: bool) -> Formula | None:
    terms: list[Formula] = []
    if issued_since is not None:
        terms.append(GTE(Field(GiftCards.ISSUED_AT), issued_since.astimezone(UTC)))
    if active_only:
        terms.append(EQ(Field(GiftCards.STATUS), CardStatus.ACTIVE.value))
    if not terms:
        return None
    return terms[0] if len(terms) == 1 else AND(*terms)


def flagged_formula(status_field: str, stuck_before: datetime) -> Formula:
    """Needs Attention, or Processing since before ``stuck_before`` (when Status last changed)."""
    status = Field(status_field)
    return OR(
        EQ(status, RequestStatus.NEEDS_ATTENTION.value),
        AND(
            EQ(status, RequestStatus.PROCESSING.value),
            LT(LAST_MODIFIED_TIME(status), stuck_before.astimezone(UTC)),
        ),
    )


def _fields(record: Record) -> Mapping[str, Any]:
    fields = record.get("fields")
    return fields if isinstance(fields, dict) else {}


def receipt_facts(record: Record) -> ReceiptFacts | None:
    """None for a row without a known Action or a time (nothing the books can place)."""
    f, r = _fields(record), Receipts
    action = codec.option(f, r.ACTION, ReceiptAction)
    at = codec.timestamp(f, r.AT)
    if action is None or at is None:
        return None
    cards, stores = codec.links(f, r.GIFT_CARD), codec.links(f, r.STORE)
    return ReceiptFacts(
        reference=codec.text(f, r.REFERENCE) or record["id"],
        action=action,
        at=at,
        card_id=cards[0] if cards else None,
        store_id=stores[0] if stores else None,
        amount=codec.decimal(f, r.AMOUNT),
        balance_before=codec.decimal(f, r.BALANCE_BEFORE),
        balance_after=codec.decimal(f, r.BALANCE_AFTER),
        details=codec.text(f, r.DETAILS),
    )


def _card_money(fields: Mapping[str, Any], name: str, currency: str, rid: str) -> Money | None:
    value = fields.get(name)
    if value is None:
        return None
    try:
        return Money.from_json_number(value, currency)
    except MoneyError as exc:
        log.warning("unreadable amount", service=SERVICE, record=rid, field=name, error=str(exc))
        return None


def card_facts(record: Record, base_currency: str) -> CardFacts:
    f, g, rid = _fields(record), GiftCards, record["id"]
    currency = codec.text(f, g.CURRENCY) or base_currency
    return CardFacts(
        id=rid,
        currency=currency,
        status=codec.option(f, g.STATUS, CardStatus),
        initial_value=_card_money(f, g.INITIAL_VALUE, currency, rid),
        balance=_card_money(f, g.BALANCE, currency, rid),
        source=codec.option(f, g.SOURCE, CardSource),
        store_ids=codec.links(f, g.STORE),
        issued_at=codec.timestamp(f, g.ISSUED_AT),
        expires_on=codec.day(f, g.EXPIRES_ON),
        masked_code=codec.text(f, g.MASKED_CODE),
        origin_key=codec.text(f, g.ORIGIN_KEY),
    )


def flagged_request(table: str, record: Record) -> FlaggedRequest | None:
    status_field, outcome, message, processed = REQUEST_FIELDS[table]
    f = _fields(record)
    status = codec.option(f, status_field, RequestStatus)
    if status is None:
        return None
    return FlaggedRequest(
        table=table,
        record_id=record["id"],
        status=status,
        created_time=codec.created_time(record),
        outcome=codec.text(f, outcome),
        message=codec.text(f, message) if message else None,
        processed_at=codec.timestamp(f, processed),
    )


class AirtableReports:
    """:class:`clients.ports.ReportSource` over the shared Airtable plumbing."""

    def __init__(self, tables: AirtableTables) -> None:
        self._t = tables
        self._table_ids: dict[str, str] | None = None

    def close(self) -> None:
        self._t.api.session.close()

    def pages(
        self, table: str, formula: Formula | None, fields: list[str] | None
    ) -> Iterator[list[Record]]:
        """Each page of a listing, one request at a time (see the module's docstring)."""
        options: dict[str, Any] = {"page_size": PAGE_SIZE}
        if formula is not None:
            options["formula"] = to_formula_str(formula)
        if fields is not None:
            options["fields"] = fields
        seen: set[str] = set()
        offset: str | None = None
        restarts = 0
        while True:
            try:
                body = self._page(table, options, offset)
            except Permanent as exc:
                if exc.code != ITERATOR_EXPIRED or restarts >= LIST_RESTARTS:
                    raise
                restarts += 1
                log.warning("listing restarted", service=SERVICE, table=table, attempt=restarts)
                offset = None
                continue
            found = [dict(r) for r in body.get("records", []) if r.get("id") not in seen]
            seen.update(r["id"] for r in found)
            yield found
            offset = body.get("offset") or None
            if offset is None:
                return

    def _page(self, table: str, options: dict[str, Any], offset: str | None) -> dict[str, Any]:
        handle = self._t.table(table)
        query = dict(options, offset=offset) if offset else dict(options)

        def get() -> dict[str, Any]:
            body = self._t.api.request(
                "get",
                handle.urls.records,
                fallback=("post", handle.urls.records_post),
                options=query,
            )
            return body if isinstance(body, dict) else {}

        return self._t.read(get, f"list {table}")

    # --- ReportSource ---------------------------------------------------------------------
    def iter_receipts(
        self, since: datetime | None = None, until: datetime | None = None
    ) -> Iterator[list[ReceiptFacts]]:
        for page in self.pages(Receipts.TABLE, receipts_formula(since, until), RECEIPT_FIELDS):
            yield [facts for r in page if (facts := receipt_facts(r)) is not None]

    def iter_cards(
        self, *, issued_since: datetime | None = None, active_only: bool = False
    ) -> Iterator[list[CardFacts]]:
        formula = cards_formula(issued_since, active_only)
        for page in self.pages(GiftCards.TABLE, formula, CARD_FIELDS):
            yield [card_facts(r, self._t.currency) for r in page]

    def store_names(self) -> dict[str, str]:
        names: dict[str, str] = {}
        for page in self.pages(Stores.TABLE, None, [Stores.NAME]):
            names.update({r["id"]: codec.text(_fields(r), Stores.NAME) or r["id"] for r in page})
        return names

    def flagged_requests(self, stuck_before: datetime) -> list[FlaggedRequest]:
        found: list[FlaggedRequest] = []
        for table, (status, outcome, message, processed) in REQUEST_FIELDS.items():
            fields = [status, outcome, processed] + ([message] if message else [])
            for page in self.pages(table, flagged_formula(status, stuck_before), fields):
                found += [f for r in page if (f := flagged_request(table, r)) is not None]
        return found

    def table_ids(self) -> dict[str, str]:
        """Read once from the Metadata API (ids never change), then from memory."""
        if self._table_ids is None:
            url = str(self._t.api.build_url("meta", "bases", self._t.base_id, "tables"))
            body = self._t.read(lambda: self._t.request("GET", url, None, "schema"), "schema")
            tables = body.get("tables") if isinstance(body, dict) else None
            self._table_ids = {
                str(t["name"]): str(t["id"])
                for t in tables or []
                if isinstance(t, dict) and "name" in t and "id" in t
            }
        return dict(self._table_ids)
