"""What one run of the expiry prong carries: its config, the cards it read, its lease and budget.

Shared by :mod:`prongs.expiry` (reading, mirroring and expiring) and
:mod:`prongs.expiry_reminders` (the reminders), so neither imports the other.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVar

import structlog

from cards import expiry as rules
from cards.errors import InvariantViolation
from cards.vocab import Prong
from clients.errors import ClientError
from clients.records import CardRow, ShopifyCard
from prongs.deps import Deps
from prongs.expiry_dates import ShopDay
from prongs.report import Budget, Gate, RunReport
from prongs.store_context import failure_line

log = structlog.get_logger("giftbridge.prongs")

PRONG = Prong.EXPIRY.value
GROUP = 10  # Airtable writes 10 records a request: one group, one request per table
T = TypeVar("T")


def required(value: T | None, what: str) -> T:
    """A decision's field its step always carries (a None is a bug in the rules)."""
    if value is None:
        raise InvariantViolation(f"an expiry decision without its {what}")
    return value


@dataclass(frozen=True, slots=True)
class ExpiryConfig:
    business_name: str  # BUSINESS_NAME, in the reminder email
    reminder_days: tuple[int, ...] = (30, 7)  # EXPIRY_REMINDER_DAYS (empty: no reminders)
    max_cards_per_run: int = 3000  # the filtered read's cap (soonest first)
    email_attempts: int = 3
    email_retry_seconds: float = 0.25


@dataclass(frozen=True, slots=True)
class Due:
    """One card of the run's read, with its Shopify card and what to do with it."""

    row: CardRow
    shopify: ShopifyCard | None
    decision: rules.Decision


@dataclass
class ExpiryRun:
    """One run's state: the shop's day, the report, the lease and the budget."""

    deps: Deps
    config: ExpiryConfig
    budget: Budget
    gate: Gate
    day: ShopDay
    now: datetime
    report: RunReport = field(default_factory=lambda: RunReport(PRONG))
    claimed: bool = False
    stopped: bool = False
    skipped: set[str] = field(default_factory=set)  # cards whose Shopify date moved meanwhile

    def may_continue(self) -> bool:
        """False once the budget is spent (or the run was told to stop)."""
        if self.stopped:
            return False
        if self.budget.exhausted:
            self.report.budget_exhausted = True
            self.stopped = True
        return not self.stopped

    def claim(self) -> bool:
        """The lease before the first effect; a heartbeat before each later group."""
        self.report.found_work = True
        if self.claimed:
            self.gate.heartbeat()
            return True
        if not self.gate.claim():
            self.report.skipped = "the lease is held elsewhere or the prong is Paused"
            self.stopped = True
            return False
        self.claimed = True
        return True

    def in_groups(self, items: Sequence[T], work: Callable[[Sequence[T]], None], what: str) -> None:
        """``work`` on each group of :data:`GROUP` while the budget lasts, the lease claimed
        first; a group that fails is one report line, and the next group goes on."""
        for start in range(0, len(items), GROUP):
            if not self.may_continue() or not self.claim():
                return
            group = items[start : start + GROUP]
            try:
                work(group)
            except (ClientError, InvariantViolation) as exc:
                log.warning("expiry group failed", what=what, error=str(exc))
                self.report.errors.append(failure_line(what, exc))
