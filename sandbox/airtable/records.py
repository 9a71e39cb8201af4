"""Record writes: create, update (PATCH/PUT), upsert, delete.

Every request is validated in full before anything is applied, so a request of up to 10
records is all-or-nothing. Link fields keep their reciprocal field in step, as Airtable does.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sandbox.airtable.changes import note_changed, note_created, note_destroyed
from sandbox.airtable.errors import (
    invalid_records,
    invalid_request,
    record_not_found,
    unknown_field,
)
from sandbox.airtable.render import render_record
from sandbox.airtable.store import Base, Record, Table, new_id
from sandbox.airtable.validation import PreparedWrite, apply_new_choices, prepare_fields

MAX_RECORDS = 10
_MERGE_TYPES = frozenset({
    "singleLineText", "multilineText", "email", "url", "phoneNumber", "number", "currency",
    "percent", "singleSelect", "multipleSelects", "date",
})


class Writer:
    """One write request against one table; ``origin`` is where attachment URLs point."""

    def __init__(self, base: Base, table: Table, body: Any, origin: str, now: datetime) -> None:
        if not isinstance(body, dict):
            raise invalid_request("the body must be a JSON object")
        self.base, self.table, self.body, self.origin, self.now = base, table, body, origin, now
        self.typecast = self._flag("typecast")
        self.by_field_id = self._flag("returnFieldsByFieldId")

    def _flag(self, key: str) -> bool:
        value = self.body.get(key, False)
        if not isinstance(value, bool):
            raise invalid_request(f"{key} must be a boolean")
        return value

    def _allow(self, *keys: str) -> None:
        extra = self.body.keys() - {"typecast", "returnFieldsByFieldId", *keys}
        if extra:
            raise invalid_request(f"unknown parameter(s) {sorted(extra)}")

    def _records(self, *, ids: str) -> list[dict[str, Any]]:
        """The ``records`` list; ``ids`` is "none", "required" or "optional"."""
        items = self.body.get("records")
        if not isinstance(items, list) or not 1 <= len(items) <= MAX_RECORDS:
            raise invalid_records(
                f"You must provide an array of 1 to {MAX_RECORDS} record objects"
            )
        allowed = {"fields"} if ids == "none" else {"id", "fields"}
        for item in items:
            if not isinstance(item, dict) or "fields" not in item or not item.keys() <= allowed:
                raise invalid_records(f"Each record must be an object with keys {sorted(allowed)}")
            if ids == "required" and "id" not in item:
                raise invalid_records("Each record to update needs an 'id'")
        with_ids = [item["id"] for item in items if "id" in item]
        if len(set(map(str, with_ids))) != len(with_ids):
            raise invalid_records("The same record appears twice in one request")
        return items

    def _prepare(self, fields: Any) -> PreparedWrite:
        return prepare_fields(self.base, self.table, fields, typecast=self.typecast)

    def _existing(self, record_id: Any) -> Record:
        record = self.table.records.get(record_id) if isinstance(record_id, str) else None
        if record is None:
            raise record_not_found(str(record_id))
        return record

    def _render(self, record: Record) -> dict[str, Any]:
        return render_record(self.origin, self.base, self.table, record,
                             by_field_id=self.by_field_id)

    # -- create -----------------------------------------------------------------------------

    def create(self) -> dict[str, Any]:
        self._allow("records", "fields")
        if ("records" in self.body) == ("fields" in self.body):
            raise invalid_request("send either 'records' or a single 'fields'")
        if "fields" in self.body:
            return self._render(self._insert(self._prepare(self.body["fields"])))
        prepared = [self._prepare(item["fields"]) for item in self._records(ids="none")]
        return {"records": [self._render(self._insert(p)) for p in prepared]}

    def _insert(self, prepared: PreparedWrite) -> Record:
        apply_new_choices(prepared)
        record = Record(new_id("rec"), self.now)
        self.table.records[record.id] = record
        note_created(self.table.id, record.id)
        write_cells(self.base, self.table, record, prepared.cells, self.now, replace=False)
        return record

    # -- update -----------------------------------------------------------------------------

    def update_one(self, record_id: str, *, replace: bool) -> dict[str, Any]:
        self._allow("fields")
        record = self._existing(record_id)
        prepared = self._prepare(self.body.get("fields"))
        self._apply(record, prepared, replace)
        return self._render(record)

    def update_many(self, *, replace: bool) -> dict[str, Any]:
        if "performUpsert" in self.body:
            return self.upsert(replace=replace)
        self._allow("records")
        items = self._records(ids="required")
        pairs = [(self._existing(item["id"]), self._prepare(item["fields"])) for item in items]
        for record, prepared in pairs:
            self._apply(record, prepared, replace)
        return {"records": [self._render(record) for record, _ in pairs]}

    def _apply(self, record: Record, prepared: PreparedWrite, replace: bool) -> None:
        apply_new_choices(prepared)
        write_cells(self.base, self.table, record, prepared.cells, self.now, replace=replace)

    # -- upsert -----------------------------------------------------------------------------

    def _merge_field_ids(self) -> list[str]:
        spec = self.body["performUpsert"]
        names = spec.get("fieldsToMergeOn") if isinstance(spec, dict) else None
        if not isinstance(names, list) or not 1 <= len(names) <= 3 or spec.keys() != {
            "fieldsToMergeOn"
        }:
            raise invalid_request("performUpsert.fieldsToMergeOn must list 1 to 3 fields")
        ids = []
        for name in names:
            target = self.table.field(name) if isinstance(name, str) else None
            if target is None:
                raise unknown_field(str(name))
            if target.type not in _MERGE_TYPES:
                raise invalid_request(f'field "{target.name}" ({target.type}) cannot be merged on')
            ids.append(target.id)
        return ids

    def upsert(self, *, replace: bool) -> dict[str, Any]:
        self._allow("records", "performUpsert")
        merge_ids = self._merge_field_ids()
        plan: list[tuple[Record | None, PreparedWrite]] = []
        seen_keys: set[str] = set()
        for item in self._records(ids="optional"):
            prepared = self._prepare(item["fields"])
            if "id" in item:
                plan.append((self._existing(item["id"]), prepared))
                continue
            values = [prepared.cells.get(fid) for fid in merge_ids]
            if any(v is None for v in values):
                raise invalid_records("Each record without an id needs every fieldsToMergeOn value")
            key = json.dumps(values)
            if key in seen_keys:
                raise invalid_records("Two records in the request have the same merge values")
            seen_keys.add(key)
            plan.append((self._match(merge_ids, values), prepared))
        created, updated, records = [], [], []
        for existing, prepared in plan:
            if existing is None:
                record = self._insert(prepared)
                created.append(record.id)
            else:
                self._apply(existing, prepared, replace)
                record = existing
                updated.append(record.id)
            records.append(self._render(record))
        return {"records": records, "createdRecords": created, "updatedRecords": updated}

    def _match(self, merge_ids: list[str], values: list[Any]) -> Record | None:
        matches = [
            r for r in self.table.records.values()
            if all(r.cells.get(fid) == v for fid, v in zip(merge_ids, values, strict=True))
        ]
        if len(matches) > 1:
            raise invalid_records(
                f"fieldsToMergeOn matched {len(matches)} records; upsert needs at most one"
            )
        return matches[0] if matches else None


def delete_records(base: Base, table: Table, record_ids: list[str], now: datetime) -> list[str]:
    if not 1 <= len(record_ids) <= MAX_RECORDS:
        raise invalid_records(f"You can delete 1 to {MAX_RECORDS} records per request")
    if len(set(record_ids)) != len(record_ids):
        raise invalid_records("The same record appears twice in one request")
    for record_id in record_ids:
        if record_id not in table.records:
            raise record_not_found(record_id)
    for record_id in record_ids:
        del table.records[record_id]
        note_destroyed(table.id, record_id)
        _unlink_everywhere(base, table, record_id, now)
    return record_ids


def _unlink_everywhere(base: Base, table: Table, record_id: str, now: datetime) -> None:
    for other_table, link in base.links_into(table.id):
        for record in other_table.records.values():
            cell = record.cells.get(link.id)
            if cell and record_id in cell:
                remaining = [r for r in cell if r != record_id]
                _set(record, link.id, remaining or None, now)
                note_changed(other_table.id, record.id, link.id)


def _set(record: Record, field_id: str, value: Any, now: datetime) -> Any:
    old = record.cells.get(field_id)
    if value is None:
        record.cells.pop(field_id, None)
    else:
        record.cells[field_id] = value
    if old != value:
        record.modified[field_id] = now
    return old


def write_cells(
    base: Base, table: Table, record: Record, cells: dict[str, Any], now: datetime, *,
    replace: bool,
) -> None:
    """Write validated cells; ``replace`` (PUT) clears every field not given."""
    if replace:
        cells = {**dict.fromkeys(f.id for f in table.fields), **cells}
    for field_id, value in cells.items():
        old = _set(record, field_id, value, now)
        if old != value:
            note_changed(table.id, record.id, field_id)
        target = table.field_by_id(field_id)
        inverse_id = (target.options or {}).get("inverseLinkFieldId")
        if target.type == "multipleRecordLinks" and inverse_id and old != value:
            linked = base.table_by_id((target.options or {})["linkedTableId"])
            _sync_inverse(linked, inverse_id, record.id, set(old or []), set(value or []), now)
            for other_id in set(old or []) ^ set(value or []):
                if other_id in linked.records:
                    note_changed(linked.id, other_id, inverse_id)


def _sync_inverse(
    linked: Table, inverse_id: str, record_id: str, old: set[str], new: set[str], now: datetime
) -> None:
    for other_id in old - new:
        other = linked.records.get(other_id)
        if other is not None:
            remaining = [r for r in other.cells.get(inverse_id, []) if r != record_id]
            _set(other, inverse_id, remaining or None, now)
    for other_id in new - old:
        other = linked.records.get(other_id)
        if other is not None and record_id not in other.cells.get(inverse_id, []):
            _set(other, inverse_id, [*other.cells.get(inverse_id, []), record_id], now)


def check_record_owner(table: Table, record_id: str) -> Record:
    record = table.records.get(record_id)
    if record is None:
        raise record_not_found(record_id)
    return record

