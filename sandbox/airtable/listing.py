"""List records: parameters (GET query or ``listRecords`` body), filter, sort, and paging.

The first page takes a snapshot of the matching record ids in order; later pages read from it
through an ``offset`` of the form ``itr…/rec…``. An iterator idle for longer than its TTL, or
forgotten by a reset, answers 422 ``LIST_RECORDS_ITERATOR_NOT_AVAILABLE`` as Airtable does.
"""

from __future__ import annotations

import json
import re
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from multidict import MultiMapping

from sandbox.airtable.dates import parse_datetime
from sandbox.airtable.errors import AirtableError, invalid_request, unknown_field
from sandbox.airtable.formula_eval import EvalContext, compile_formula, matches
from sandbox.airtable.formula_values import Value, to_text
from sandbox.airtable.render import render_record
from sandbox.airtable.store import Base, Field, Record, Table, new_id
from sandbox.airtable.validation import NUMERIC_TYPES

MAX_PAGE_SIZE = 100
_SORT_PARAM = re.compile(r"sort\[(\d+)\]\[(field|direction)\]")
_OFFSET = re.compile(r"(itr[A-Za-z0-9]{14})/(rec[A-Za-z0-9]{14})")
_QUERY_KEYS = frozenset({
    "fields[]", "filterByFormula", "maxRecords", "pageSize", "view", "cellFormat", "timeZone",
    "userLocale", "offset", "returnFieldsByFieldId", "recordMetadata[]",
})
_BODY_KEYS = frozenset({
    "fields", "filterByFormula", "maxRecords", "pageSize", "sort", "view", "cellFormat",
    "timeZone", "userLocale", "offset", "returnFieldsByFieldId", "recordMetadata",
})


@dataclass
class ListQuery:
    fields: list[str] | None = None
    formula: str | None = None
    max_records: int | None = None
    page_size: int = MAX_PAGE_SIZE
    sort: list[tuple[str, bool]] = field(default_factory=list)  # (field, descending)
    view: str | None = None
    offset: str | None = None
    by_field_id: bool = False
    comment_count: bool = False

    def signature(self) -> str:
        return json.dumps([self.formula, self.sort, self.view, self.max_records])


def _positive_int(name: str, raw: Any, top: int | None = None) -> int:
    try:
        value = int(raw) if not isinstance(raw, bool) else -1
    except (TypeError, ValueError):
        value = -1
    if value < 1 or (top is not None and value > top):
        limit = f" and at most {top}" if top else ""
        raise invalid_request(f"{name} must be a positive integer{limit}")
    return value


def _flag(raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    if raw in ("1", "true"):
        return True
    if raw in ("0", "false"):
        return False
    raise invalid_request("returnFieldsByFieldId must be a boolean")


def _common(query: ListQuery, get: Any) -> None:
    """Parameters with the same meaning in a query string and a JSON body."""
    if get("cellFormat", "json") != "json":
        raise invalid_request("the sandbox supports cellFormat=json only")
    formula = get("filterByFormula")
    if formula is not None and not isinstance(formula, str):
        raise invalid_request("filterByFormula must be a string")
    query.formula = formula or None
    if get("maxRecords") is not None:
        query.max_records = _positive_int("maxRecords", get("maxRecords"))
    if get("pageSize") is not None:
        query.page_size = _positive_int("pageSize", get("pageSize"), MAX_PAGE_SIZE)
    for key in ("view", "offset"):
        value = get(key)
        if value is not None and not isinstance(value, str):
            raise invalid_request(f"{key} must be a string")
    query.view, query.offset = get("view"), get("offset")
    query.by_field_id = _flag(get("returnFieldsByFieldId", False))


def query_from_params(params: MultiMapping[str]) -> ListQuery:
    query = ListQuery()
    sorts: dict[int, dict[str, str]] = {}
    for key in params:
        match = _SORT_PARAM.fullmatch(key)
        if match:
            sorts.setdefault(int(match[1]), {})[match[2]] = params[key]
        elif key not in _QUERY_KEYS:
            raise invalid_request(f"unknown parameter {key!r}")
    _common(query, params.get)
    if "fields[]" in params:
        query.fields = list(params.getall("fields[]"))
    query.sort = [_sort_spec(sorts[i]) for i in sorted(sorts)]
    query.comment_count = "commentCount" in params.getall("recordMetadata[]", [])
    return query


def query_from_body(body: Any) -> ListQuery:
    if not isinstance(body, dict):
        raise invalid_request("the body must be a JSON object")
    extra = body.keys() - _BODY_KEYS
    if extra:
        raise invalid_request(f"unknown parameter(s) {sorted(extra)}")
    query = ListQuery()
    _common(query, body.get)
    fields, sort = body.get("fields"), body.get("sort", [])
    if fields is not None:
        if not isinstance(fields, list) or not all(isinstance(f, str) for f in fields):
            raise invalid_request("fields must be a list of field names or ids")
        query.fields = fields
    if not isinstance(sort, list) or not all(isinstance(s, dict) for s in sort):
        raise invalid_request("sort must be a list of {field, direction} objects")
    query.sort = [_sort_spec(s) for s in sort]
    query.comment_count = "commentCount" in (body.get("recordMetadata") or [])
    return query


def _sort_spec(spec: dict[str, Any]) -> tuple[str, bool]:
    direction = spec.get("direction", "asc")
    if not isinstance(spec.get("field"), str) or direction not in ("asc", "desc"):
        raise invalid_request("each sort needs a field and a direction of asc or desc")
    return spec["field"], direction == "desc"


@dataclass
class _Cursor:
    table_id: str
    ids: list[str]  # the matching records, in order, as of the first page
    signature: str
    touched: float


class Iterators:
    """Pagination iterators, forgotten after ``ttl`` seconds without use.

    An offset names the iterator and the record the next page starts at, so sending the same
    offset twice (a client retry) returns the same page again.
    """

    def __init__(self, ttl: float) -> None:
        self.ttl = ttl
        self._cursors: dict[str, _Cursor] = {}
        self._lock = threading.Lock()

    def start(self, table_id: str, ids: list[str], signature: str) -> str:
        with self._lock:
            self._expire()
            token = new_id("itr")
            self._cursors[token] = _Cursor(table_id, ids, signature, time.monotonic())
        return token

    def resume(self, offset: str, table_id: str, signature: str) -> tuple[str, list[str], int]:
        """(token, ids, index of the page's first record) for an ``offset``."""
        match = _OFFSET.fullmatch(offset)
        if match is None:
            raise AirtableError(422, "INVALID_OFFSET_VALUE", f"The offset {offset!r} is invalid")
        with self._lock:
            self._expire()
            cursor = self._cursors.get(match[1])
        if (cursor is None or cursor.table_id != table_id or cursor.signature != signature
                or match[2] not in cursor.ids):
            raise AirtableError(
                422, "LIST_RECORDS_ITERATOR_NOT_AVAILABLE",
                "The pagination iterator is not available; restart from the first page",
            )
        cursor.touched = time.monotonic()
        return match[1], cursor.ids, cursor.ids.index(match[2])

    def _expire(self) -> None:
        deadline = time.monotonic() - self.ttl
        for token in [t for t, c in self._cursors.items() if c.touched < deadline]:
            del self._cursors[token]

    def clear(self) -> None:
        with self._lock:
            self._cursors.clear()


def formula_value(base: Base, table: Table, target: Field, record: Record) -> Value:
    """A cell as formulas see it (links become the linked records' primary values)."""
    cell = record.cells.get(target.id)
    if cell is None:
        return None
    if target.type in NUMERIC_TYPES:
        return float(cell)
    if target.type in ("date", "dateTime"):
        return parse_datetime(cell)
    if target.type == "multipleRecordLinks":
        linked = base.table_by_id((target.options or {})["linkedTableId"])
        return [
            to_text(formula_value(base, linked, linked.primary, linked.records[i]))
            for i in cell if i in linked.records
        ]
    if target.type == "multipleAttachments":
        return [item["filename"] for item in cell]
    return cell


def _matching(base: Base, table: Table, query: ListQuery, now: datetime) -> list[Record]:
    records = list(table.records.values())
    if query.formula:
        node = compile_formula(query.formula, lambda name: table.field(name) is not None)
        records = [r for r in records if matches(node, _context(base, table, r, now))]
    for key, descending in reversed(query.sort):
        target = table.field(key)
        if target is None:
            raise unknown_field(key)
        keys = {r.id: _sort_key(formula_value(base, table, target, r)) for r in records}
        records.sort(key=lambda r: keys[r.id], reverse=descending)
    return records[: query.max_records] if query.max_records else records


def _context(base: Base, table: Table, record: Record, now: datetime) -> EvalContext:
    def value_of(name: str) -> Value:
        target = table.field(name)
        return None if target is None else formula_value(base, table, target, record)

    def modified(names: list[str] | None) -> datetime:
        ids = None if names is None else [f.id for n in names if (f := table.field(n))]
        return record.last_modified(ids)

    return EvalContext(record.id, record.created, now, value_of, modified)


def _sort_key(value: Value) -> tuple[int, Any]:
    if value is None:
        return (0, 0)  # blanks first in ascending order
    if isinstance(value, bool | int | float | datetime):
        return (1, value)
    return (1, to_text(value).casefold())


def list_records(
    base: Base, table: Table, query: ListQuery, iterators: Iterators, origin: str, now: datetime
) -> dict[str, Any]:
    if query.view is not None and not any(query.view in (v.id, v.name) for v in table.views):
        raise AirtableError(422, "VIEW_NAME_NOT_FOUND", f"Could not find view {query.view!r}")
    only = None
    if query.fields is not None:
        only = set()
        for key in query.fields:
            target = table.field(key)
            if target is None:
                raise unknown_field(key)
            only.add(target.id)
    signature = query.signature()
    if query.offset:
        token, ids, start = iterators.resume(query.offset, table.id, signature)
    else:
        token, ids, start = None, [r.id for r in _matching(base, table, query, now)], 0
    page_ids = ids[start: start + query.page_size]
    rendered = []
    for record_id in page_ids:
        record = table.records.get(record_id)
        if record is None:
            continue  # deleted since the first page
        item = render_record(origin, base, table, record, by_field_id=query.by_field_id, only=only)
        if query.comment_count:
            item["commentCount"] = 0
        rendered.append(item)
    result: dict[str, Any] = {"records": rendered}
    end = start + len(page_ids)
    if end < len(ids):
        token = token or iterators.start(table.id, ids, signature)
        result["offset"] = f"{token}/{ids[end]}"
    return result
