"""Cell values on write: type checks, ``typecast`` conversions, and the stored form.

Strict where Airtable's behaviour is not documented: a value of the wrong JSON type is refused
(422 ``INVALID_VALUE_FOR_COLUMN``) unless ``typecast`` is set and a conversion is obvious.
E-mail, URL and phone fields accept any string (the real API does not check formats).
"""

from __future__ import annotations

import math
import mimetypes
from dataclasses import dataclass, field
from typing import Any

from sandbox.airtable.dates import parse_datetime
from sandbox.airtable.errors import AirtableError, invalid_value, unknown_field
from sandbox.airtable.field_options import CHOICE_COLORS, TEXT_TYPES, zone_of
from sandbox.airtable.store import Base, Field, Table, is_id, iso_millis, new_id

NUMERIC_TYPES = frozenset({"number", "currency", "percent"})
_TRUE_TEXT = frozenset({"true", "1", "yes", "checked", "x"})


@dataclass
class PreparedWrite:
    """Validated cells (field id -> stored value, None = clear) plus options to add."""

    cells: dict[str, Any] = field(default_factory=dict)
    new_choices: list[tuple[Field, str]] = field(default_factory=list)


def prepare_fields(base: Base, table: Table, fields: Any, *, typecast: bool) -> PreparedWrite:
    if not isinstance(fields, dict):
        raise AirtableError(422, "INVALID_RECORDS", "Each record needs a 'fields' object")
    prepared = PreparedWrite()
    for key, value in fields.items():
        target = table.field(key)
        if target is None:
            raise unknown_field(key)
        prepared.cells[target.id] = coerce(base, target, value, typecast, prepared)
    return prepared


def apply_new_choices(prepared: PreparedWrite) -> None:
    for target, name in prepared.new_choices:
        choices = (target.options or {}).setdefault("choices", [])
        if name not in target.choice_names():
            color = CHOICE_COLORS[len(choices) % len(CHOICE_COLORS)]
            choices.append({"id": new_id("sel"), "name": name, "color": color})


def coerce(base: Base, target: Field, value: Any, typecast: bool, prepared: PreparedWrite) -> Any:
    """The stored form of ``value`` for ``target``, or None when the write clears the cell."""
    if value is None:
        return None
    kind = target.type
    if kind in TEXT_TYPES:
        return _text(target, value, typecast)
    if kind in NUMERIC_TYPES:
        return _number(target, value, typecast)
    if kind == "checkbox":
        return _checkbox(target, value, typecast)
    if kind == "singleSelect":
        return _select(target, value, typecast, prepared)
    if kind == "multipleSelects":
        return _multi_select(target, value, typecast, prepared)
    if kind in ("date", "dateTime"):
        return _date(target, value)
    if kind == "multipleRecordLinks":
        return _links(base, target, value)
    if kind == "multipleAttachments":
        return _attachments(base, target, value)
    raise invalid_value(target.name, "the field is computed")


def _text(target: Field, value: Any, typecast: bool) -> str | None:
    if typecast and isinstance(value, bool | int | float):
        value = str(value).lower() if isinstance(value, bool) else _number_text(value)
    if not isinstance(value, str):
        raise invalid_value(target.name, "expected a string")
    return value or None


def _number_text(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _number(target: Field, value: Any, typecast: bool) -> int | float | None:
    if typecast and isinstance(value, str):
        cleaned = value.strip().replace(",", "").lstrip("$€£")
        if not cleaned:
            return None
        try:
            value = float(cleaned)
        except ValueError:
            raise invalid_value(target.name, "not a number") from None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise invalid_value(target.name, "expected a number")
    return int(value) if float(value).is_integer() else float(value)


def _checkbox(target: Field, value: Any, typecast: bool) -> bool | None:
    if typecast and isinstance(value, str):
        value = value.strip().lower() in _TRUE_TEXT
    if not isinstance(value, bool):
        raise invalid_value(target.name, "expected true or false")
    return True if value else None


def _option(target: Field, value: Any, typecast: bool, prepared: PreparedWrite) -> str:
    if not isinstance(value, str):
        raise invalid_value(target.name, "expected an option name")
    for choice in (target.options or {}).get("choices", []):
        if value in (choice["name"], choice["id"]):
            return str(choice["name"])
    if not typecast or not value:
        raise AirtableError(
            422, "INVALID_MULTIPLE_CHOICE_OPTIONS",
            f'Insufficient permissions to create new select option ""{value}""',
        )
    prepared.new_choices.append((target, value))
    return value


def _select(target: Field, value: Any, typecast: bool, prepared: PreparedWrite) -> str | None:
    if typecast and value == "":
        return None
    return _option(target, value, typecast, prepared)


def _multi_select(
    target: Field, value: Any, typecast: bool, prepared: PreparedWrite
) -> list[str] | None:
    if typecast and isinstance(value, str):
        value = [part.strip() for part in value.split(",") if part.strip()]
    if not isinstance(value, list):
        raise invalid_value(target.name, "expected a list of option names")
    names = [_option(target, item, typecast, prepared) for item in value]
    return list(dict.fromkeys(names)) or None


def _date(target: Field, value: Any) -> str | None:
    if not isinstance(value, str):
        raise invalid_value(target.name, "expected an ISO 8601 string")
    if not value:
        return None
    moment = parse_datetime(value, zone_of(target.options))
    if moment is None:
        raise invalid_value(target.name, f"cannot parse {value!r} as a date")
    if target.type == "date":
        # A date-time written to a date field keeps its calendar day, as Airtable does.
        return value[:10] if len(value) > 10 else moment.date().isoformat()
    return iso_millis(moment)


def _links(base: Base, target: Field, value: Any) -> list[str] | None:
    if not isinstance(value, list) or not all(is_id(item, "rec") for item in value):
        raise invalid_value(target.name, "Value is not an array of record IDs.")
    linked = base.table_by_id((target.options or {})["linkedTableId"])
    for record_id in value:
        if record_id not in linked.records:
            raise AirtableError(
                422, "ROW_DOES_NOT_EXIST",
                f"Record ID {record_id} does not exist in table {linked.name}",
            )
    return list(dict.fromkeys(value)) or None


def _attachments(base: Base, target: Field, value: Any) -> list[dict[str, Any]] | None:
    if not isinstance(value, list):
        raise invalid_value(target.name, "expected a list of attachment objects")
    stored = [_attachment(base, target, item) for item in value]
    return stored or None


def _attachment(base: Base, target: Field, item: Any) -> dict[str, Any]:
    if not isinstance(item, dict) or not item.keys() <= {"id", "url", "filename"}:
        raise invalid_value(target.name, "attachments are {url, filename?} or {id}")
    if "id" in item:
        kept = base.attachments.get(item["id"]) if isinstance(item["id"], str) else None
        if kept is None:
            raise invalid_value(target.name, f"unknown attachment {item['id']!r}")
        return {"id": kept.id, "filename": kept.filename, "size": len(kept.content),
                "type": kept.type}
    url, filename = item.get("url"), item.get("filename")
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        raise invalid_value(target.name, "an attachment needs an http(s) url")
    if filename is None:
        filename = url.rstrip("/").rsplit("/", 1)[-1] or "file"
    if not isinstance(filename, str):
        raise invalid_value(target.name, "filename must be a string")
    mime = mimetypes.guess_type(filename)[0] or "application/octet-stream"
    # The sandbox cannot fetch the URL (no network), so it records a reference with size 0.
    return {"id": new_id("att"), "filename": filename, "size": 0, "type": mime, "url": url}
