"""The Status table: one row per prong, a lease per run, and the operators' dashboard.

:class:`StatusBoard` owns every Status call. It reads all rows in ONE request per tick (a cache
the prongs' pre-checks share), creates a missing row once, and writes an idle heartbeat
(``Heartbeat At``) at most once a minute per prong so operators can see the daemon is alive.

:class:`Lease` implements :class:`prongs.report.Gate` for one run:

- ``claim()`` (before the run's first effect) re-reads the rows; skips when State is Paused or
  another owner's lease is live; takes over a stale lease with a log line; writes Executing, Owner,
  Lease Expires At, Heartbeat At and Last Started At.
- ``heartbeat()`` (between records) renews at most once a minute: re-read, and if an operator set
  Paused or someone else took the lease meanwhile, stop the run at its next recovery point.
- ``release()`` runs in every case, also after an exception: re-read; leave a Paused set meanwhile
  as it is (State untouched); else Offline; plus the run's figures. A run that never claimed
  writes nothing; a lease lost to another owner is not written over.

Airtable cannot make this atomic (no compare-and-set): the lock file stops a second local process
and the exactly-once recipe, not the lease, keeps the money right.

Idle cost: the idle heartbeats of every prong go out in one batched write, so with push off
each tick costs the queue polls + 1 Status read, plus one heartbeat request a minute.
:mod:`daemon.cadence` accounts for every idle call in each push mode (the expiry and audit
prongs make no call until they are due).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

import structlog

from cards.vocab import ProngState
from clients.ports import AirtablePort, Clock
from clients.records import StatusRow
from clients.status_commands import (
    ClaimLease,
    ReleaseLease,
    RenewLease,
    StatusHeartbeat,
    StatusWrite,
)
from daemon.logging import mask_codes
from prongs.report import RunReport

log = structlog.get_logger(__name__)

HEARTBEAT_SECONDS = 60.0
LAST_ERROR_MAX = 1000


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

    def write_idle_heartbeats(
        self, busy: Iterable[str], owner: str, every: float = HEARTBEAT_SECONDS
    ) -> int:
        """Heartbeat At on each row we did not write for ``every`` seconds, all in one request
        (up to 10 rows); returns the rows written.

        Skips prongs with a run in flight (their lease heartbeats) and rows leased live by
        another owner (their heartbeat is theirs to write). Only Heartbeat At is written, so
        an operator's concurrent Paused is never overwritten."""
        now, mono, busy = self._clock.now(), self._clock.monotonic(), set(busy)
        due = []
        with self._lock:
            for prong in self._prongs:
                row = self._rows.get(prong)
                last = self._last_write.get(prong)
                if row is None or prong in busy:
                    continue
                if last is not None and mono - last < every:
                    continue
                if _live_elsewhere(row, owner, now):
                    continue
                due.append((prong, row.id))
        for start in range(0, len(due), 10):
            self.update_many([(p, r, StatusHeartbeat(now)) for p, r in due[start : start + 10]])
        return len(due)


def _live_elsewhere(row: StatusRow, owner: str, now: datetime) -> bool:
    return (
        row.state is ProngState.EXECUTING
        and row.owner is not None
        and row.owner != owner
        and row.lease_expires_at is not None
        and row.lease_expires_at > now
    )


class Lease:
    """The Gate of one run of one prong."""

    def __init__(
        self,
        board: StatusBoard,
        prong: str,
        owner: str,
        clock: Clock,
        lease_seconds: float,
        stop: threading.Event,
    ) -> None:
        self._board = board
        self._prong = prong
        self._owner = owner
        self._clock = clock
        self._lease = timedelta(seconds=lease_seconds)
        self._stop = stop
        self._record_id: str | None = None
        self._last_write = 0.0
        self.skip_reason: str | None = None
        self.lost: str | None = None  # why the run was told to stop early

    @property
    def claimed(self) -> bool:
        return self._record_id is not None

    def claim(self) -> bool:
        if self._record_id is not None:
            return True
        if self.skip_reason is not None:
            return False
        if self._stop.is_set():
            self.skip_reason = "stopping"
            return False
        row = self._board.reread(self._prong)
        now = self._clock.now()
        if row.state is ProngState.PAUSED:
            self.skip_reason = "Paused"
            return False
        if _live_elsewhere(row, self._owner, now):
            until = row.lease_expires_at.isoformat() if row.lease_expires_at else "?"
            self.skip_reason = f"lease held by {row.owner} until {until}"
            return False
        if row.state is ProngState.EXECUTING and row.owner not in (None, self._owner):
            log.warning(
                "lease.taken_over",
                prong=self._prong,
                previous_owner=row.owner,
                expired_at=row.lease_expires_at.isoformat() if row.lease_expires_at else None,
            )
        self._board.update(self._prong, row.id, ClaimLease(self._owner, now + self._lease, now))
        self._record_id = row.id
        self._last_write = self._clock.monotonic()
        log.info("lease.claimed", prong=self._prong, owner=self._owner)
        return True

    def heartbeat(self) -> None:
        if self._record_id is None:
            return
        if self._clock.monotonic() - self._last_write < HEARTBEAT_SECONDS:
            return
        try:
            self._renew()
        except Exception as exc:  # the lease has margin; a failed renewal must not fail a record
            log.warning("lease.renew_failed", prong=self._prong, error=str(exc))

    def _renew(self) -> None:
        row = self._board.reread(self._prong)
        now = self._clock.now()
        self._last_write = self._clock.monotonic()
        if row.state is ProngState.PAUSED:
            self._halt("Paused by an operator during the run")
            return
        if row.owner not in (None, self._owner):
            self._halt(f"lease taken over by {row.owner}")
            return
        self._board.update(self._prong, row.id, RenewLease(now + self._lease, now))

    def _halt(self, why: str) -> None:
        self.lost = why
        self._stop.set()  # the run's Budget: it stops at its next recovery point
        log.warning("lease.run_halted", prong=self._prong, reason=why)

    def release(self, report: RunReport | None, error: str | None) -> None:
        """End of the run, whatever happened; never raises."""
        if self._record_id is None:
            return
        try:
            self._write_release(report, error)
        except Exception as exc:  # the lease expires on its own; say so and move on
            log.error("lease.release_failed", prong=self._prong, error=str(exc))

    def _write_release(self, report: RunReport | None, error: str | None) -> None:
        row = self._board.reread(self._prong)
        if row.owner not in (None, self._owner):
            log.warning("lease.lost", prong=self._prong, new_owner=row.owner)
            return
        now = self._clock.now()
        problem = error or ("; ".join(report.errors) if report and report.errors else None)
        paused = row.state is ProngState.PAUSED
        if paused:
            log.info("lease.released_paused", prong=self._prong)  # Paused stays as it is
        release = ReleaseLease(
            at=now,
            processed=report.processed if report else 0,
            error=mask_codes(problem)[:LAST_ERROR_MAX] if problem else None,
            offline=not paused,
        )
        self._board.update(self._prong, row.id, release)
        self._record_id = None
        log.info("lease.released", prong=self._prong, processed=release.processed)
