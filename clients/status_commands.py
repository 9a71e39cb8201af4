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
    """A claim of the prong's lease (:mod:`daemon.ownership`): Owner, Lease Expires At and
    Heartbeat At only (a fresh instant, so the claimant can recognise its own write)."""

    owner: str
    expires_at: datetime
    at: datetime  # Heartbeat At

    def applied_to(self, row: StatusRow) -> StatusRow:
        return replace(
            row, owner=self.owner, lease_expires_at=self.expires_at, heartbeat_at=self.at
        )


@dataclass(frozen=True, slots=True)
class StartRun:
    """A run of the prong whose lease we hold begins: Executing, Last Started At, and the
    lease renewed."""

    expires_at: datetime
    at: datetime  # Heartbeat At and Last Started At

    def applied_to(self, row: StatusRow) -> StatusRow:
        return replace(
            row,
            state=ProngState.EXECUTING,
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
class EndRun:
    """The end of a run: its figures, Offline unless an operator set Paused meanwhile
    (``offline`` False leaves State as it is), and the lease renewed (it is kept between runs)."""

    at: datetime  # Heartbeat At and Last Finished At; Last Success At when no error
    processed: int
    error: str | None
    offline: bool
    expires_at: datetime

    def applied_to(self, row: StatusRow) -> StatusRow:
        row = replace(
            row,
            lease_expires_at=self.expires_at,
            heartbeat_at=self.at,
            last_finished_at=self.at,
            last_run_processed=self.processed,
            last_error=self.error,
        )
        if self.error is None:
            row = replace(row, last_success_at=self.at)
        return replace(row, state=ProngState.OFFLINE) if self.offline else row


@dataclass(frozen=True, slots=True)
class ReleaseLease:
    """A clean stop gives the lease up: Lease Expires At cleared (the next claimant takes it at
    once), Offline unless Paused (``offline`` False leaves State as it is); Owner stays, to show
    the last host."""

    at: datetime  # Heartbeat At
    offline: bool

    def applied_to(self, row: StatusRow) -> StatusRow:
        row = replace(row, lease_expires_at=None, heartbeat_at=self.at)
        return replace(row, state=ProngState.OFFLINE) if self.offline else row


StatusWrite = ClaimLease | StartRun | RenewLease | StatusHeartbeat | EndRun | ReleaseLease
