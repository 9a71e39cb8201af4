"""The storage under the Airtable fake: tables of rows, validation like Airtable's 422s, the
injector on every call, and the 10-records-a-call batch updates the adapter makes."""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, TypeVar

from cards.money import Money
from cards.vocab import RequestStatus
from clients.airtable_batch import merge_updates
from clients.airtable_columns import Changes
from clients.errors import Permanent
from config.layout import (
    BalanceChecks,
    CardActions,
    CreationRequests,
    StoreRedemptions,
    load_layout,
)
from tests.fakes.airtable_rows import Row
from tests.fakes.world import FakeClock, Injector

T = TypeVar("T")
REQUEST_TABLE_NAMES = frozenset(
    {StoreRedemptions.TABLE, CreationRequests.TABLE, BalanceChecks.TABLE, CardActions.TABLE}
)


class AirtableStore:
    """Every table's rows by record id, with what a test reads back (writes, attachments)."""

    def __init__(self, clock: FakeClock, injector: Injector, currency: str = "USD") -> None:
        self.clock = clock
        self.injector = injector
        self.currency = currency
        self.tables: dict[str, dict[str, Row]] = {t.name: {} for t in load_layout()}
        self.created: dict[str, datetime] = {}
        self._specs = {t.name: t for t in load_layout()}
        self._ids = itertools.count(1)
        self.writes: list[tuple[str, str, dict[str, Any]]] = []  # (table, record id, changes)
        self.attachments: dict[str, bytes] = {}
        # record id -> a field Airtable refuses for it (a 422, e.g. a link to a deleted row)
        self.refuse: dict[str, str] = {}

    # --- test helpers -------------------------------------------------------------------
    def new_id(self) -> str:
        return f"rec{next(self._ids):014d}"

    def insert(self, table: str, fields: dict[str, Any]) -> str:
        """Add a row as a person (or a form) would: no injection, validated."""
        return self._add_row(table, fields)

    def _add_row(self, table: str, cells: Changes | dict[str, Any]) -> str:
        """A new row with ``cells``; every cell is checked first, so a refused row leaves
        nothing behind (as Airtable's 422)."""
        self._validate(table, cells)
        record_id = self.new_id()
        self.tables[table][record_id] = {}
        self.created[record_id] = self.clock.now()
        self._apply(table, record_id, cells)
        return record_id

    def _validate(self, table: str, cells: Changes | dict[str, Any]) -> None:
        for name, value in cells.items():
            self._check(table, name, value)

    def edit(self, table: str, record_id: str, fields: dict[str, Any]) -> None:
        """Change cells as a person in Airtable's grid would (validated; a counted call)."""
        self._call("update", lambda: self._apply(table, record_id, fields))

    def row(self, table: str, record_id: str) -> Row:
        return dict(self.tables[table][record_id])

    def rows(self, table: str) -> list[Row]:
        return [dict(r, id=i) for i, r in self.tables[table].items()]

    # --- validation and storage ---------------------------------------------------------
    def _check(self, table: str, name: str, value: Any) -> None:
        try:
            spec = self._specs[table].field(name)
        except KeyError:
            raise Permanent(
                "airtable",
                "write",
                f"unknown field {name!r} in {table}",
                code="UNKNOWN_FIELD_NAME",
                status=422,
            ) from None
        if spec.choices and value is not None and str(value) not in spec.choices:
            raise Permanent(
                "airtable",
                "write",
                f"{value!r} is not an option of {name}",
                code="INVALID_MULTIPLE_CHOICE_OPTIONS",
                status=422,
            )
        if spec.type == "multipleRecordLinks" and value:
            linked = self.tables[spec.options["linkedTable"]]
            for record_id in [value] if isinstance(value, str) else value:
                if record_id not in linked:  # deleted meanwhile, as Airtable's 422 says
                    missing = (
                        f"Record ID {record_id} does not exist in {spec.options['linkedTable']}"
                    )
                    raise Permanent(
                        "airtable", "write", missing, code="ROW_DOES_NOT_EXIST", status=422
                    )
        if isinstance(value, float):
            raise AssertionError(f"a float reached the Airtable fake in {table}.{name}")
        if spec.type == "currency" and isinstance(value, Money) and value.currency != self.currency:
            raise AssertionError(f"{value} written to a {self.currency} base")

    def _apply(self, table: str, record_id: str, changes: Changes | dict[str, Any]) -> None:
        if record_id not in self.tables[table]:  # deleted by a person meanwhile
            missing = f"no record {record_id}"
            raise Permanent("airtable", "update", missing, code="MODEL_ID_NOT_FOUND", status=404)
        self._refuse_if_asked(record_id, changes)
        for name, value in changes.items():
            self._check(table, name, value)
        row = self.tables[table][record_id]
        for name, value in changes.items():
            if value is None or value == "" or value == () or value is False:
                row.pop(name, None)
            else:
                row[name] = tuple(value) if isinstance(value, list) else value
        self.writes.append((table, record_id, dict(changes)))

    def _call(self, operation: str, apply: Callable[[], T]) -> T:
        return self.injector.call(f"airtable.{operation}", apply)

    def _pending(self, table: str, limit: int) -> list[tuple[str, Row]]:
        rows = [
            (i, r)
            for i, r in self.tables[table].items()
            if r.get("Status") in (None, RequestStatus.PROCESSING.value, RequestStatus.PROCESSING)
        ]
        rows.sort(key=lambda item: (self.created[item[0]], item[0]))
        return rows[:limit]

    def _update_in_tens(
        self, table: str, updates: Sequence[tuple[str, Changes]]
    ) -> dict[str, Permanent]:
        """As the adapter: 10 records a call, all or nothing; a refused chunk again one record
        at a time (one call each), the records still refused returned."""
        merged = list(merge_updates(updates))
        refused: dict[str, Permanent] = {}
        for start in range(0, len(merged), 10):
            chunk = merged[start : start + 10]
            try:
                self._call("update", functools.partial(self._apply_all, table, chunk))
            except Permanent as exc:
                if len(chunk) == 1:
                    refused[chunk[0][0]] = exc
                    continue
                for one in chunk:
                    try:
                        self._call("update", functools.partial(self._apply_all, table, [one]))
                    except Permanent as single:
                        refused[one[0]] = single
        return refused

    def _apply_all(self, table: str, updates: Sequence[tuple[str, Changes]]) -> None:
        """Validate every record first, then write them all (Airtable's all-or-nothing)."""
        for record_id, changes in updates:
            if record_id not in self.tables[table]:
                raise Permanent(
                    "airtable",
                    "update",
                    f"no record {record_id}",
                    code="MODEL_ID_NOT_FOUND",
                    status=404,
                )
            self._refuse_if_asked(record_id, changes)
            for name, value in changes.items():
                self._check(table, name, value)
        for record_id, changes in updates:
            self._apply(table, record_id, changes)

    def _refuse_if_asked(self, record_id: str, changes: Changes | dict[str, Any]) -> None:
        name = self.refuse.get(record_id)
        if name is not None and name in changes:
            raise Permanent(
                "airtable",
                "write",
                f"{name} of {record_id} refused (test)",
                code="INVALID_VALUE_FOR_COLUMN",
                status=422,
            )
