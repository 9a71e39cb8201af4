"""Alerts for what the daemon sees (DESIGN.md, Alerts), once per cause and subject.

Every tick :meth:`AlertWatch.tick` looks, in memory, at

- the requests that need a person, as the business summary last read them (every five minutes,
  :mod:`daemon.summary`): a request in Needs Attention (cause ``needs-attention``; only one
  that ended in the last day, so that turning alerts on does not mail the whole history), and
  a request left Processing for more than 10 minutes (``stuck-processing``); the subject is
  the request's record id and the link its Airtable record;
- the prongs' health (:mod:`daemon.health`): a prong that has failed every run for 10 minutes
  (``prong-failing``, subject ``<prong>@<UTC minute the failing began>``, so each outage is
  alerted once, and the next one again), linking the status page;
- the alerts other threads raised (:meth:`AlertWatch.raise_cause`, through
  :class:`daemon.alert_relay.AlertRelay`: Shopify's token cannot be renewed, push fell back
  to polling), linking the status page. Raising one only puts it in memory: the thread that
  raised it never waits for Airtable or Klaviyo.

A cause not seen before in this process costs one Receipts read (the ``Alert Sent`` receipts of
up to 100 new causes at once), then an alert for each one not already recorded
(:class:`prongs.alerts.Alerts`: Klaviyo's ``unique_id`` and the upserted receipt make it once
across crashes and restarts). Without ``ALERT_EMAIL`` it does nothing at all.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog

from cards.masking import mask_codes
from clients.ports import Clock
from clients.report_records import FlaggedRequest, record_url
from daemon.health import FAILING_WINDOW_SECONDS, HealthBook
from daemon.summary import BusinessSummary, Snapshot
from prongs.alerts import AlertResult, Alerts

log = structlog.get_logger(__name__)

RECENT = timedelta(days=1)  # a Needs Attention request older than this is history, not news
BATCH = 100  # references per Receipts read


@dataclass(frozen=True, slots=True)
class Cause:
    cause: str
    subject: str
    message: str
    link: str | None

    @property
    def pair(self) -> tuple[str, str]:
        return self.cause, self.subject


class AlertWatch:
    def __init__(
        self,
        alerts: Alerts,
        health: HealthBook,
        summary: BusinessSummary | None,
        clock: Clock,
        *,
        status_url: str | None = None,
    ) -> None:
        self.alerts = alerts
        self.health = health
        self.summary = summary
        self.clock = clock
        self.status_url = status_url
        self._done: set[tuple[str, str]] = set()  # sent, or found already sent
        self._raised: dict[tuple[str, str], Cause] = {}  # by other threads, until done
        self._lock = threading.Lock()  # guards _raised

    def raise_cause(self, cause: str, subject: str, message: str) -> None:
        """Alert ``cause`` for ``subject`` at the next tick, linking the status page. Any thread;
        in memory only (never blocks on I/O); a pair already done is dropped at once, and a
        newer message for a pair still waiting replaces the older one."""
        pair = (cause, subject)
        if not self.alerts.configured:
            return
        with self._lock:
            if pair not in self._done:
                self._raised[pair] = Cause(cause, subject, message, self.status_url)

    def tick(self) -> int:
        """Alert every new cause; returns how many alerts were sent. Never raises."""
        if not self.alerts.configured:
            return 0
        with self._lock:  # the raised alerts done by an earlier tick are forgotten
            for pair in self._done.intersection(self._raised):
                del self._raised[pair]
        due = [c for c in self.causes() if c.pair not in self._done][:BATCH]
        if not due:
            return 0
        sent = 0
        try:
            recorded = self.alerts.already_sent([c.pair for c in due])
            for cause in due:
                if cause.pair in recorded:
                    self._done.add(cause.pair)
                    continue
                result = self.alerts.send(
                    cause.cause, cause.subject, cause.message, cause.link, checked=True
                )
                if result is not AlertResult.FAILED:  # a failed email is tried next tick
                    self._done.add(cause.pair)
                    sent += result is AlertResult.SENT
        except Exception as exc:  # Airtable down: the next tick tries again
            log.warning("alerts.failed", error=mask_codes(f"{type(exc).__name__}: {exc}"))
        return sent

    def causes(self) -> Iterator[Cause]:
        with self._lock:
            raised = list(self._raised.values())
        yield from raised  # few, and news: before the requests
        snapshot = self.summary.latest() if self.summary is not None else None
        if snapshot is not None:
            for request in snapshot.flagged:
                cause = self._request_cause(snapshot, request)
                if cause is not None:
                    yield cause
        yield from self._failing_prongs()

    def _request_cause(self, snapshot: Snapshot, request: FlaggedRequest) -> Cause | None:
        table_id = snapshot.table_ids.get(request.table)
        link = (
            record_url(snapshot.base_id, table_id, request.record_id)
            if table_id
            else self.status_url
        )
        what = f"{request.table} request {request.record_id}"
        if request.stuck:
            message = f"{what} has been Processing for more than 10 minutes."
            return Cause("stuck-processing", request.record_id, message, link)
        ended = request.processed_at or request.created_time
        if self.clock.now() - ended > RECENT:
            return None
        detail = ": ".join(p for p in (request.outcome, request.message) if p)
        message = mask_codes(f"{what} needs attention. {detail}".strip())
        return Cause("needs-attention", request.record_id, message, link)

    def _failing_prongs(self) -> Iterator[Cause]:
        for view in self.health.views():
            since = view.failing_since_at
            if since is None or view.failing_for is None or view.paused:
                continue
            if view.failing_for < FAILING_WINDOW_SECONDS:
                continue
            last = view.recent[0].detail if view.recent else None
            minutes = int(view.failing_for // 60)
            message = mask_codes(
                f"{view.name} has failed every run for {minutes} minutes "
                f"({view.consecutive_failures} runs). Last: {last or 'no detail'}"
            )
            subject = f"{view.name}@{_minute(since)}"
            yield Cause("prong-failing", subject, message, self.status_url)


def _minute(at: datetime) -> str:
    return at.strftime("%Y%m%dT%H%MZ")
