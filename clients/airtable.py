"""The Airtable adapter: :class:`clients.ports.AirtablePort` over pyairtable and real HTTP.

Built by :func:`clients.factory.build_airtable`. Every request goes through the shared per-base
limiter (``clients.airtable_http``), every failure becomes a class of :mod:`clients.errors`
(``clients.airtable_errors``), every formula is built by ``clients.airtable_queries``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from pyairtable.formulas import OR

from cards.vocab import CardStatus, OrderKind, OrderOutcome
from clients import airtable_queries as q
from clients import airtable_rows as rows
from clients.airtable_batch import update_in_tens
from clients.airtable_http import upload_body, upload_url
from clients.airtable_tables import AirtableTables, Record
from clients.errors import InvariantViolation, Permanent
from clients.records import (
    BalanceCheckRequest,
    CardActionRequest,
    CardRow,
    Changes,
    CreationRequest,
    OrderRow,
    Receipt,
    RedemptionRequest,
    StatusRow,
    Store,
)
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

REQUEST_TABLES = frozenset(
    {StoreRedemptions.TABLE, CreationRequests.TABLE, BalanceChecks.TABLE, CardActions.TABLE}
)
#: A queue longer than this is read in Airtable's order up to the cap, then sorted: the oldest
#: come first in practice, and a flood never turns one poll into dozens of requests.
QUEUE_SCAN_CAP = 300
MAX_UPLOAD_BYTES = 5 * 1024 * 1024


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
        found = self._pending(CreationRequests.TABLE, CreationRequests.STATUS, limit)
        return [rows.creation(r) for r in found]

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

    def update_request(self, table: str, record_id: str, changes: Changes) -> None:
        if table not in REQUEST_TABLES:
            raise Permanent(
                "airtable", f"update {table}", "not a request table", code="NOT_A_REQUEST_TABLE"
            )
        self._t.update(table, record_id, changes)

    def update_requests(
        self, table: str, updates: Sequence[tuple[str, Changes]]
    ) -> dict[str, Permanent]:
        if table not in REQUEST_TABLES:
            raise Permanent(
                "airtable", f"update {table}", "not a request table", code="NOT_A_REQUEST_TABLE"
            )
        return update_in_tens(self._t, table, updates)

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
        found: dict[str, list[CardRow]] = {}
        for chunk in q.bounded_chunks(digests):
            formula = q.any_of(GiftCards.CODE_DIGEST, chunk)
            for record in self._t.list_records(GiftCards.TABLE, formula=formula):
                row = rows.card(record, self.currency)
                if row.code_digest in chunk:  # exactly as asked, whatever the formula compared
                    found.setdefault(row.code_digest, []).append(row)
        return found

    def search_cards(self, text: str, limit: int = 20) -> list[CardRow]:
        formula = q.containing(text, CARD_SEARCH_FIELDS)
        if text.strip().title() in {s.value for s in CardStatus}:
            formula = OR(formula, q.equals(GiftCards.STATUS, text.strip().title()))
        found = self._t.list_records(GiftCards.TABLE, formula=formula, max_records=limit)
        return [rows.card(record, self.currency) for record in found]

    def create_card(self, changes: Changes) -> CardRow:
        return rows.card(self._t.create(GiftCards.TABLE, changes), self.currency)

    def update_card(self, record_id: str, changes: Changes) -> CardRow:
        return rows.card(self._t.update(GiftCards.TABLE, record_id, changes), self.currency)

    def update_cards(self, updates: Sequence[tuple[str, Changes]]) -> dict[str, Permanent]:
        return update_in_tens(self._t, GiftCards.TABLE, updates)

    def known_card_ids_by_shopify_id(self, shopify_ids: Sequence[str]) -> dict[str, CardRow]:
        result: dict[str, CardRow] = {}
        for chunk in q.chunks(shopify_ids):
            formula = q.any_of(GiftCards.SHOPIFY_GIFT_CARD_ID, chunk)
            for record in self._t.list_records(GiftCards.TABLE, formula=formula):
                row = rows.card(record, self.currency)
                if row.shopify_id is not None:
                    result[row.shopify_id] = row
        return result

    def attach_certificate(self, card_id: str, filename: str, content: bytes) -> None:
        """Clear the Certificate cell, then upload: the pair is safe to re-send as a whole."""
        if len(content) > MAX_UPLOAD_BYTES:
            raise Permanent(
                "airtable", "uploadAttachment", "certificate over 5 MB", code="ATTACHMENT_TOO_LARGE"
            )
        url = upload_url(self._content_url, self._t.base_id, card_id, GiftCards.CERTIFICATE)
        body = upload_body(filename, content, "application/pdf")
        table = self._t.table(GiftCards.TABLE)

        def replace() -> None:
            table.update(card_id, {GiftCards.CERTIFICATE: []})
            self._t.request("POST", url, body, "uploadAttachment")

        self._t.write(replace, "uploadAttachment", idempotent=True)

    def stores(self) -> list[Store]:
        return [rows.store(r) for r in self._t.list_records(Stores.TABLE)]

    # --- receipts and orders --------------------------------------------------------------
    def upsert_receipts(self, receipts: Sequence[Receipt]) -> None:
        latest = {r.reference: r for r in receipts}  # one row per Reference in a request
        unique = list(latest.values())
        for start in range(0, len(unique), 10):
            chunk = [_receipt_changes(r) for r in unique[start : start + 10]]
            self._t.upsert(Receipts.TABLE, chunk, [Receipts.REFERENCE])

    def receipt_references(self, references: Sequence[str]) -> set[str]:
        found: set[str] = set()
        for chunk in q.chunks(references):
            records = self._t.list_records(
                Receipts.TABLE,
                formula=q.any_of(Receipts.REFERENCE, chunk),
                fields=[Receipts.REFERENCE],
            )
            found |= {_reference(r) for r in records}
        return found & set(references)

    def order_rows(self, order_id: str) -> list[OrderRow]:
        formula = q.equals(ShopifyOrders.ORDER_ID, order_id)
        found = self._t.list_records(ShopifyOrders.TABLE, formula=formula)
        return [rows.order(r) for r in found]

    def record_order(
        self,
        *,
        order_id: str,
        order_name: str,
        kind: OrderKind,
        outcome: OrderOutcome,
        card_ids: Sequence[str],
        processed_at: datetime,
    ) -> OrderRow:
        o = ShopifyOrders
        changes: Changes = {
            o.ORDER_ID: order_id,
            o.ORDER_NAME: order_name,
            o.KIND: kind,
            o.OUTCOME: outcome,
            o.GIFT_CARDS: tuple(card_ids),
            o.PROCESSED_AT: processed_at,
        }
        records = self._t.upsert(o.TABLE, [changes], [o.ORDER_ID, o.KIND])
        return rows.order(records[0])

    # --- status -------------------------------------------------------------------------
    def status_rows(self) -> list[StatusRow]:
        return [rows.status(r) for r in self._t.list_records(Status.TABLE)]

    def create_status_row(self, prong: str, changes: Changes) -> StatusRow:
        return rows.status(self._t.create(Status.TABLE, {Status.PRONG: prong, **changes}))

    def update_status_row(self, record_id: str, changes: Changes) -> None:
        self._t.update(Status.TABLE, record_id, changes)

    def update_status_rows(self, updates: Sequence[tuple[str, Changes]]) -> None:
        self._t.update_batch(Status.TABLE, updates)


def _reference(record: Record) -> str:
    value: Any = record.get("fields", {}).get(Receipts.REFERENCE)
    return value if isinstance(value, str) else ""


def _receipt_changes(receipt: Receipt) -> Changes:
    r = Receipts
    return {
        r.REFERENCE: receipt.reference,
        r.ACTION: receipt.action,
        r.AT: receipt.at,
        r.SOURCE: receipt.source,
        r.GIFT_CARD: (receipt.card_id,) if receipt.card_id else None,
        r.STORE: (receipt.store_id,) if receipt.store_id else None,
        r.AMOUNT: receipt.amount,
        r.BALANCE_BEFORE: receipt.balance_before,
        r.BALANCE_AFTER: receipt.balance_after,
        r.REQUEST: receipt.request,
        r.SHOPIFY_REFERENCE: receipt.shopify_reference,
        r.DETAILS: receipt.details,
    }
