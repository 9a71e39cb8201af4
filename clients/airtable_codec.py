"""Airtable cells <-> domain values, at the adapter boundary only.

Writing: ``Money`` and ``Decimal`` become JSON numbers (the only place a float exists), dates
``YYYY-MM-DD``, date-times ISO 8601 UTC with milliseconds, enums their option name, tuples of
record ids lists, ``None`` an empty cell. Reading: currency numbers go through
:meth:`Money.from_json_number` (the number's shortest repr, never binary noise); amounts typed by
people stay ``Decimal`` so a prong can answer "Invalid Amount"; empty cells are absent, as
Airtable omits them.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, TypeVar

import structlog

from cards.money import Money, MoneyError
from clients.airtable_columns import CellValue
from clients.errors import InvariantViolation, Permanent

log = structlog.get_logger()
E = TypeVar("E", bound=StrEnum)
Fields = Mapping[str, Any]
_NUMERIC = {"currency", "number", "percent"}


class CodecError(ValueError):
    """A value that cannot be written to its field."""


# --- writing ------------------------------------------------------------------------------------


def iso_datetime(value: datetime) -> str:
    if value.tzinfo is None:
        raise CodecError("date-times must be timezone-aware (UTC)")
    utc = value.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def _number(value: Decimal, field_type: str) -> int | float:
    if field_type == "number" and value == value.to_integral_value():
        return int(value)
    result = float(value)
    if Decimal(repr(result)) != value:  # numeric comparison: 12.5 == 12.50
        raise CodecError(f"{value} does not survive the trip through a JSON number")
    return result


def encode_value(field_type: str | None, value: CellValue, currency: str) -> Any:
    """One cell's JSON value for a field of ``field_type`` (None: not in the layout)."""
    if value is None:
        return _empty(field_type)
    if isinstance(value, Money):
        if value.currency != currency:
            raise CodecError(f"a {value.currency} amount cannot go into a {currency} base")
        return _number(value.amount, field_type or "currency")
    if isinstance(value, bool):
        return value
    if isinstance(value, Decimal):
        return _number(value, field_type or "number")
    if isinstance(value, int):
        return value
    if isinstance(value, datetime):
        return iso_datetime(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, StrEnum):
        return value.value
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, str):
        return value
    raise CodecError(f"cannot write a {type(value).__name__} to Airtable")


def _empty(field_type: str | None) -> Any:
    if field_type == "checkbox":
        return False
    if field_type in ("multipleRecordLinks", "multipleAttachments", "multipleSelects"):
        return []
    return None


def encode_changes(
    types: Mapping[str, str], changes: Mapping[str, CellValue], currency: str, *, table: str
) -> dict[str, Any]:
    """The ``fields`` of a create or PATCH; a value that cannot be written is Permanent."""
    try:
        return {name: encode_value(types.get(name), v, currency) for name, v in changes.items()}
    except (CodecError, MoneyError) as exc:
        raise Permanent("airtable", f"write {table}", str(exc), code="INVALID_VALUE") from None


# --- reading ------------------------------------------------------------------------------------


def text(fields: Fields, name: str) -> str | None:
    value = fields.get(name)
    if value is None:
        return None
    return value if isinstance(value, str) else str(value)


def flag(fields: Fields, name: str) -> bool:
    return fields.get(name) is True


def links(fields: Fields, name: str) -> tuple[str, ...]:
    value = fields.get(name)
    if not isinstance(value, list):
        return ()
    # Links are record ids; attachments are objects with an id.
    ids = [v if isinstance(v, str) else v.get("id") for v in value if isinstance(v, str | dict)]
    return tuple(i for i in ids if isinstance(i, str))


def decimal(fields: Fields, name: str) -> Decimal | None:
    """A number typed by a person, exactly as shown (no precision check: the prong decides)."""
    value = fields.get(name)
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(repr(value)) if value == value and abs(value) != float("inf") else None
    return None


def integer(fields: Fields, name: str) -> int | None:
    value = fields.get(name)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return int(value)


def money(fields: Fields, name: str, currency: str, *, record_id: str) -> Money | None:
    """An amount giftbridge wrote; one that is not exact money means the record is damaged."""
    value = fields.get(name)
    if value is None:
        return None
    try:
        return Money.from_json_number(value, currency)
    except MoneyError as exc:
        raise InvariantViolation(f"{record_id}.{name} is not a {currency} amount: {exc}") from None


def timestamp(fields: Fields, name: str) -> datetime | None:
    return parse_datetime(fields.get(name))


def parse_datetime(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        log.warning("unreadable date-time cell", service="airtable")
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def day(fields: Fields, name: str) -> date | None:
    value = fields.get(name)
    if not isinstance(value, str) or not value:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        log.warning("unreadable date cell", service="airtable", field=name)
        return None


def option(fields: Fields, name: str, kind: type[E]) -> E | None:
    """A select option as its enum; an option giftbridge does not know reads as empty."""
    value = fields.get(name)
    if not isinstance(value, str):
        return None
    try:
        return kind(value)
    except ValueError:
        log.warning("unknown select option", service="airtable", field=name)
        return None


def created_time(record: Mapping[str, Any]) -> datetime:
    parsed = parse_datetime(record.get("createdTime"))
    return parsed if parsed is not None else datetime.fromtimestamp(0, UTC)
