"""ISO 8601 parsing shared by cell validation and the formula evaluator."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, tzinfo

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_DATE_TIME = re.compile(
    r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:?\d{2})?"
)


def parse_date(text: str) -> date | None:
    """``YYYY-MM-DD`` only, or None."""
    if not _DATE.fullmatch(text):
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def parse_datetime(text: str, zone: tzinfo = UTC) -> datetime | None:
    """An ISO date or date-time; naive input is read in ``zone``; the result is aware, or None."""
    day = parse_date(text)
    if day is not None:
        return datetime(day.year, day.month, day.day, tzinfo=zone).astimezone(UTC)
    if not _DATE_TIME.fullmatch(text):
        return None
    try:
        moment = datetime.fromisoformat(text.replace(" ", "T", 1))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return moment.astimezone(UTC)
