"""The formula functions the sandbox supports, with their arities.

Arguments arrive as thunks so that ``IF`` and ``ISERROR`` evaluate lazily, and
``LAST_MODIFIED_TIME`` can see the field references themselves. A function that is not listed
here makes the whole formula a 422, never a silent match.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Protocol

from sandbox.airtable import formula_dates as dates
from sandbox.airtable.formula import FieldRef, Node
from sandbox.airtable.formula_values import (
    FormulaRuntimeError,
    Value,
    to_datetime,
    to_number,
    to_text,
    truthy,
    utc_today,
)


class Context(Protocol):
    record_id: str
    created: datetime
    now: datetime

    def last_modified(self, field_names: list[str] | None) -> datetime: ...


@dataclass(frozen=True, slots=True)
class Arg:
    node: Node
    value: Callable[[], Value]


Impl = Callable[[Context, list[Arg]], Value]


@dataclass(frozen=True, slots=True)
class Function:
    min_args: int
    max_args: int | None
    impl: Impl


def _text(arg: Arg) -> str:
    return to_text(arg.value())


def _opt(args: list[Arg], index: int, default: Value) -> Value:
    return args[index].value() if len(args) > index else default


def _find(args: list[Arg], *, blank_if_missing: bool) -> Value:
    needle, haystack = _text(args[0]), _text(args[1])
    start = max(int(to_number(_opt(args, 2, 1.0))), 1)
    position = haystack.find(needle, start - 1) + 1
    if position == 0 and blank_if_missing:
        return None
    return float(position)


def _if(ctx: Context, args: list[Arg]) -> Value:
    return args[1].value() if truthy(args[0].value()) else _opt(args, 2, None)


def _iserror(ctx: Context, args: list[Arg]) -> Value:
    try:
        args[0].value()
    except FormulaRuntimeError:
        return True
    return False


def _last_modified(ctx: Context, args: list[Arg]) -> Value:
    names = [a.node.name for a in args if isinstance(a.node, FieldRef)]
    return ctx.last_modified(names or None)


def _is_same(ctx: Context, args: list[Arg]) -> Value:
    first, second = to_datetime(args[0].value()), to_datetime(args[1].value())
    if len(args) < 3:
        return first == second
    unit = _text(args[2])
    return dates.start_of(first, unit) == dates.start_of(second, unit)


def _datetime_parse(ctx: Context, args: list[Arg]) -> Value:
    value = args[0].value()
    if len(args) < 2 or isinstance(value, datetime):
        return to_datetime(value)
    return dates.parse_with_format(to_text(value), _text(args[1]))


def _datetime_format(ctx: Context, args: list[Arg]) -> Value:
    moment = to_datetime(args[0].value())
    if len(args) < 2:
        return to_text(moment)
    return dates.format_datetime(moment, _text(args[1]))


def _value(ctx: Context, args: list[Arg]) -> Value:
    raw = args[0].value()
    if isinstance(raw, bool | int | float) or raw is None:
        return to_number(raw)
    text = to_text(raw).strip().replace(",", "").replace(" ", "").lstrip("$€£")
    scale = 1.0
    if text.endswith("%"):
        text, scale = text[:-1], 0.01
    try:
        number = float(text)
    except ValueError:
        raise FormulaRuntimeError(f"VALUE cannot read {to_text(raw)!r}") from None
    if not math.isfinite(number):
        raise FormulaRuntimeError("VALUE needs a finite number")
    return number * scale


def _round(ctx: Context, args: list[Arg]) -> Value:
    places = int(to_number(args[1].value()))
    exponent = Decimal(1).scaleb(-places)
    rounded = Decimal(repr(to_number(args[0].value()))).quantize(exponent, ROUND_HALF_UP)
    return float(rounded)


def _arrayjoin(ctx: Context, args: list[Arg]) -> Value:
    items, separator = args[0].value(), to_text(_opt(args, 1, ", "))
    if isinstance(items, list):
        return separator.join(to_text(item) for item in items)
    return to_text(items)


def _count(arg: Arg) -> int:
    return max(int(to_number(arg.value())), 0)


def _right(ctx: Context, args: list[Arg]) -> Value:
    text, count = _text(args[0]), _count(args[1])
    return text[len(text) - count:] if count else ""


def _mid(ctx: Context, args: list[Arg]) -> Value:
    start = max(int(to_number(args[1].value())) - 1, 0)
    return _text(args[0])[start:start + _count(args[2])]


def _substitute(ctx: Context, args: list[Arg]) -> Value:
    text, old = _text(args[0]), _text(args[1])
    return text.replace(old, _text(args[2])) if old else text


def _error(ctx: Context, args: list[Arg]) -> Value:
    raise FormulaRuntimeError("ERROR()")


def _fixed(value: Callable[[Context], Value]) -> Function:
    return Function(0, 0, lambda ctx, args: value(ctx))


def _unary(convert: Callable[[Value], Value]) -> Function:
    return Function(1, 1, lambda ctx, args: convert(args[0].value()))


FUNCTIONS: dict[str, Function] = {
    "TRUE": _fixed(lambda ctx: True),
    "FALSE": _fixed(lambda ctx: False),
    "BLANK": _fixed(lambda ctx: None),
    "NOW": _fixed(lambda ctx: ctx.now),
    "TODAY": _fixed(lambda ctx: utc_today(ctx.now)),
    "RECORD_ID": _fixed(lambda ctx: ctx.record_id),
    "CREATED_TIME": _fixed(lambda ctx: ctx.created),
    "ERROR": Function(0, 0, _error),
    "LAST_MODIFIED_TIME": Function(0, None, _last_modified),
    "AND": Function(1, None, lambda ctx, args: all([truthy(a.value()) for a in args])),
    "OR": Function(1, None, lambda ctx, args: any([truthy(a.value()) for a in args])),
    "XOR": Function(1, None, lambda ctx, args: sum(truthy(a.value()) for a in args) % 2 == 1),
    "NOT": _unary(lambda v: not truthy(v)),
    "IF": Function(2, 3, _if),
    "ISERROR": Function(1, 1, _iserror),
    "LOWER": _unary(lambda v: to_text(v).lower()),
    "UPPER": _unary(lambda v: to_text(v).upper()),
    "TRIM": _unary(lambda v: to_text(v).strip()),
    "LEN": _unary(lambda v: float(len(to_text(v)))),
    "T": _unary(lambda v: v if isinstance(v, str) else ""),
    "FIND": Function(2, 3, lambda ctx, args: _find(args, blank_if_missing=False)),
    "SEARCH": Function(2, 3, lambda ctx, args: _find(args, blank_if_missing=True)),
    "LEFT": Function(2, 2, lambda ctx, a: _text(a[0])[: _count(a[1])]),
    "RIGHT": Function(2, 2, _right),
    "MID": Function(3, 3, _mid),
    "SUBSTITUTE": Function(3, 3, _substitute),
    "CONCATENATE": Function(1, None, lambda ctx, args: "".join(_text(a) for a in args)),
    "ARRAYJOIN": Function(1, 2, _arrayjoin),
    "VALUE": Function(1, 1, _value),
    "ABS": _unary(lambda v: abs(to_number(v))),
    "INT": _unary(lambda v: float(math.floor(to_number(v)))),
    "ROUND": Function(2, 2, _round),
    "IS_BEFORE": Function(2, 2, lambda ctx, a: to_datetime(a[0].value())
                          < to_datetime(a[1].value())),
    "IS_AFTER": Function(2, 2, lambda ctx, a: to_datetime(a[0].value())
                         > to_datetime(a[1].value())),
    "IS_SAME": Function(2, 3, _is_same),
    "DATEADD": Function(3, 3, lambda ctx, a: dates.date_add(
        to_datetime(a[0].value()), to_number(a[1].value()), _text(a[2]))),
    "DATETIME_DIFF": Function(2, 3, lambda ctx, a: dates.date_diff(
        to_datetime(a[0].value()), to_datetime(a[1].value()), to_text(_opt(a, 2, "seconds")))),
    "DATETIME_PARSE": Function(1, 3, _datetime_parse),
    "DATETIME_FORMAT": Function(1, 2, _datetime_format),
    "DATESTR": _unary(lambda v: to_datetime(v).date().isoformat()),
    "YEAR": _unary(lambda v: float(to_datetime(v).year)),
    "MONTH": _unary(lambda v: float(to_datetime(v).month)),
    "DAY": _unary(lambda v: float(to_datetime(v).day)),
}
