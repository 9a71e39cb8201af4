"""One audit run's context (:class:`AuditRun`), the prong's config and what it keeps across
runs (:class:`AuditProgress`); the passes (:mod:`prongs.audit_passes`) and repairs
(:mod:`prongs.audit_repair`) work through it, the entry point is :mod:`prongs.audit`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from cards.vocab import Prong
from clients.records import CardState
from prongs.alerts import Alerts
from prongs.audit_state import AuditState, AuditStore
from prongs.audit_tally import AuditTally
from prongs.deps import Deps
from prongs.report import Budget, Gate, RunReport

PRONG = Prong.AUDIT.value
MEMO_LIMIT = 50_000


@dataclass(frozen=True, slots=True)
class AuditConfig:
    currency: str  # CURRENCY
    interval: timedelta = timedelta(hours=1)  # AUDIT_INTERVAL_SECONDS
    full_every: timedelta = timedelta(days=1)
    overlap: timedelta = timedelta(minutes=15)  # search-index lag
    settle: timedelta = timedelta(minutes=2)  # changes this recent may still be mirrored
    settle_transactions: timedelta = timedelta(hours=1)  # note-less: the online prongs' turn
    match_window: timedelta = timedelta(minutes=15)  # an online receipt's At vs the transaction
    sync_margin: timedelta = timedelta(minutes=1)  # clock skew, Shopify's vs ours
    page_size: int = 250  # Shopify cards a page (two points each)
    chunk_cards: int = 500  # cards joined to one Airtable range read
    incremental_page: int = 100
    transactions_per_card: int = 50
    alert_email: str | None = None  # ALERT_EMAIL


def fresh_lookback(config: AuditConfig) -> timedelta:
    """How far back a state with no mark looks: as far as a full pass (a day), since the full
    pass compares fields only and a change whose row was synced since is found only by reading
    its transactions."""
    return max(config.interval, config.full_every)


class AuditProgress:
    """What the audit keeps across the runs of one process: its state (loaded from ``store`` at
    the first run, saved after every step), the transactions known to be accounted for (so an
    overlapping window reads no receipt twice), and the tally."""

    def __init__(self, store: AuditStore) -> None:
        self.store = store
        self._state: AuditState | None = None
        self.accounted: set[str] = set()
        self.checked: dict[str, datetime] = {}  # card GID -> updatedAt its transactions were read
        self.tally = AuditTally()
        # Told after every batch compared (``giftbridge audit`` draws its progress bar here).
        self.listener: Callable[[AuditProgress], None] | None = None

    @property
    def state(self) -> AuditState:
        if self._state is None:
            self._state = self.store.load()
        return self._state

    def save(self) -> None:
        self.store.save(self.state)

    def anchor(self, now: datetime, config: AuditConfig) -> None:
        """A fresh state (no mark, no pass under way) gets its mark at once, saved: the audit's
        coverage starts at the daemon's start, less the fresh look-back (a day), not at its first
        finished run, which crashes or a lease held elsewhere may put off for days."""
        state = self.state
        if state.mark is None and state.incremental is None:
            state.mark = now - fresh_lookback(config)
            self.save()

    def request_full(self) -> None:
        """Start a full pass at the next run (unless one is under way)."""
        if self.state.full is None:
            self.state.full_requested = True
            self.save()

    def request_incremental(self) -> None:
        """Compare the cards changed since the mark at the next run, whatever the interval."""
        if self.state.incremental is None:
            self.state.last_incremental_at = None

    @property
    def busy(self) -> bool:
        """Something is due or under way (a run by hand goes on until this is False)."""
        state = self.state
        return bool(
            state.open
            or state.incremental
            or state.full
            or state.full_requested
            or state.last_incremental_at is None
            or state.last_full_started_at is None
        )

    def batch_done(self) -> None:
        if self.listener is not None:
            self.listener(self)

    def remember(self, txn_ids: set[str]) -> None:
        if len(self.accounted) > MEMO_LIMIT:
            self.accounted.clear()
        self.accounted |= txn_ids

    def looked_at(self, card: CardState) -> None:
        """The card's transactions were read at this ``updatedAt``: a full pass need not read
        them again until Shopify changes the card."""
        if len(self.checked) > MEMO_LIMIT:
            self.checked.clear()
        self.checked[card.id] = card.updated_at


class AuditRun:
    """One run: its deps, config, budget, gate and report, shared by the passes."""

    def __init__(
        self, deps: Deps, config: AuditConfig, budget: Budget, gate: Gate, progress: AuditProgress
    ) -> None:
        self.deps = deps
        self.config = config
        self.budget = budget
        self.gate = gate
        self.progress = progress
        self.report = RunReport(PRONG)
        self.alerts = Alerts(deps, config.alert_email)
        self.claimed = False
        self.refused = False

    @property
    def state(self) -> AuditState:
        return self.progress.state

    @property
    def tally(self) -> AuditTally:
        return self.progress.tally

    def should_stop(self) -> bool:
        if self.refused:
            return True
        if self.budget.exhausted:
            self.report.budget_exhausted = True
            return True
        return False

    def claim(self) -> bool:
        """The lease, before the first write of the run."""
        if self.claimed:
            self.gate.heartbeat()
            return True
        if self.refused:
            return False
        if not self.gate.claim():
            self.refused = True
            self.report.skipped = "the lease is held elsewhere or the prong is Paused"
            return False
        self.claimed = True
        return True
