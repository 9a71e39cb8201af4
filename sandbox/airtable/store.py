"""In-memory state of the sandbox's Airtable bases: tables, fields, views, records, files.

Cells are keyed by field id (so a rename keeps data) and hold only non-empty values, in a
JSON-compatible form: strings, numbers, ``True``, lists of record ids or select names,
``"YYYY-MM-DD"`` dates, ``"…T…Z"`` UTC date-times, and attachment dicts without URLs (the URL
is rendered per request, from the host the client used).
"""

from __future__ import annotations

import secrets
import string
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

_ID_ALPHABET = string.ascii_letters + string.digits

#: Field types whose cells hold a list.
LIST_TYPES = frozenset({"multipleSelects", "multipleRecordLinks", "multipleAttachments"})


def new_id(prefix: str) -> str:
    """An Airtable-style id: a 3-letter prefix plus 14 letters and digits."""
    return prefix + "".join(secrets.choice(_ID_ALPHABET) for _ in range(14))


def is_id(value: object, prefix: str) -> bool:
    return (
        isinstance(value, str) and len(value) == 17 and value.startswith(prefix)
        and all(c in _ID_ALPHABET for c in value[3:])
    )


def utc_now() -> datetime:
    return datetime.now(UTC)


def iso_millis(moment: datetime) -> str:
    """Airtable's timestamp form: ``2024-01-01T12:00:00.000Z``."""
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


@dataclass
class Field:
    id: str
    name: str
    type: str
    options: dict[str, Any] | None = None
    description: str | None = None

    def choice_names(self) -> list[str]:
        return [c["name"] for c in (self.options or {}).get("choices", [])]


@dataclass
class View:
    id: str
    name: str
    type: str = "grid"


@dataclass
class Record:
    id: str
    created: datetime
    cells: dict[str, Any] = field(default_factory=dict)
    #: When each field (by id) last changed; LAST_MODIFIED_TIME() reads it.
    modified: dict[str, datetime] = field(default_factory=dict)

    def last_modified(self, field_ids: list[str] | None = None) -> datetime:
        times = [t for f, t in self.modified.items() if field_ids is None or f in field_ids]
        return max(times, default=self.created)


@dataclass
class Table:
    id: str
    name: str
    fields: list[Field]
    views: list[View]
    description: str | None = None
    records: dict[str, Record] = field(default_factory=dict)

    @property
    def primary(self) -> Field:
        return self.fields[0]

    def field(self, key: str) -> Field | None:
        """A field by id or (exact) name."""
        for item in self.fields:
            if key in (item.id, item.name):
                return item
        return None

    def field_by_id(self, field_id: str) -> Field:
        for item in self.fields:
            if item.id == field_id:
                return item
        raise KeyError(field_id)

    def has_field_name(self, name: str) -> bool:
        # Airtable treats field names as unique regardless of case.
        return any(f.name.casefold() == name.casefold() for f in self.fields)


@dataclass
class Attachment:
    id: str
    filename: str
    type: str
    content: bytes


@dataclass
class Base:
    id: str
    name: str
    tables: list[Table] = field(default_factory=list)
    attachments: dict[str, Attachment] = field(default_factory=dict)

    def table(self, key: str) -> Table | None:
        """A table by id or name (names match exactly, as in the URL)."""
        for item in self.tables:
            if key in (item.id, item.name):
                return item
        return None

    def table_by_id(self, table_id: str) -> Table:
        table = self.table(table_id)
        if table is None:
            raise KeyError(table_id)
        return table

    def locate(self, record_id: str) -> tuple[Table, Record] | None:
        for table in self.tables:
            record = table.records.get(record_id)
            if record is not None:
                return table, record
        return None

    def links_into(self, table_id: str) -> list[tuple[Table, Field]]:
        """Every link field in the base that points at ``table_id``."""
        return [
            (t, f) for t in self.tables for f in t.fields
            if f.type == "multipleRecordLinks"
            and (f.options or {}).get("linkedTableId") == table_id
        ]

    def clear_records(self) -> None:
        for table in self.tables:
            table.records.clear()
        self.attachments.clear()
