"""Formula values and Airtable's coercions between them.

A value is None (a blank cell or ``BLANK()``), a bool, a float, a str, an aware UTC datetime,
or a list (a linked-record, multiple-select or attachment cell). The sandbox's choices where
Airtable documents nothing:

- blank equals ``''``, ``BLANK()``, ``0`` and ``FALSE()``: it turns into whatever the other
  side is (``''`` beside text, ``0`` beside a number or bool);
- an unchecked checkbox is blank, a checked one is ``TRUE()`` (1 in arithmetic);
- a list compares and concatenates as its items joined with ``", "``;
- a date compares with a string by parsing the string as ISO 8601;
- text never silently becomes a number in arithmetic (use ``VALUE()``): that is an error.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

from sandbox.airtable.dates import parse_datetime
from sandbox.airtable.store import iso_millis

Value = Any  # None | bool | float | str | datetime | list[Value]


class FormulaRuntimeError(Exception):
    """Airtable's ``#ERROR!``: the record does not match the filter."""


def truthy(value: Value) -> bool:
    """False for blank, FALSE(), 0, NaN, '' and []; everything else is true."""
    if value is None or value is False:
        return False
    if isinstance(value, float | int) and not isinstance(value, bool):
        return value != 0 and not math.isnan(value)
    if isinstance(value, str | list):
        return len(value) > 0
    return True


def to_text(value: Value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float | int):
        return format_number(float(value))
    if isinstance(value, datetime):
        return iso_millis(value)
    if isinstance(value, list):
        return ", ".join(to_text(item) for item in value)
    return str(value)


def format_number(number: float) -> str:
    if number.is_integer() and abs(number) < 1e16:
        return str(int(number))
    return repr(number)


def to_number(value: Value) -> float:
    if value is None or value == "":
        return 0.0
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, float | int):
        return float(value)
    if isinstance(value, list) and len(value) == 1:
        return to_number(value[0])
    raise FormulaRuntimeError(f"{to_text(value)!r} is not a number")


def to_datetime(value: Value) -> datetime:
    if isinstance(value, datetime):
        return value
    if isinstance(value, list) and len(value) == 1:
        return to_datetime(value[0])
    if isinstance(value, str):
        moment = parse_datetime(value.strip())
        if moment is not None:
            return moment
    raise FormulaRuntimeError(f"{to_text(value)!r} is not a date")


def _is_numeric(value: Value) -> bool:
    return isinstance(value, bool | float | int)


def _normalise_pair(left: Value, right: Value) -> tuple[Value, Value]:
    """Resolve blanks and lists so both sides have comparable kinds."""
    if isinstance(left, list):
        left = to_text(left)
    if isinstance(right, list):
        right = to_text(right)
    if left is None and right is None:
        return "", ""
    if left is None:
        left = 0.0 if _is_numeric(right) else "" if isinstance(right, str) else None
    if right is None:
        right = 0.0 if _is_numeric(left) else "" if isinstance(left, str) else None
    return left, right


def compare(op: str, left: Value, right: Value) -> bool:
    left, right = _normalise_pair(left, right)
    if left is None or right is None:  # a blank beside a date: only "!=" holds
        return op == "!="
    if _is_numeric(left) and _is_numeric(right):
        return _ordered(op, to_number(left), to_number(right))
    if isinstance(left, datetime) or isinstance(right, datetime):
        try:
            return _ordered(op, to_datetime(left), to_datetime(right))
        except FormulaRuntimeError:
            return op == "!="
    if _is_numeric(left) or _is_numeric(right):
        if op in ("=", "!="):
            return (to_text(left) == to_text(right)) == (op == "=")
        return _ordered(op, to_number(left), to_number(right))
    return _ordered(op, to_text(left), to_text(right))


def _ordered(op: str, left: Any, right: Any) -> bool:
    if op == "=":
        return bool(left == right)
    if op == "!=":
        return bool(left != right)
    if op == "<":
        return bool(left < right)
    if op == "<=":
        return bool(left <= right)
    if op == ">":
        return bool(left > right)
    return bool(left >= right)


def arithmetic(op: str, left: Value, right: Value) -> float:
    a, b = to_number(left), to_number(right)
    if op == "+":
        return a + b
    if op == "-":
        return a - b
    if op == "*":
        return a * b
    if b == 0:
        raise FormulaRuntimeError("division by zero")
    return a / b


def utc_today(now: datetime) -> datetime:
    return datetime(now.year, now.month, now.day, tzinfo=UTC)
