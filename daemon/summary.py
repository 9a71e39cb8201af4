"""The business on the status page: one summary refresh every few minutes, never per tick.

The service calls :meth:`BusinessSummary.tick` on the scheduler every tick; it does nothing
until a refresh is due. A refresh reads this month's receipts and issued cards and the requests
that need an operator (:func:`prongs.books.read_month`) at bulk priority, page by page, and,
less often, the Active cards for the liability (:func:`prongs.books.read_active_cards`). Each
part's next refresh waits ``max(interval, requests / rate)`` seconds, so the summary costs at
most ``rate + liability_rate`` Airtable requests per second on average however big the base
grows (see :class:`SummaryPlan`), and the page says how old each figure is.

The requests that need a person (Needs Attention, or Processing for more than 10 minutes) are
read again every ``interval`` on their own, four small listings, however big the base (the
alerts watch them: :mod:`daemon.alert_watch`). It also keeps ``giftbridge_stuck_requests`` (by
table) in ``/metrics``. A failed refresh keeps the last figures, says why on the page and tries
again after ``retry_after`` (a minute).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime

import structlog

from cards.headline import Headline
from cards.ledger import CardFacts
from clients.ports import Clock, ReportSource
from clients.report_records import FlaggedRequest
from daemon.logging import mask_codes
from daemon.metrics import Metrics
from prongs import books
from prongs.books import MonthRead

log = structlog.get_logger(__name__)
REQUEST_TABLES = ("Store Redemptions", "Creation Requests", "Balance Checks", "Card Actions")


@dataclass(frozen=True, slots=True)
class SummaryPlan:
    """``interval``: the least time between refreshes; ``rate``: the most Airtable requests per
    second the monthly figures may cost on average; ``liability_rate``: the same for the Active
    cards behind the liability (100 cards a request)."""

    interval: float = 300.0
    rate: float = 0.03
    liability_rate: float = 0.01
    retry_after: float = 60.0  # after a failed refresh (a 429, Airtable down)


@dataclass(frozen=True)
class Snapshot:
    """What the page shows; every field as of the refresh that set it."""

    base_id: str
    refreshed_at: datetime
    headline: dict[str, Headline]
    flagged: tuple[FlaggedRequest, ...]
    liability_as_of: datetime
    table_ids: dict[str, str] = field(default_factory=dict)
    error: str | None = None  # the last refresh's failure, when it failed
    every_seconds: float = 300.0

    def stuck_by_table(self) -> dict[str, int]:
        counts = dict.fromkeys(REQUEST_TABLES, 0)
        for request in self.flagged:
            if request.stuck:
                counts[request.table] = counts.get(request.table, 0) + 1
        return counts


class BusinessSummary:
    def __init__(
        self,
        source: ReportSource,
        clock: Clock,
        *,
        base_id: str,
        shop_currency: str,
        metrics: Metrics | None = None,
        plan: SummaryPlan | None = None,
    ) -> None:
        self.source = source
        self.clock = clock
        self.base_id = base_id
        self.shop_currency = shop_currency
        self.metrics = metrics
        self.plan = plan or SummaryPlan()
        self._lock = threading.Lock()
        self._snapshot: Snapshot | None = None
        self._month: MonthRead | None = None
        self._active: list[CardFacts] = []
        self._active_at: datetime | None = None
        self._month_due = float("-inf")
        self._active_due = float("-inf")
        self._flagged: list[FlaggedRequest] = []
        self._flagged_due = float("-inf")
        self._every = self.plan.interval
        self._error: str | None = None

    def latest(self) -> Snapshot | None:
        with self._lock:
            return self._snapshot

    @property
    def last_error(self) -> str | None:
        """Why the last refresh failed (None when it worked or none ran yet)."""
        return self._error

    def tick(self) -> bool:
        """Refresh what is due (the scheduler calls this every tick); True when it read
        anything. Never raises: a failure is logged and shown on the page."""
        now = self.clock.monotonic()
        if now >= self._month_due:
            refresh, what = self.refresh, "figures"
        elif now >= self._flagged_due:
            refresh, what = self.refresh_flagged, "flagged"
        else:
            return False
        try:
            refresh()
        except Exception as exc:  # the page keeps the last figures and says why
            self._error = mask_codes(f"{type(exc).__name__}: {exc}")
            retry = now + self.plan.retry_after
            if what == "figures":
                self._month_due = retry
            self._flagged_due = retry
            log.warning("summary.refresh_failed", part=what, error=self._error)
            self._publish()
        return True

    def refresh_flagged(self) -> None:
        """Only the requests that need a person (raises ClientError)."""
        start = self.clock.monotonic()
        self._flagged = books.read_flagged(self.source, self.clock.now())
        self._flagged_due = start + self.plan.interval
        self._error = None
        self._publish()

    def refresh(self) -> None:
        """Read what is due now and publish a new snapshot (raises ClientError)."""
        start = self.clock.monotonic()
        if start >= self._active_due:
            cards, requests = books.read_active_cards(self.source)
            self._active, self._active_at = cards, self.clock.now()
            self._active_due = start + max(self.plan.interval, requests / self.plan.liability_rate)
        month = books.read_month(self.source, self.clock.now())
        self._every = max(self.plan.interval, month.requests / self.plan.rate)
        self._month_due = start + self._every
        self._flagged_due = start + self.plan.interval
        self._month, self._flagged, self._error = month, list(month.flagged), None
        self._publish()
        log.info("summary.refreshed", requests=month.requests, flagged=len(month.flagged))

    def _publish(self) -> None:
        month = self._month
        if month is None or self._active_at is None:
            return
        figures = books.headline_of(month, self._active, self.shop_currency)
        snapshot = Snapshot(
            base_id=self.base_id,
            refreshed_at=month.read_at,
            headline=figures,
            flagged=tuple(self._flagged),
            liability_as_of=self._active_at,
            table_ids=month.table_ids,
            error=self._error,
            every_seconds=self._every,
        )
        with self._lock:
            self._snapshot = snapshot
        if self.metrics is not None:
            for table, count in snapshot.stuck_by_table().items():
                self.metrics.stuck_requests.labels(table).set(count)
