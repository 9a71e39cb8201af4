"""The Shopify redemptions prong: gift cards spent (and refunded) at Shopify's checkout.

Two passes per run:

1. **Untagged orders.** Orders created in the last ``order_window_days`` that were paid with a
   gift card and do not carry ``redeemed_tag``. For each: cross-check Shopify Orders (a row of
   Kind Redemption means it was handled and only the tag is missing or not yet indexed: tag it
   and stop). Otherwise write a Redeemed Online receipt per successful ``gift_card`` SALE or
   CAPTURE naming a card giftbridge knows (and Refunded Online for refunds already there),
   refresh those cards from Shopify, record the order (Refund row too when it holds refunds),
   then tag it. An order naming no known card is recorded Skipped and tagged.
2. **Late refunds** (:mod:`prongs.orders_sweep`): recently *updated* orders paid by gift card,
   tagged or not, so a refund that arrives days after the tag is found.

Receipts are keyed ``shopify-txn:<n>:redeemed-online`` / ``:refunded-online`` and upserted, so
the passes overlapping, a crash, or a rescan never count a movement twice.

An order naming a known card whose currency is not ``currency`` is recorded Needs Attention and
tagged, with no receipts: the Receipts and Gift Cards amounts are in the shop's currency only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import structlog

from cards.vocab import OrderKind, OrderOutcome, Prong
from clients.commands import RecordOrder
from clients.records import ShopifyOrder
from prongs.deps import Deps
from prongs.orders_common import (
    OrderErrors,
    OrderRun,
    record_then_tag,
    recorded,
    untagged_orders,
    window_start,
)
from prongs.orders_movements import card_gids, movements_of, settle
from prongs.orders_sweep import RefundSweep, SweepSettings, sweep_refunds
from prongs.report import Budget, Gate, RunReport

log = structlog.get_logger("giftbridge.prongs")


@dataclass(frozen=True, slots=True)
class RedemptionsConfig:
    currency: str  # CURRENCY
    redeemed_tag: str = "giftbridge-redeemed"  # REDEEMED_TAG
    order_window_days: int = 60  # ORDER_WINDOW_DAYS: also how far back a fresh sweep looks
    page_size: int = 25
    max_orders_per_run: int = 50  # untagged orders handled per run
    max_pages_per_run: int = 10  # per pass
    # A finished sweep's next one starts this long before it began, for search-index lag.
    sweep_overlap: timedelta = timedelta(minutes=15)
    alert_email: str | None = None  # ALERT_EMAIL, for Giftbridge Alert (prongs.alerts)


def run_once(
    deps: Deps, config: RedemptionsConfig, budget: Budget, gate: Gate, *, sweep: RefundSweep
) -> RunReport:
    """One run of both passes. ``sweep`` is the late-refund sweep's progress, kept by the daemon
    across runs (a fresh :class:`RefundSweep` sweeps the whole window again, as a new process
    does)."""
    run = OrderRun(Prong.SHOPIFY_REDEMPTIONS.value, budget, gate)
    _untagged_pass(deps, config, run)
    if not run.should_stop():
        settings = SweepSettings(
            currency=config.currency,
            window_days=config.order_window_days,
            page_size=config.page_size,
            max_pages=config.max_pages_per_run,
            overlap=config.sweep_overlap,
        )
        sweep_refunds(deps, sweep, settings, run)
    return run.report


def _untagged_pass(deps: Deps, config: RedemptionsConfig, run: OrderRun) -> None:
    since = window_start(deps.clock.now(), config.order_window_days)

    handled = 0
    try:
        for order in untagged_orders(
            deps.shopify,
            since=since,
            tag=config.redeemed_tag,
            page_size=config.page_size,
            max_pages=config.max_pages_per_run,
            paid_by_gift_card=True,
        ):
            handled += 1
            if handled > config.max_orders_per_run or run.should_stop() or not run.claim():
                return
            run.report.found_work = True
            try:
                run.report.record(_handle(deps, config, order, run))
            except OrderErrors as exc:
                run.order_failed(order, exc)
            run.between_orders()
    except OrderErrors as exc:  # the search itself failed
        run.search_failed("untagged orders paid by gift card", exc)


def _handle(deps: Deps, config: RedemptionsConfig, order: ShopifyOrder, run: OrderRun) -> str:
    """Bring one untagged order to its final state; returns the outcome for the report."""
    airtable, shopify = deps.airtable, deps.shopify
    if recorded(airtable.order_rows(order.id), OrderKind.REDEMPTION) is not None:
        shopify.add_tags(order.id, [config.redeemed_tag])
        return "Tagged"
    now = deps.clock.now()

    def finish(outcome: OrderOutcome, card_ids: list[str]) -> str:
        record_then_tag(
            deps,
            order,
            kind=OrderKind.REDEMPTION,
            outcome=outcome,
            card_ids=card_ids,
            tag=config.redeemed_tag,
            now=now,
        )
        return outcome.value

    movements = movements_of(order)
    gids = card_gids(movements)
    cards = airtable.known_card_ids_by_shopify_id(gids) if gids else {}
    if not cards:
        return finish(OrderOutcome.SKIPPED, [])  # historical or online-only cards
    if order.currency != config.currency:
        why = f"the order is in {order.currency}"
        log.warning("order needs attention", order=order.id, name=order.name, why=why)
        return finish(OrderOutcome.NEEDS_ATTENTION, [row.id for row in cards.values()])
    result = settle(deps, movements, cards, currency=config.currency, now=now)
    outcome = OrderOutcome.NEEDS_ATTENTION if result.problems else OrderOutcome.PROCESSED
    for problem in result.problems:
        log.warning("order needs attention", order=order.id, name=order.name, why=problem)
    for movement in result.written:
        run.report.outcomes[movement.action.value] += 1
    refunded = [cards[m.card_gid].id for m in result.written if m.is_refund]
    if refunded:
        card_ids = tuple(dict.fromkeys(refunded))
        refund = RecordOrder(order.id, order.name, OrderKind.REFUND, outcome, card_ids, now)
        airtable.record_order(refund)
    return finish(outcome, result.card_ids)
