"""Every ``filterByFormula`` giftbridge sends, built ONLY with ``pyairtable.formulas``.

Values are quoted by the library (``'`` and ``\\`` escaped), field names come from
:mod:`config.layout`; no formula is ever assembled from text by hand, so a hostile value such as
``x' OR 1=1 OR '`` is matched literally.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from pyairtable.formulas import AND, EQ, FIND, GTE, LOWER, LTE, NE, OR, Field, Formula

from cards.vocab import RequestStatus

#: OR() terms per request: keeps a formula well under Airtable's 16,000-character URL limit.
MAX_TERMS = 40


def equals(field: str, value: str) -> Formula:
    return EQ(Field(field), value)


def not_equal(field: str, value: str) -> Formula:
    """``{field}`` is not ``value`` (an empty cell is not)."""
    return NE(Field(field), value)


def pending(status_field: str) -> Formula:
    """A queue's unfinished records: Status blank (new) or Processing (resume)."""
    return OR(EQ(Field(status_field), ""), EQ(Field(status_field), RequestStatus.PROCESSING.value))


def any_of(field: str, values: Sequence[str], max_terms: int = MAX_TERMS) -> Formula:
    """``{field}`` equal to one of ``values`` (at most ``max_terms`` of them: a caller that
    allows more keeps the values short, and pyairtable sends a long formula as a POST)."""
    if not values:
        raise ValueError("any_of needs at least one value")
    if len(values) > max_terms:
        raise ValueError(f"at most {max_terms} values per formula")
    terms = [EQ(Field(field), v) for v in values]
    return terms[0] if len(terms) == 1 else OR(*terms)


def containing(text: str, fields: Sequence[str]) -> Formula:
    """Any of ``fields`` contains ``text``, ignoring case (FIND on LOWER of both)."""
    if not text or not fields:
        raise ValueError("containing needs text and at least one field")
    terms = [FIND(text.lower(), LOWER(Field(f))) for f in fields]
    return terms[0] if len(terms) == 1 else OR(*terms)


def at_or_after(field: str, since: datetime) -> Formula:
    """``{field}`` set and not before ``since`` (an aware datetime)."""
    return AND(Field(field), GTE(Field(field), since))


def due_by(status_field: str, status: str, date_field: str, last_day: date) -> Formula:
    """Rows in ``status`` whose ``date_field`` is set and on or before ``last_day``."""
    return AND(EQ(Field(status_field), status), Field(date_field), LTE(Field(date_field), last_day))


def chunks(values: Sequence[str], size: int = MAX_TERMS) -> list[list[str]]:
    unique = list(dict.fromkeys(values))
    return [unique[i : i + size] for i in range(0, len(unique), size)]


#: Characters of values per formula: with quoting and ``{Field}=`` per term, and URL-encoding,
#: the GET stays a few kilobytes (pyairtable switches to POST only past 16,000).
MAX_VALUE_CHARS = 3000


def bounded_chunks(
    values: Sequence[str], terms: int = MAX_TERMS, chars: int = MAX_VALUE_CHARS
) -> list[list[str]]:
    """Unique non-empty ``values`` in chunks of at most ``terms`` values and ``chars`` characters
    (a single longer value goes alone). Empty strings are dropped: ``{field}=''`` would match
    every blank row."""
    result: list[list[str]] = []
    chunk: list[str] = []
    size = 0
    for value in dict.fromkeys(v for v in values if v):
        if chunk and (len(chunk) == terms or size + len(value) > chars):
            result.append(chunk)
            chunk, size = [], 0
        chunk.append(value)
        size += len(value)
    if chunk:
        result.append(chunk)
    return result
