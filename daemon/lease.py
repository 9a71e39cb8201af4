"""The Status table: one row per prong, its lease, and the operators' dashboard.

:class:`StatusBoard` owns every Status call. It reads all rows in ONE request (a cache the
prongs' pre-checks share), creates a missing row once, and writes through :meth:`update` and
:meth:`update_many` (the cached copy follows, so the status page shows what was written).

The lease itself belongs to the process, not the run (:mod:`daemon.leases`: the process's
leases and a run's gate, :class:`~daemon.leases.RunGate`; :mod:`daemon.ownership`: the protocol
and its proof).

Idle cost: the renewals of every held lease go out in one batched write every
:data:`HEARTBEAT_SECONDS` while polling (as seldom as the Status reads while push is healthy);
:mod:`daemon.cadence` accounts for every idle call in each push mode.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

import structlog

from cards.vocab import ProngState
from clients.ports import AirtablePort, Clock
from clients.records import StatusRow
from clients.status_commands import StatusWrite

log = structlog.get_logger(__name__)

#: How often held leases are renewed (one batched write) while polling, the idle heartbeat
#: operators see; the lease is sized to outlast it (:func:`daemon.ownership.lease_length`).
HEARTBEAT_SECONDS = 60.0


class StatusBoard:
    """Every Status row call goes through here (thread-safe; shared by all prong threads)."""

    def __init__(self, airtable: AirtablePort, prongs: Sequence[str], clock: Clock) -> None:
        self._airtable = airtable
        self._prongs = tuple(prongs)
        self._clock = clock
        self._rows: dict[str, StatusRow] = {}
        self._last_write: dict[str, float] = {}
        self._lock = threading.Lock()
        self._warned_duplicates: set[str] = set()

    @property
    def prongs(self) -> tuple[str, ...]:
        return self._prongs

    def refresh(self) -> dict[str, StatusRow]:
        """One read of all rows (plus a create for each missing prong, once ever)."""
        rows = self._airtable.status_rows()
        by_prong: dict[str, StatusRow] = {}
        for row in sorted(rows, key=lambda r: r.id):
            if row.prong in by_prong:
                if row.prong not in self._warned_duplicates:
                    self._warned_duplicates.add(row.prong)
                    log.warning("status.duplicate_row", prong=row.prong, ignored=row.id)
                continue
            by_prong[row.prong] = row
        for prong in self._prongs:
            if prong not in by_prong:
                by_prong[prong] = self._airtable.create_status_row(prong, ProngState.OFFLINE)
                log.info("status.row_created", prong=prong, record_id=by_prong[prong].id)
        with self._lock:
            self._rows = by_prong
        return dict(by_prong)

    def cached(self, prong: str) -> StatusRow | None:
        with self._lock:
            return self._rows.get(prong)

    def reread(self, prong: str) -> StatusRow:
        return self.refresh()[prong]

    def update(self, prong: str, record_id: str, write: StatusWrite) -> None:
        """Write, and apply the same write to the cached row (the status page shows it)."""
        self._airtable.update_status_row(record_id, write)
        self._cache_written(prong, record_id, write)

    def update_many(self, updates: Sequence[tuple[str, str, StatusWrite]]) -> None:
        """Up to 10 ``(prong, record id, write)`` in one request, then the cache."""
        self._airtable.update_status_rows([(record_id, write) for _, record_id, write in updates])
        for prong, record_id, write in updates:
            self._cache_written(prong, record_id, write)

    def _cache_written(self, prong: str, record_id: str, write: StatusWrite) -> None:
        with self._lock:
            self._last_write[prong] = self._clock.monotonic()
            row = self._rows.get(prong)
            if row is not None and row.id == record_id:
                self._rows[prong] = write.applied_to(row)

