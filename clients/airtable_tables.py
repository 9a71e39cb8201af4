"""Reading and writing Airtable tables under our retry policy and error translation.

Reads page through every result (100 a page) and restart from page 1, a bounded number of
times, when Airtable says ``LIST_RECORDS_ITERATOR_NOT_AVAILABLE``. Writes say whether they are
safe to re-send after an ambiguous outcome (a PATCH by record id, an upsert on a key) or not (a
create); only the former are retried after a lost response.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

import requests
import structlog
from pyairtable import Api, Table
from pyairtable.formulas import Formula, to_formula_str

from clients.airtable_codec import encode_changes
from clients.airtable_columns import CellValue
from clients.airtable_errors import SERVICE, is_iterator_expired, translate
from clients.errors import AmbiguousOutcome, ClientError, Permanent
from clients.retry import RetryPolicy
from config.layout import load_layout

T = TypeVar("T")
Record = dict[str, Any]
log = structlog.get_logger()
LIST_RESTARTS = 3
PAGE_SIZE = 100


class AirtableTables:
    def __init__(
        self, api: Api, base_id: str, *, currency: str, retry: RetryPolicy, penalty: float
    ) -> None:
        self.api = api
        self.base_id = base_id
        self.currency = currency
        self.retry = retry
        self.penalty = penalty
        self._tables: dict[str, Table] = {}
        # Field types from the packaged layout: how a Decimal or None is written to each field.
        self.types: dict[str, dict[str, str]] = {
            t.name: {f.name: f.type for f in t.fields} for t in load_layout()
        }

    def table(self, name: str) -> Table:
        if name not in self._tables:
            self._tables[name] = self.api.table(self.base_id, name)
        return self._tables[name]

    def encode(self, table: str, changes: Mapping[str, CellValue]) -> dict[str, Any]:
        return encode_changes(self.types.get(table, {}), changes, self.currency, table=table)

    # --- the guarded call ---------------------------------------------------------------------
    def _guard(self, fn: Callable[[], T], operation: str, *, write: bool) -> Callable[[], T]:
        def guarded() -> T:
            try:
                return fn()
            except ClientError:
                raise
            except Exception as exc:  # every library failure becomes one of our classes
                error = translate(exc, operation, write=write, penalty=self.penalty)
                if isinstance(error, AmbiguousOutcome):
                    log.warning(
                        "outcome unknown", service=SERVICE, operation=operation, detail=error.detail
                    )
                raise error from exc

        return guarded

    def read(self, fn: Callable[[], T], operation: str) -> T:
        return self.retry.call(
            self._guard(fn, operation, write=False), service=SERVICE, operation=operation
        )

    def write(self, fn: Callable[[], T], operation: str, *, idempotent: bool) -> T:
        return self.retry.call(
            self._guard(fn, operation, write=True),
            service=SERVICE,
            operation=operation,
            idempotent=idempotent,
        )

    # --- reads ------------------------------------------------------------------------------
    def list_records(
        self,
        table: str,
        *,
        formula: Formula | None = None,
        max_records: int | None = None,
        fields: list[str] | None = None,
        sort: list[str] | None = None,
    ) -> list[Record]:
        """Every matching record (all pages), in Airtable's order or by ``sort`` (field names,
        ``-name`` descending)."""
        options: dict[str, Any] = {"page_size": PAGE_SIZE}
        if formula is not None:
            options["formula"] = to_formula_str(formula)
        if max_records is not None:
            options["max_records"] = max_records
        if fields is not None:
            options["fields"] = fields
        if sort is not None:
            options["sort"] = sort
        operation = f"list {table}"
        return self.read(lambda: self._all_pages(table, options), operation)

    def _all_pages(self, table: str, options: dict[str, Any]) -> list[Record]:
        for attempt in range(1, LIST_RESTARTS + 1):
            records: list[Record] = []
            try:
                for page in self.table(table).iterate(**options):
                    records.extend(dict(r) for r in page)
                return records
            except requests.HTTPError as exc:
                if not is_iterator_expired(exc) or attempt == LIST_RESTARTS:
                    raise
                log.warning(
                    "listing restarted", service=SERVICE, operation=f"list {table}", attempt=attempt
                )
        raise AssertionError("unreachable")  # pragma: no cover

    def get(self, table: str, record_id: str) -> Record | None:
        """One record by id, or None when Airtable says it does not exist."""
        try:
            return self.read(lambda: dict(self.table(table).get(record_id)), f"get {table}")
        except Permanent as exc:
            if exc.status == 404:
                return None
            raise

    # --- writes -----------------------------------------------------------------------------
    def create(self, table: str, changes: Mapping[str, CellValue]) -> Record:
        """Never re-sent after an ambiguous outcome: the caller looks the row up by its key."""
        fields = self.encode(table, changes)
        return self.write(
            lambda: dict(self.table(table).create(fields)), f"create {table}", idempotent=False
        )

    def create_batch(self, table: str, rows: Sequence[Mapping[str, CellValue]]) -> list[Record]:
        """One create request of 1 to 10 records, all or none; never re-sent after an ambiguous
        outcome (the caller looks the rows up by their keys)."""
        if not 0 < len(rows) <= 10:
            raise ValueError("a create request carries 1 to 10 records")
        records: list[Any] = [self.encode(table, row) for row in rows]

        def send() -> list[Record]:
            return [dict(r) for r in self.table(table).batch_create(records)]

        return self.write(send, f"create {table}", idempotent=False)

    def update(self, table: str, record_id: str, changes: Mapping[str, CellValue]) -> Record:
        """PATCH by record id: safe to re-send."""
        fields = self.encode(table, changes)
        return self.write(
            lambda: dict(self.table(table).update(record_id, fields)),
            f"update {table}",
            idempotent=True,
        )

    def update_batch(
        self, table: str, updates: Sequence[tuple[str, Mapping[str, CellValue]]]
    ) -> list[Record]:
        """One PATCH of 1 to 10 distinct records by id: safe to re-send. Airtable applies all of
        it or (422, 404) none of it."""
        if not 0 < len(updates) <= 10:
            raise ValueError("an update request carries 1 to 10 records")
        records: list[Any] = [
            {"id": record_id, "fields": self.encode(table, changes)}
            for record_id, changes in updates
        ]

        def send() -> list[Record]:
            return [dict(r) for r in self.table(table).batch_update(records)]

        return self.write(send, f"update {table}", idempotent=True)

    def upsert(
        self, table: str, rows: list[Mapping[str, CellValue]], key_fields: list[str]
    ) -> list[Record]:
        """One upsert request (at most 10 rows) on ``key_fields``: safe to re-send."""
        if not 0 < len(rows) <= 10:
            raise ValueError("an upsert request carries 1 to 10 records")
        records = [{"fields": self.encode(table, row)} for row in rows]

        def send() -> list[Record]:
            result = self.table(table).batch_upsert(records, key_fields=key_fields)
            return [dict(r) for r in result["records"]]

        return self.write(send, f"upsert {table}", idempotent=True)

    def request(self, method: str, url: str, json: dict[str, Any] | None, operation: str) -> Any:
        """A raw call through the same session (limiter, timeouts, token); unguarded."""
        return self.api.request(method, url, json=json)
