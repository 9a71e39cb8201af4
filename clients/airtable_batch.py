"""Batched PATCHes by record id: 10 records a request, and one bad record never spoils the rest.

Airtable applies a write request all or nothing: one record it refuses (422: a value a field
cannot take, a link to a deleted row; 404: a deleted record) refuses the whole request. So a
chunk refused that way is written again one record at a time, and only the records still
refused are reported, each with its own error. Transport failures (``Retryable``,
``AmbiguousOutcome``) and refusals of the request as such (401, 403, ...) raise as usual: a PATCH
by record id is safe to re-send whole.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import structlog

from clients.airtable_columns import CellValue, Changes, request_columns
from clients.airtable_errors import SERVICE
from clients.airtable_tables import AirtableTables
from clients.commands import RequestWrite
from clients.errors import Permanent

log = structlog.get_logger()
BATCH = 10  # records per write request (Airtable's limit)
RECORD_STATUSES = frozenset({404, 422})  # a refusal that may concern one record of the request
Update = tuple[str, Mapping[str, CellValue]]


def merge_updates(updates: Sequence[Update]) -> list[Update]:
    """One entry per record id, in first-seen order; later changes override earlier ones (a
    request may not name one record twice)."""
    merged: dict[str, dict[str, CellValue]] = {}
    for record_id, changes in updates:
        merged.setdefault(record_id, {}).update(changes)
    return list(merged.items())


def grouped_by_table(writes: Sequence[RequestWrite]) -> dict[str, list[tuple[str, Changes]]]:
    """Request writes as (record id, cells) per table, in the order given."""
    tables: dict[str, list[tuple[str, Changes]]] = {}
    for write in writes:
        table, record_id, cells = request_columns(write)
        tables.setdefault(table, []).append((record_id, cells))
    return tables


def update_in_tens(
    tables: AirtableTables, table: str, updates: Sequence[Update]
) -> dict[str, Permanent]:
    """PATCH every update; returns the records refused (every other one was written)."""
    refused: dict[str, Permanent] = {}
    writable: list[Update] = []
    for record_id, changes in merge_updates(updates):
        try:
            tables.encode(table, changes)  # a value we cannot even send is refused alone
        except Permanent as exc:
            refused[record_id] = exc
            continue
        writable.append((record_id, changes))
    for start in range(0, len(writable), BATCH):
        chunk = writable[start : start + BATCH]
        try:
            tables.update_batch(table, chunk)
        except Permanent as exc:
            if exc.status not in RECORD_STATUSES:
                raise
            if len(chunk) == 1:  # the refusal is that record's own
                refused[chunk[0][0]] = exc
            else:
                refused |= _one_by_one(tables, table, chunk, exc)
    return refused


def _one_by_one(
    tables: AirtableTables, table: str, chunk: Sequence[Update], cause: Permanent
) -> dict[str, Permanent]:
    log.warning(
        "batch write refused; writing one record at a time",
        service=SERVICE,
        operation=f"update {table}",
        records=len(chunk),
        error=cause.code,
    )
    refused: dict[str, Permanent] = {}
    for record_id, changes in chunk:
        try:
            tables.update(table, record_id, changes)
        except Permanent as exc:
            if exc.status not in RECORD_STATUSES:
                raise
            log.warning("record refused", service=SERVICE, record=record_id, error=exc.code)
            refused[record_id] = exc
    return refused
