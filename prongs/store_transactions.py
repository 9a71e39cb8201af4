"""The store-transactions prong: redemptions first, then creations, balance checks, card actions.

Composition root::

    report = run_once(deps, config, budget, gate)

with the process's :class:`~prongs.deps.Deps` and a
:class:`~prongs.store_context.StoreConfig` (``card=CardConfig(...)``, ``portal_enabled``,
``balance_checks_per_hour``; the other fields have defaults).

One run: poll Store Redemptions and handle every new (blank) or unfinished (Processing) one, in
groups of ``redemption_batch`` (10) that share their Airtable reads and writes; then the lower
queues in order, one record at a time; bulk creation requests (Channel Bulk, from
``giftbridge cards import``) come last, in groups of ten (:mod:`prongs.bulk_issuance`), so a
company's order never delays a counter sale, a balance check or an operator's action. Between two
lower-priority records, and between the cards of a bulk group, when
``redemption_recheck_seconds`` (1 s) have passed since the last poll, redemptions are polled
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

from cards.vocab import Channel, Prong
from clients.errors import ClientError
from clients.ports import Priority, priority
from clients.records import (
    BalanceCheckRequest,
    CardActionRequest,
    CreationRequest,
    RedemptionRequest,
)
from prongs import balance_checks, bulk_issuance, card_actions, containment, creations, redemptions
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
    book = attempts or AttemptBook()
    book.settle(deps.clock.now())  # what an earlier run left in flight: its process died
    run = _Run(Context(deps, config, fence_of(gate)), budget, gate, book)
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
        creations: Sequence[CreationRequest] = ()
        if not self.stopped:
            creations = self.read(lambda: airtable.pending_creations(page), "creations")
        self.each([c for c in creations if c.channel != Channel.BULK], self.creation)
        self.queue(lambda: airtable.pending_balance_checks(page), self.balance, "balance checks")
        self.queue(lambda: airtable.pending_card_actions(page), self.card_action, "card actions")
        self.bulk([c for c in creations if c.channel == Channel.BULK])

    def redemptions(self) -> None:
        """Handle new redemptions, page after page, until none is left unseen; each page in
        groups of ``redemption_batch`` sharing their Airtable reads and writes."""
        airtable, size = self.ctx.deps.airtable, self.ctx.config.queue_page
        while not self.stopped:
            self.last_poll = self.ctx.deps.clock.monotonic()
            with priority(Priority.REDEMPTION):
                records = self.read(lambda: airtable.pending_redemptions(size), "redemptions")
            fresh = [r for r in records if r.id not in self.seen]
            waiting, page = self.suspects_last(fresh), redemptions.Page(fresh)
            while waiting:
                if not self.may_continue():
                    return
                group, waiting = self.next_group(waiting)
                with priority(Priority.REDEMPTION):
                    self.many(group, page.handle_group)
            if not fresh or len(records) < size:
                return

    def queue(
        self, read: Callable[[], Sequence[T]], handle: Callable[[Context, T], Handled], what: str
    ) -> None:
        if not self.stopped:
            self.each(self.read(read, what), handle)

    def each(self, records: Sequence[T], handle: Callable[[Context, T], Handled]) -> None:
        for record in records:
            if not self.may_continue():
                return
            self.recheck()
            if not self.may_continue():
                return
            if record.id not in self.seen:
                self.one(record, handle)

    def bulk(self, records: Sequence[CreationRequest]) -> None:
        """Bulk creation requests last, in groups that share their Airtable writes, at bulk
        priority; redemptions are polled between the group's cards, not only between groups."""
        waiting = self.suspects_last([r for r in records if r.id not in self.seen])
        while waiting:
            if not self.may_continue():
                return
            group, waiting = self.next_group(waiting)
            with priority(Priority.BULK):
                self.many(group, lambda ctx, g: bulk_issuance.handle_group(ctx, g, self.recheck))

    def next_group(self, waiting: list[T]) -> tuple[list[T], list[T]]:
        """The next group (``redemption_batch``, Airtable's records per write, or what the
        run's record limit leaves) and the rest; a record that failed before goes alone."""
        room = self.ctx.config.max_records_per_run - self.handled
        size = max(1, min(self.ctx.config.redemption_batch, room))
        group = list(itertools.takewhile(self.first_try, waiting[:size])) or waiting[:1]
        return group, waiting[len(group) :]

    def suspects_last(self, records: Sequence[T]) -> list[T]:
        """Records that failed before after the others (each then goes alone: containment)."""
        return [r for r in records if self.first_try(r)] + [
            r for r in records if not self.first_try(r)
        ]

    def recheck(self) -> None:
        """Poll redemptions (and handle them first) when ``redemption_recheck_seconds`` passed."""
        if self.ctx.deps.clock.monotonic() - self.last_poll >= self.recheck_seconds:
            self.redemptions()

    @property
    def recheck_seconds(self) -> float:
        return self.ctx.config.redemption_recheck_seconds

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
