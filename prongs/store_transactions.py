"""The store-transactions prong: redemptions first, then creations, balance checks, card actions.

Composition root::

    report = run_once(deps, config, budget, gate)

with the process's :class:`~prongs.deps.Deps` and a
:class:`~prongs.store_context.StoreConfig` (``card=CardConfig(...)``, ``portal_enabled``,
``balance_checks_per_hour``; the other fields have defaults).

One run: poll Store Redemptions and handle every new (blank) or unfinished (Processing) one, in
groups of ``redemption_batch`` (10) that share their Airtable reads and writes; then the lower
queues in order, one record at a time. Between two lower-priority records, when
``redemption_recheck_seconds`` (2 s) have passed since the last poll, redemptions are polled
again and handled first, so a bulk of fifty creations never keeps a till waiting. Redemptions
run at ``Priority.REDEMPTION`` at the shared limiters, creations at ``Priority.BULK``, the rest
at ``NORMAL``.

The run takes the lease (``gate.claim()``) only when it finds a record, before the first effect,
and does nothing when refused; it heartbeats between records and stops at a record boundary
(a recovery point) when the budget is spent or after ``max_records_per_run`` records. A record
is handled at most once per run: one left Processing waits for the next run. A record whose
handling failed adds one line to ``report.errors``; the run goes on with the next. An unexpected
exception is contained to its record and counted in the :class:`AttemptBook` the caller keeps
across runs; a record that failed before is handled alone, after the others, and one that failed
three times is given up: Needs Attention, Outcome Error (:mod:`prongs.containment`).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from typing import TypeVar

import structlog

from cards.vocab import Prong
from clients.errors import ClientError
from clients.ports import Priority, priority
from clients.records import (
    BalanceCheckRequest,
    CardActionRequest,
    CreationRequest,
    RedemptionRequest,
)
from prongs import balance_checks, card_actions, containment, creations, redemptions
from prongs.balance_checks import CheckLimits
from prongs.containment import MAX_ATTEMPTS, AttemptBook
from prongs.deps import Deps
from prongs.exactly_once import again_if_ambiguous
from prongs.report import Budget, Gate, RunReport, fence_of
from prongs.store_context import Context, Handled, StoreConfig, failure_line

log = structlog.get_logger("giftbridge.prongs")


PRONG = Prong.STORE_TRANSACTIONS.value
T = TypeVar("T", RedemptionRequest, CreationRequest, BalanceCheckRequest, CardActionRequest)


def run_once(
    deps: Deps,
    config: StoreConfig,
    budget: Budget,
    gate: Gate,
    attempts: AttemptBook | None = None,
) -> RunReport:
    """One run; ``attempts``: the book of failed attempts the caller keeps across runs (the
    daemon's lives in STATE_DIR); without one, attempts are counted within this run only."""
    run = _Run(Context(deps, config, fence_of(gate)), budget, gate, attempts or AttemptBook())
    run.go()
    return run.report


class _Run:
    def __init__(self, ctx: Context, budget: Budget, gate: Gate, attempts: AttemptBook) -> None:
        self.ctx = ctx
        self.budget = budget
        self.gate = gate
        self.attempts = attempts
        self.report = RunReport(PRONG)
        self.claimed = False
        self.stopped = False
        self.handled = 0
        self.seen: set[str] = set()
        self.last_poll = ctx.deps.clock.monotonic()
        self.limits: CheckLimits | None = None

    # --- the order of the queues ------------------------------------------------------------
    def go(self) -> None:
        self.redemptions()
        airtable, page = self.ctx.deps.airtable, self.ctx.config.queue_page
        self.queue(lambda: airtable.pending_creations(page), self.creation, "creations")
        self.queue(lambda: airtable.pending_balance_checks(page), self.balance, "balance checks")
        self.queue(lambda: airtable.pending_card_actions(page), self.card_action, "card actions")

    def redemptions(self) -> None:
        """Handle new redemptions, page after page, until none is left unseen; each page in
        groups of ``redemption_batch`` sharing their Airtable reads and writes."""
        airtable, size = self.ctx.deps.airtable, self.ctx.config.queue_page
        while not self.stopped:
            self.last_poll = self.ctx.deps.clock.monotonic()
            with priority(Priority.REDEMPTION):
                records = self.read(lambda: airtable.pending_redemptions(size), "redemptions")
            fresh = [r for r in records if r.id not in self.seen]
            page = redemptions.Page(fresh)
            # A request that failed before goes on its own, after the others (containment).
            waiting = [r for r in fresh if not self.failed_before(r)]
            waiting += [r for r in fresh if self.failed_before(r)]
            while waiting:
                if not self.may_continue():
                    return
                room = self.ctx.config.max_records_per_run - self.handled
                group_size = max(1, min(self.ctx.config.redemption_batch, room))
                group = list(itertools.takewhile(self.first_try, waiting[:group_size]))
                group = group or waiting[:1]
                waiting = waiting[len(group) :]
                with priority(Priority.REDEMPTION):
                    self.many(group, page.handle_group)
            if not fresh or len(records) < size:
                return

    def queue(
        self, read: Callable[[], Sequence[T]], handle: Callable[[Context, T], Handled], what: str
    ) -> None:
        if self.stopped:
            return
        for record in self.read(read, what):
            if not self.may_continue():
                return
            if self.ctx.deps.clock.monotonic() - self.last_poll >= self.recheck_seconds:
                self.redemptions()
                if not self.may_continue():
                    return
            if record.id not in self.seen:
                self.one(record, handle)

    @property
    def recheck_seconds(self) -> float:
        return self.ctx.config.redemption_recheck_seconds

    def failed_before(self, record: T) -> bool:
        return self.attempts.count(record.id) > 0

    def first_try(self, record: T) -> bool:
        return self.attempts.count(record.id) == 0

    # --- one queue's handlers with their priorities -----------------------------------------
    def creation(self, ctx: Context, record: CreationRequest) -> Handled:
        with priority(Priority.BULK):
            return creations.handle(ctx, record)

    def balance(self, ctx: Context, record: BalanceCheckRequest) -> Handled:
        if self.limits is None:
            self.limits = CheckLimits.seeded(ctx)
        return balance_checks.handle(ctx, record, self.limits)

    def card_action(self, ctx: Context, record: CardActionRequest) -> Handled:
        return card_actions.handle(ctx, record)

    # --- mechanics --------------------------------------------------------------------------
    def read(self, call: Callable[[], Sequence[T]], what: str) -> Sequence[T]:
        try:
            records = again_if_ambiguous(call)
        except ClientError as exc:
            self.report.errors.append(failure_line(f"reading {what}", exc))
            return ()
        self.report.queue_depths.setdefault(what, len(records))
        if records:
            self.report.found_work = True
        return records

    def may_continue(self) -> bool:
        if self.stopped:
            return False
        if self.budget.exhausted:
            self.report.budget_exhausted = True
            self.stopped = True
        elif self.handled >= self.ctx.config.max_records_per_run:
            self.stopped = True
        return not self.stopped

    def claim(self) -> bool:
        if not self.claimed:
            if not self.gate.claim():
                self.report.skipped = "the lease is held elsewhere or the prong is Paused"
                self.stopped = True
                return False
            self.claimed = True
        return True

    def one(self, record: T, handle: Callable[[Context, T], Handled]) -> None:
        self.many([record], lambda ctx, records: [handle(ctx, records[0])])

    def many(
        self, records: Sequence[T], handle: Callable[[Context, Sequence[T]], list[Handled]]
    ) -> None:
        """Handle records together (a group of redemptions shares its Airtable writes); a
        record that failed :data:`MAX_ATTEMPTS` times is given up instead (containment)."""
        if not self.claim():
            return
        if self.handled:
            self.gate.heartbeat()
        self.seen.update(r.id for r in records)
        self.handled += len(records)
        self.attempts.settle(self.ctx.now())
        tried = [r for r in records if self.attempts.count(r.id) < MAX_ATTEMPTS]
        for record in records:
            if record not in tried:
                self.give_up(record)
        if not tried:
            return
        self.attempts.begin([r.id for r in tried], self.ctx.now())
        try:
            results = handle(self.ctx, tried)
        except Exception as exc:  # one record's failure never stops the queue behind it
            ids = ", ".join(r.id for r in tried)
            line = failure_line(f"{type(tried[0]).__name__} {ids}", exc)
            log.exception("record failed", record=ids, error=type(exc).__name__)
            self.report.errors.append(line)
            self.attempts.end(dict.fromkeys((r.id for r in tried), line), self.ctx.now())
            return
        ended = {
            r.id: (result.error or "unexpected error") if result.attempt_failed else None
            for r, result in zip(tried, results, strict=True)
        }
        self.attempts.end(ended, self.ctx.now())
        for result in results:
            self.tally(result)

    def give_up(self, record: T) -> None:
        count, last = self.attempts.count(record.id), self.attempts.last_error(record.id)
        try:
            result = containment.give_up(self.ctx, record, count, last)
        except ClientError as exc:  # the next run gives up again
            self.report.errors.append(failure_line(f"giving up {record.id}", exc))
            return
        self.attempts.end({record.id: None}, self.ctx.now())
        self.tally(Handled(result.outcome, f"{record.id}: given up after {count} attempts"))

    def tally(self, result: Handled) -> None:
        if result.error:
            self.report.errors.append(result.error)
        if result.outcome:
            self.report.record(result.outcome)
