"""The Airtable fake's Receipts, Shopify Orders and Status tables (upserts keyed as Airtable's)."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import datetime

from cards.vocab import OrderKind, OrderOutcome
from clients.errors import Permanent
from clients.records import Changes, OrderRow, Receipt, StatusRow
from config.layout import Receipts, ShopifyOrders, Status
from tests.fakes.airtable_rows import Row, RowConverters
from tests.fakes.airtable_store import AirtableStore


class LedgerTables(AirtableStore, RowConverters):
    # --- receipts and orders --------------------------------------------------------------
    def upsert_receipts(self, receipts: Sequence[Receipt]) -> None:
        for start in range(0, len(receipts), 10):
            chunk = receipts[start : start + 10]
            self._call("upsert", functools.partial(self._upsert_all, chunk))

    def _upsert_all(self, receipts: Sequence[Receipt]) -> None:
        for receipt in receipts:
            self._upsert_receipt(receipt)

    def _upsert_receipt(self, receipt: Receipt) -> None:
        table = self.tables[Receipts.TABLE]
        existing = [i for i, r in table.items() if r.get(Receipts.REFERENCE) == receipt.reference]
        if len(existing) > 1:
            raise Permanent(
                "airtable",
                "upsert",
                "several records match",
                code="INVALID_REQUEST_UNKNOWN",
                status=422,
            )
        record_id = existing[0] if existing else self.new_id()
        if not existing:
            table[record_id] = {}
            self.created[record_id] = self.clock.now()
        self._apply(
            Receipts.TABLE,
            record_id,
            {
                Receipts.REFERENCE: receipt.reference,
                Receipts.ACTION: receipt.action,
                Receipts.GIFT_CARD: (receipt.card_id,) if receipt.card_id else None,
                Receipts.STORE: (receipt.store_id,) if receipt.store_id else None,
                Receipts.AMOUNT: receipt.amount,
                Receipts.BALANCE_BEFORE: receipt.balance_before,
                Receipts.BALANCE_AFTER: receipt.balance_after,
                Receipts.SOURCE: receipt.source,
                Receipts.REQUEST: receipt.request,
                Receipts.SHOPIFY_REFERENCE: receipt.shopify_reference,
                Receipts.DETAILS: receipt.details,
                Receipts.AT: receipt.at,
            },
        )

    def receipt_references(self, references: Sequence[str]) -> set[str]:
        wanted = set(references)
        return self._call(
            "list",
            lambda: {
                r[Receipts.REFERENCE]
                for r in self.tables[Receipts.TABLE].values()
                if r.get(Receipts.REFERENCE) in wanted
            },
        )

    def receipts(self) -> list[Row]:
        return self.rows(Receipts.TABLE)

    def order_rows(self, order_id: str) -> list[OrderRow]:
        return self._call(
            "list",
            lambda: [
                self._order(i, r)
                for i, r in self.tables[ShopifyOrders.TABLE].items()
                if r.get(ShopifyOrders.ORDER_ID) == order_id
            ],
        )

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
        def upsert() -> OrderRow:
            table = self.tables[ShopifyOrders.TABLE]
            hits = [
                i
                for i, r in table.items()
                if r.get(ShopifyOrders.ORDER_ID) == order_id and r.get(ShopifyOrders.KIND) == kind
            ]
            record_id = hits[0] if hits else self.new_id()
            if not hits:
                table[record_id] = {}
                self.created[record_id] = self.clock.now()
            self._apply(
                ShopifyOrders.TABLE,
                record_id,
                {
                    ShopifyOrders.ORDER_ID: order_id,
                    ShopifyOrders.ORDER_NAME: order_name,
                    ShopifyOrders.KIND: kind,
                    ShopifyOrders.OUTCOME: outcome,
                    ShopifyOrders.GIFT_CARDS: tuple(card_ids),
                    ShopifyOrders.PROCESSED_AT: processed_at,
                },
            )
            return self._order(record_id, table[record_id])

        return self._call("upsert", upsert)

    # --- status -------------------------------------------------------------------------
    def status_rows(self) -> list[StatusRow]:
        return self._call(
            "list", lambda: [self._status(i, r) for i, r in self.tables[Status.TABLE].items()]
        )

    def create_status_row(self, prong: str, changes: Changes) -> StatusRow:
        def create() -> StatusRow:
            record_id = self.insert(Status.TABLE, {Status.PRONG: prong, **changes})
            return self._status(record_id, self.tables[Status.TABLE][record_id])

        return self._call("create", create)

    def update_status_row(self, record_id: str, changes: Changes) -> None:
        self._call("update", lambda: self._apply(Status.TABLE, record_id, changes))

    def update_status_rows(self, updates: Sequence[tuple[str, Changes]]) -> None:
        if not 0 < len(updates) <= 10:
            raise ValueError("an update request carries 1 to 10 records")
        self._call("update", lambda: self._apply_all(Status.TABLE, updates))
