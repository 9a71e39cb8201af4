"""The Airtable fake's Receipts, Shopify Orders and Status tables (upserts keyed as Airtable's)."""

from __future__ import annotations

import functools
from collections.abc import Sequence

from cards.vocab import ProngState
from clients.airtable_ledger_columns import (
    new_status_cells,
    order_cells,
    receipt_cells,
    status_cells,
)
from clients.commands import RecordOrder
from clients.errors import Permanent
from clients.records import OrderRow, Receipt, StatusRow
from clients.status_commands import StatusWrite
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
        for receipt in receipts:  # all or none, as Airtable: every record checked first
            self._validate(Receipts.TABLE, receipt_cells(receipt))
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
        if existing:
            self._apply(Receipts.TABLE, existing[0], receipt_cells(receipt))
        else:
            self._add_row(Receipts.TABLE, receipt_cells(receipt))

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

    def record_order(self, order: RecordOrder) -> OrderRow:
        def upsert() -> OrderRow:
            table = self.tables[ShopifyOrders.TABLE]
            hits = [
                i
                for i, r in table.items()
                if r.get(ShopifyOrders.ORDER_ID) == order.order_id
                and r.get(ShopifyOrders.KIND) == order.kind
            ]
            if hits:
                record_id = hits[0]
                self._apply(ShopifyOrders.TABLE, record_id, order_cells(order))
            else:
                record_id = self._add_row(ShopifyOrders.TABLE, order_cells(order))
            return self._order(record_id, table[record_id])

        return self._call("upsert", upsert)

    # --- status -------------------------------------------------------------------------
    def status_rows(self) -> list[StatusRow]:
        return self._call(
            "list", lambda: [self._status(i, r) for i, r in self.tables[Status.TABLE].items()]
        )

    def create_status_row(self, prong: str, state: ProngState) -> StatusRow:
        def create() -> StatusRow:
            record_id = self.insert(Status.TABLE, dict(new_status_cells(prong, state)))
            return self._status(record_id, self.tables[Status.TABLE][record_id])

        return self._call("create", create)

    def update_status_row(self, record_id: str, write: StatusWrite) -> None:
        cells = status_cells(write)
        self._call("update", lambda: self._apply(Status.TABLE, record_id, cells))

    def update_status_rows(self, updates: Sequence[tuple[str, StatusWrite]]) -> None:
        if not 0 < len(updates) <= 10:
            raise ValueError("an update request carries 1 to 10 records")
        cells = [(record_id, status_cells(write)) for record_id, write in updates]
        self._call("update", lambda: self._apply_all(Status.TABLE, cells))
