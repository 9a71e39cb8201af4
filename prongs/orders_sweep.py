"""The late-refund sweep: recently updated gift-card orders, tagged or not.

A refund to a gift card can come days after its order was tagged, and the tag search will never
show that order again. So each run also pages through ``updated_at >= since`` orders paid by
gift card and settles every movement that has no receipt yet (refunds above all; a late capture
too). Receipts are the record of what is done, so the sweep needs no other bookkeeping:

- ``since`` is the high-water mark: when a sweep has covered every page without a failed order,
  the next one starts ``overlap`` before the moment this one started (the overlap absorbs
  search-index lag). A sweep cut short by the budget resumes from its cursor next run; one with a
  failed order starts over from the same ``since``.
- The mark lives in memory (:class:`RefundSweep`, an explicit state object the daemon keeps
  across runs and passes to each run). A restarted
  process starts from ``window_days`` ago: a full rescan, safe because receipts are upserted on
  their keyed references and cheap because ``receipt_references`` answers a whole page at once.
  Nothing outside the window is lost that the untagged pass could still have seen.
- References known to have receipts are remembered, so an idle tick costs one Shopify search and
  no Airtable call.

For an order with a refund not yet receipted, the Refund row is recorded *before* the receipts:
here the receipt is the gate, so a crash between them is repaired by the next sweep.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import structlog

from cards.vocab import OrderKind, OrderOutcome
from clients.commands import RecordOrder
from clients.records import CardRow, OrderPage, ShopifyOrder
from prongs.deps import Deps
from prongs.orders_common import OrderErrors, OrderRun, pages, window_start
from prongs.orders_movements import Movement, card_gids, movements_of, settle

log = structlog.get_logger("giftbridge.prongs")

_MEMO_LIMIT = 50_000


@dataclass
class RefundSweep:
    """The sweep's progress, kept across runs of one process."""

    watermark: datetime | None = None  # orders updated before this are settled
    since: datetime | None = None  # of the sweep in progress (None: none in progress)
    started_at: datetime | None = None
    cursor: str | None = None
    failed: bool = False  # an order of the sweep in progress failed: do not move the mark
    settled: set[str] = field(default_factory=set)  # references known to have receipts

    def begin(self, now: datetime, window_days: int) -> datetime:
        if self.since is None:
            self.since = self.watermark or window_start(now, window_days)
            self.started_at, self.cursor, self.failed = now, None, False
        return self.since

    def finish(self, overlap: timedelta) -> None:
        if not self.failed and self.started_at is not None:
            self.watermark = self.started_at - overlap
        self.since = self.started_at = self.cursor = None
        self.failed = False

    def remember(self, references: set[str]) -> None:
        if len(self.settled) > _MEMO_LIMIT:
            self.settled.clear()
        self.settled |= references


@dataclass(frozen=True, slots=True)
class SweepSettings:
    currency: str
    window_days: int
    page_size: int
    max_pages: int
    overlap: timedelta


def sweep_refunds(deps: Deps, state: RefundSweep, settings: SweepSettings, run: OrderRun) -> None:
    """One run's share of the sweep: pages from where the last run stopped, bounded by
    ``settings.max_pages`` and the run's budget."""
    _Sweep(deps, state, settings, run).go()


@dataclass
class _Sweep:
    deps: Deps
    state: RefundSweep
    settings: SweepSettings
    run: OrderRun

    def go(self) -> None:
        state, settings = self.state, self.settings
        since = state.begin(self.deps.clock.now(), settings.window_days)

        def search(cursor: str | None) -> OrderPage:
            return self.deps.shopify.search_orders(
                updated_since=since,
                paid_by_gift_card=True,
                after=cursor,
                page_size=settings.page_size,
            )

        try:
            for page in pages(search, state.cursor, settings.max_pages):
                if not self.settle_page(page.orders):
                    return  # stopped inside the page: the cursor stays before it
                state.cursor = page.cursor
                if page.cursor is None:
                    state.finish(settings.overlap)
                    return
                if self.run.should_stop():
                    return
        except OrderErrors as exc:  # a search or a page-wide read failed: resume at this page
            self.run.search_failed("recently updated orders paid by gift card", exc)

    def settle_page(self, orders: Sequence[ShopifyOrder]) -> bool:
        """Settle the page's unreceipted movements; False if the run had to stop inside it."""
        airtable, state, run = self.deps.airtable, self.state, self.run
        movements = [m for order in orders for m in movements_of(order)]
        asked = [m.reference for m in movements if m.reference not in state.settled]
        if not asked:
            return True
        state.remember(airtable.receipt_references(asked))
        missing = [m for m in movements if m.reference not in state.settled]
        if not missing:
            return True
        cards = airtable.known_card_ids_by_shopify_id(card_gids(missing))
        by_order: dict[str, list[Movement]] = {}
        for movement in missing:
            if movement.card_gid in cards:  # unknown cards need no processing
                by_order.setdefault(movement.order.id, []).append(movement)
        for group in by_order.values():
            order = group[0].order
            if run.should_stop() or not run.claim():
                return False
            run.report.found_work = True
            try:
                self.settle_order(group, cards)
            except OrderErrors as exc:
                state.failed = True
                run.order_failed(order, exc)
            run.between_orders()
        return True

    def settle_order(self, movements: list[Movement], cards: dict[str, CardRow]) -> None:
        order, now = movements[0].order, self.deps.clock.now()
        currency = self.settings.currency
        refund_cards = tuple(dict.fromkeys(cards[m.card_gid].id for m in movements if m.is_refund))

        def record_refund(outcome: OrderOutcome) -> None:
            if refund_cards:
                refund = RecordOrder(
                    order.id, order.name, OrderKind.REFUND, outcome, refund_cards, now
                )
                self.deps.airtable.record_order(refund)

        if order.currency != currency:
            # The untagged pass records the order itself; a late refund on it needs a person too.
            record_refund(OrderOutcome.NEEDS_ATTENTION)
            self.state.remember({m.reference for m in movements})  # recorded for a person: done
            return
        record_refund(OrderOutcome.PROCESSED)
        result = settle(self.deps, movements, cards, currency=currency, now=now)
        if result.problems:
            for problem in result.problems:
                log.warning("order needs attention", order=order.id, name=order.name, why=problem)
            record_refund(OrderOutcome.NEEDS_ATTENTION)
        # Movements settle() left out (a foreign-currency amount) are recorded for a person: done.
        self.state.remember({m.reference for m in movements})
        for movement in result.written:
            self.run.report.outcomes[movement.action.value] += 1
        self.run.report.record("Late " + ("Refund" if refund_cards else "Redemption"))
