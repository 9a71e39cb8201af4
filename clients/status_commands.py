"""Typed writes of the Status table (one row per prong: its lease and last-run figures).

Written by the daemon's lease (:mod:`daemon.lease`); mapped to columns in
:mod:`clients.airtable_columns` like every other write. Each also says how it changes the row
the daemon keeps in memory (:meth:`applied_to`), so the status page shows what was written.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from cards.vocab import ProngState
from clients.records import StatusRow


@dataclass(frozen=True, slots=True)
class ClaimLease:
    owner: str
    expires_at: datetime
    at: datetime  # Heartbeat At and Last Started At

    def applied_to(self, row: StatusRow) -> StatusRow:
        return replace(
            row,
            state=ProngState.EXECUTING,
            owner=self.owner,
            lease_expires_at=self.expires_at,
            heartbeat_at=self.at,
            last_started_at=self.at,
        )


@dataclass(frozen=True, slots=True)
class RenewLease:
    expires_at: datetime
    at: datetime  # Heartbeat At

    def applied_to(self, row: StatusRow) -> StatusRow:
        return replace(row, lease_expires_at=self.expires_at, heartbeat_at=self.at)


@dataclass(frozen=True, slots=True)
class StatusHeartbeat:
    """Only Heartbeat At, so an operator's concurrent Paused is never written over."""

    at: datetime

    def applied_to(self, row: StatusRow) -> StatusRow:
        return replace(row, heartbeat_at=self.at)


@dataclass(frozen=True, slots=True)
class ReleaseLease:
    """The end of a run: the lease cleared, the run's figures, Offline unless an operator set
    Paused meanwhile (``offline`` False leaves State as it is)."""

    at: datetime  # Heartbeat At and Last Finished At; Last Success At when no error
    processed: int
    error: str | None
    offline: bool

    def applied_to(self, row: StatusRow) -> StatusRow:
        row = replace(
            row,
            lease_expires_at=None,
            heartbeat_at=self.at,
            last_finished_at=self.at,
            last_run_processed=self.processed,
            last_error=self.error,
        )
        if self.error is None:
            row = replace(row, last_success_at=self.at)
        return replace(row, state=ProngState.OFFLINE) if self.offline else row


StatusWrite = ClaimLease | RenewLease | StatusHeartbeat | ReleaseLease
