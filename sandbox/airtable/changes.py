"""What one write transaction changed, for the webhooks' payloads.

Airtable describes every transaction on a base to each webhook that watches it: the records it
created, the cells it changed (including the reciprocal side of a link), the records it
destroyed. The record writers call :func:`note_created`, :func:`note_changed` and
:func:`note_destroyed` as they go; those calls do nothing unless a :func:`journal` is open (a
request handler or a Python hook opens one per transaction), so the writers need no extra
arguments and a failed, all-or-nothing request leaves no trace.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field


@dataclass
class Journal:
    """Changes by table id; insertion order is the order they happened in."""

    created: dict[str, dict[str, None]] = field(default_factory=dict)
    changed: dict[str, dict[str, set[str]]] = field(default_factory=dict)
    destroyed: dict[str, dict[str, None]] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not (self.created or self.changed or self.destroyed)

    def table_ids(self) -> list[str]:
        seen: dict[str, None] = {}
        for part in (self.created, self.changed, self.destroyed):
            seen.update(dict.fromkeys(part))
        return list(seen)


_CURRENT: contextvars.ContextVar[Journal | None] = contextvars.ContextVar(
    "sandbox_airtable_journal", default=None
)


@contextmanager
def journal() -> Iterator[Journal]:
    """Collect the changes made inside the block (nested blocks share the outer journal)."""
    outer = _CURRENT.get()
    if outer is not None:
        yield outer
        return
    current = Journal()
    token = _CURRENT.set(current)
    try:
        yield current
    finally:
        _CURRENT.reset(token)


def note_created(table_id: str, record_id: str) -> None:
    current = _CURRENT.get()
    if current is not None:
        current.created.setdefault(table_id, {})[record_id] = None


def note_changed(table_id: str, record_id: str, field_id: str) -> None:
    current = _CURRENT.get()
    if current is None or record_id in current.created.get(table_id, {}):
        return  # a record created in this transaction is reported whole, as created
    current.changed.setdefault(table_id, {}).setdefault(record_id, set()).add(field_id)


def note_destroyed(table_id: str, record_id: str) -> None:
    current = _CURRENT.get()
    if current is None:
        return
    current.destroyed.setdefault(table_id, {})[record_id] = None
    current.created.get(table_id, {}).pop(record_id, None)
    current.changed.get(table_id, {}).pop(record_id, None)
