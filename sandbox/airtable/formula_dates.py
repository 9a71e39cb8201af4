"""Date arithmetic and moment.js-style formats for the formula functions (all in UTC)."""

from __future__ import annotations

import calendar
import re
from datetime import UTC, datetime, timedelta

from sandbox.airtable.formula_values import FormulaRuntimeError

_FIXED_UNITS = {
    "milliseconds": timedelta(milliseconds=1), "seconds": timedelta(seconds=1),
    "minutes": timedelta(minutes=1), "hours": timedelta(hours=1), "days": timedelta(days=1),
    "weeks": timedelta(weeks=1),
}
_MONTH_UNITS = {"months": 1, "quarters": 3, "years": 12}
_SHORT_UNITS = {
    "ms": "milliseconds", "s": "seconds", "m": "minutes", "h": "hours", "d": "days",
    "w": "weeks", "M": "months", "Q": "quarters", "y": "years",
}
_ALL_UNITS = set(_FIXED_UNITS) | set(_MONTH_UNITS)

# token -> (regex for parsing, strftime-like renderer)
_TOKENS = re.compile(r"\[[^\]]*\]|YYYY|SSS|MM|DD|HH|mm|ss|M|D|H|X|x|Z|.", re.DOTALL)
_PARSE_PATTERNS = {
    "YYYY": r"(?P<year>\d{4})", "MM": r"(?P<month>\d{2})", "M": r"(?P<month>\d{1,2})",
    "DD": r"(?P<day>\d{2})", "D": r"(?P<day>\d{1,2})", "HH": r"(?P<hour>\d{2})",
    "H": r"(?P<hour>\d{1,2})", "mm": r"(?P<minute>\d{2})", "ss": r"(?P<second>\d{2})",
    "SSS": r"(?P<millis>\d{3})", "X": r"(?P<unix>-?\d+)", "x": r"(?P<unix_ms>-?\d+)",
    "Z": r"(?P<zone>Z|[+-]\d{2}:\d{2})",
}


def unit_name(raw: str) -> str:
    """Airtable unit specifiers: full names, singular or plural, or the short letters."""
    if raw in _SHORT_UNITS:
        return _SHORT_UNITS[raw]
    name = raw.strip().lower()
    name = name if name.endswith("s") else name + "s"
    if name not in _ALL_UNITS:
        raise FormulaRuntimeError(f"unknown unit {raw!r}")
    return name


def add_months(moment: datetime, months: int) -> datetime:
    index = moment.month - 1 + months
    year, month = moment.year + index // 12, index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def date_add(moment: datetime, count: float, unit: str) -> datetime:
    name = unit_name(unit)
    if name in _MONTH_UNITS:
        return add_months(moment, int(count) * _MONTH_UNITS[name])
    return moment + _FIXED_UNITS[name] * count


def date_diff(first: datetime, second: datetime, unit: str) -> float:
    """``first - second`` in whole units, truncated toward zero."""
    name = unit_name(unit)
    if name in _MONTH_UNITS:
        months = (first.year - second.year) * 12 + first.month - second.month
        if months > 0 and add_months(second, months) > first:
            months -= 1
        elif months < 0 and add_months(second, months) < first:
            months += 1
        return float(int(months / _MONTH_UNITS[name]))
    return float(int((first - second) / _FIXED_UNITS[name]))


def start_of(moment: datetime, unit: str) -> datetime:
    name = unit_name(unit)
    if name == "years":
        return moment.replace(month=1, day=1, hour=0, minute=0, second=0, microsecond=0)
    if name == "quarters":
        month = (moment.month - 1) // 3 * 3 + 1
        return moment.replace(month=month, day=1, hour=0, minute=0, second=0, microsecond=0)
    if name == "months":
        return moment.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    if name == "weeks":  # weeks start on Sunday, as in Airtable's default locale
        day = moment.replace(hour=0, minute=0, second=0, microsecond=0)
        return day - timedelta(days=(day.weekday() + 1) % 7)
    step = _FIXED_UNITS[name]
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    return epoch + step * ((moment - epoch) // step)


def format_datetime(moment: datetime, pattern: str) -> str:
    utc = moment.astimezone(UTC)
    rendered = {
        "YYYY": f"{utc.year:04d}", "MM": f"{utc.month:02d}", "M": str(utc.month),
        "DD": f"{utc.day:02d}", "D": str(utc.day), "HH": f"{utc.hour:02d}", "H": str(utc.hour),
        "mm": f"{utc.minute:02d}", "ss": f"{utc.second:02d}",
        "SSS": f"{utc.microsecond // 1000:03d}", "X": str(int(utc.timestamp())),
        "x": str(int(utc.timestamp() * 1000)), "Z": "+00:00",
    }
    out = []
    for token in _TOKENS.findall(pattern):
        if token.startswith("[") and token.endswith("]"):
            out.append(token[1:-1])
        else:
            out.append(rendered.get(token, token))
    return "".join(out)


def parse_with_format(text: str, pattern: str) -> datetime:
    regex = []
    for token in _TOKENS.findall(pattern):
        if token.startswith("[") and token.endswith("]"):
            regex.append(re.escape(token[1:-1]))
        else:
            regex.append(_PARSE_PATTERNS.get(token, re.escape(token)))
    try:
        match = re.fullmatch("".join(regex), text.strip())
    except re.error:  # a token used twice makes a duplicate group name
        raise FormulaRuntimeError(f"unsupported format {pattern!r}") from None
    if match is None:
        raise FormulaRuntimeError(f"{text!r} does not match {pattern!r}")
    parts = {k: v for k, v in match.groupdict().items() if v is not None}
    if "unix" in parts:
        return datetime.fromtimestamp(int(parts["unix"]), UTC)
    if "unix_ms" in parts:
        return datetime.fromtimestamp(int(parts["unix_ms"]) / 1000, UTC)
    try:
        moment = datetime(
            int(parts.get("year", 1970)), int(parts.get("month", 1)), int(parts.get("day", 1)),
            int(parts.get("hour", 0)), int(parts.get("minute", 0)), int(parts.get("second", 0)),
            int(parts.get("millis", 0)) * 1000, tzinfo=UTC,
        )
    except ValueError:
        raise FormulaRuntimeError(f"{text!r} is not a valid date") from None
    zone = parts.get("zone", "Z")
    if zone != "Z":
        sign = 1 if zone[0] == "+" else -1
        moment -= sign * timedelta(hours=int(zone[1:3]), minutes=int(zone[4:6]))
    return moment
