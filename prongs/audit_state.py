"""What the audit keeps between runs and across restarts: its marks, cursors and open repairs.

:class:`AuditState` is a plain value, saved through an :class:`AuditStore` after every step (the
daemon's store is a JSON file in ``STATE_DIR``, written atomically: ``daemon.audit_state_file``;
tests and a one-off run use :class:`MemoryStore`). Losing it costs work, never correctness:
a fresh state starts a full pass and looks a day (``full_every``) back for changed cards.

- ``mark``: cards Shopify updated at or after it are compared by the next incremental run (a
  finished incremental sets it to where it stopped looking, less the overlap for search lag).
- ``incremental`` / ``full``: a run in progress, resumable exactly: each remembers the number of
  the last Shopify card it compared (pages are read in ascending id order with ``id:>``), so a
  full pass of any size spans as many runs as its budget needs, and a restart resumes it.
- ``open``: the repair journal. A repair is written here *before* its first effect and removed
  after its last receipt, so a crash between the row write and the Drift Repaired receipt is
  finished by the next run (whose re-read alone could no longer tell that a repair happened).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol


@dataclass
class IncrementalCursor:
    since: datetime  # cards updated at or after this
    until: datetime  # and not after this (younger ones wait for the next run)
    after_number: int = 0  # the last card compared
    hold: datetime | None = None  # the oldest transaction still awaiting the online prongs


@dataclass
class Deferred:
    """A card an incremental left for the next one (changed in the last ``settle``): its
    transactions are judged from ``since``, the window it was seen in, not the next mark."""

    card: str
    since: datetime
    window: datetime  # the since of the latest incremental that saw it (to forget gone cards)


@dataclass
class FullCursor:
    started_at: datetime
    after_number: int = 0


@dataclass
class OpenRepair:
    """A repair under way. ``kind``: ``fields`` (a row's fields mirrored from Shopify) or
    ``restore`` (a missing row recreated). ``detected``: its Drift Detected receipts exist."""

    kind: str
    card_gid: str
    updated_at: str  # Shopify's updatedAt when the drift was seen (the keys' last part)
    row_id: str | None = None
    origin_key: str | None = None
    details: dict[str, str] = field(default_factory=dict)  # field -> what differed
    detected: bool = False
    attempts: int = 0  # runs that failed to finish it


@dataclass
class AuditState:
    mark: datetime | None = None
    last_incremental_at: datetime | None = None
    incremental: IncrementalCursor | None = None
    full: FullCursor | None = None
    last_full_started_at: datetime | None = None
    last_full_finished_at: datetime | None = None
    full_requested: bool = False
    open: list[OpenRepair] = field(default_factory=list)
    deferred: list[Deferred] = field(default_factory=list)

    # --- when a run has work -------------------------------------------------------------
    def incremental_due(self, now: datetime, interval: timedelta) -> bool:
        if self.incremental is not None or self.last_incremental_at is None:
            return True
        return now - self.last_incremental_at >= interval

    def full_due(self, now: datetime, every: timedelta) -> bool:
        if self.full is not None or self.full_requested or self.last_full_started_at is None:
            return True
        return now - self.last_full_started_at >= every

    # --- the JSON form -----------------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        encoded: dict[str, Any] = _encode(asdict(self))
        return encoded

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> AuditState:
        data = _decode(raw)
        inc, full = data.get("incremental"), data.get("full")
        return cls(
            mark=data.get("mark"),
            last_incremental_at=data.get("last_incremental_at"),
            incremental=IncrementalCursor(**inc) if inc else None,
            full=FullCursor(**full) if full else None,
            last_full_started_at=data.get("last_full_started_at"),
            last_full_finished_at=data.get("last_full_finished_at"),
            full_requested=bool(data.get("full_requested", False)),
            open=[OpenRepair(**o) for o in data.get("open", [])],
            deferred=[Deferred(**d) for d in data.get("deferred", [])],
        )


_TIME_FIELDS = {
    "mark",
    "last_incremental_at",
    "last_full_started_at",
    "last_full_finished_at",
    "since",
    "until",
    "started_at",
    "hold",
    "window",
}


def _encode(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _encode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_encode(v) for v in value]
    return value


def _decode(value: Any, name: str = "") -> Any:
    if isinstance(value, dict):
        return {k: _decode(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode(v) for v in value]
    if name in _TIME_FIELDS and isinstance(value, str):
        return datetime.fromisoformat(value)
    return value


class AuditStore(Protocol):
    def load(self) -> AuditState:
        """The saved state, or a fresh one when there is none (or it cannot be read)."""
        ...

    def save(self, state: AuditState) -> None:
        """Replace the saved state (atomically: a crash leaves the old or the new one)."""
        ...


class MemoryStore:
    """An :class:`AuditStore` in memory (tests; a store that lives as long as the process)."""

    def __init__(self, state: AuditState | None = None) -> None:
        self._saved = (state or AuditState()).to_json()
        self.saves = 0

    def load(self) -> AuditState:
        return AuditState.from_json(self._saved)

    def save(self, state: AuditState) -> None:
        self._saved = state.to_json()
        self.saves += 1
