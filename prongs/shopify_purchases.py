"""The Shopify purchases prong: gift cards bought in the web shop.

Orders created in the last ``order_window_days`` without ``processed_tag``, oldest first, paged
and bounded per run. For each order:

- financial status PAID or PARTIALLY_REFUNDED: handled as below; REFUNDED, VOIDED or EXPIRED
  with gift-card items: recorded Skipped at once (no wait for native cards), or Needs Attention
  linking the cards an earlier, cut-short run already issued for it; anything else (PENDING,
  AUTHORIZED, PARTIALLY_PAID, unknown): not paid yet, looked at again next run (no call spent).
- native gift-card line items (``isGiftCard``): Shopify issues and emails those cards. Until it
  has issued one card per native unit (``cards_for_order``) the order is left untagged and looked
  at again next run, at the cost of that one Shopify read (SKU cards of the same order wait
  too: Shopify fulfils gift card products at once unless told otherwise, and issuing them early
  would repeat their resume reads every tick). Then each card gets a Gift Cards row
  (:mod:`prongs.orders_natives`) and nothing is sent.
- line items whose SKU is in ``gift_card_skus``: one card per unit, issued exactly once under
  ``order:<order>:<line>:<unit>`` by :func:`prongs.issuance.issue_card` (Source Online, receipts
  Created, Purchased Online, Sent), emailed to the recipient the line item names, or else to the
  customer; the buyer of a gift gets the purchase confirmation.
- no gift-card items at all: tagged, with no Shopify Orders row (there is nothing to record, and
  an untagged order would be searched again every run for the whole window).

Before acting, the Shopify Orders table is cross-checked: an order with a Purchase row was
finished (the search index lags the tag), so it is only tagged. A finished order is recorded
(Kind Purchase, linked cards), THEN tagged. A crash between units resumes by key: units already
issued are found by Origin Key and not issued again.

Needs Attention (recorded, tagged, nothing more happens by itself): the order's currency is not
the shop's ``currency`` (nothing issued or recorded), a SKU price outside the card value limits
(that line is not issued), a recipient email that is not an address (the buyer gets the card), no
email for a card's holder, an email that kept failing, a card that could not be issued under its
key. To have giftbridge look again, delete the order's Purchase row and remove the tag.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import structlog

from cards.addresses import is_email
from cards.keys import ActionKey
from cards.vocab import (
    CardSource,
    Kind,
    OrderKind,
    OrderOutcome,
    Prong,
    ReceiptAction,
    ReceiptSource,
)
from clients.records import CardRow, LineItem, ShopifyCard, ShopifyOrder
from prongs.deps import CardConfig, Deps
from prongs.exactly_once import again_if_ambiguous
from prongs.issuance import IssuanceAbandoned, IssueOrder, issue_card
from prongs.orders_common import (
    OrderErrors,
    OrderRun,
    record_then_tag,
    recorded,
    untagged_orders,
    window_start,
)
from prongs.orders_lines import holder_for, native_units, sku_lines, units
from prongs.orders_natives import record_natives
from prongs.report import Budget, Gate, RunReport

log = structlog.get_logger("giftbridge.prongs")

PAID_STATUSES = frozenset({"PAID", "PARTIALLY_REFUNDED"})
DEAD_STATUSES = frozenset({"REFUNDED", "VOIDED", "EXPIRED"})


@dataclass(frozen=True, slots=True)
class PurchasesConfig:
    card: CardConfig  # currency, business name, code length, limits, expiry, pepper, key
    gift_card_skus: frozenset[str] = frozenset()  # SHOPIFY_GIFT_CARD_SKUS
    processed_tag: str = "giftbridge-processed"  # PROCESSED_TAG
    order_window_days: int = 60  # ORDER_WINDOW_DAYS
    page_size: int = 25
    max_orders_per_run: int = 20  # orders acted on per run (waiting ones do not count)
    max_pages_per_run: int = 10
    alert_email: str | None = None  # ALERT_EMAIL, for Giftbridge Alert (prongs.alerts)


def run_once(deps: Deps, config: PurchasesConfig, budget: Budget, gate: Gate) -> RunReport:
    run = OrderRun(Prong.SHOPIFY_PURCHASES.value, budget, gate)
    since = window_start(deps.clock.now(), config.order_window_days)

    acted: set[str] = set()
    try:
        for order in untagged_orders(
            deps.shopify,
            since=since,
            tag=config.processed_tag,
            page_size=config.page_size,
            max_pages=config.max_pages_per_run,
        ):
            if not _visit(deps, config, run, order, acted):
                return run.report
    except OrderErrors as exc:  # the search itself failed
        run.search_failed("untagged orders", exc)
    return run.report


def _visit(
    deps: Deps, config: PurchasesConfig, run: OrderRun, order: ShopifyOrder, acted: set[str]
) -> bool:
    """Handle one order if it is ready; False when the run must stop."""
    status = (order.financial_status or "").upper()
    if status not in PAID_STATUSES | DEAD_STATUSES:
        run.report.outcomes["Awaiting payment"] += 1
        return True
    try:
        # A dead order is recorded Skipped without its native cards: never wait for them
        # (refunded before fulfilment, Shopify issues none).
        natives = [] if status in DEAD_STATUSES else _read_native_cards_from_shopify(deps, order)
    except OrderErrors as exc:
        run.order_failed(order, exc)
        return True
    if natives is None:
        run.report.outcomes["Awaiting Shopify's cards"] += 1
        return True
    acted.add(order.id)
    if len(acted) > config.max_orders_per_run or run.should_stop() or not run.claim():
        return False
    run.report.found_work = True
    try:
        outcome = _OrderWork(deps, config, run, order, natives).handle()
    except OrderErrors as exc:
        run.order_failed(order, exc)
        return True
    if outcome is None:
        return False  # the budget ran out between units; the order resumes next run
    run.report.record(outcome)
    run.between_orders()
    return True


def _read_native_cards_from_shopify(deps: Deps, order: ShopifyOrder) -> list[ShopifyCard] | None:
    """Shopify's cards for the native units, or None while some are not issued yet."""
    wanted = native_units(order)
    if wanted == 0:
        return []
    cards = deps.shopify.cards_for_order(order.id)
    return cards if len(cards) >= wanted else None


@dataclass
class _OrderWork:
    deps: Deps
    config: PurchasesConfig
    run: OrderRun
    order: ShopifyOrder
    natives: list[ShopifyCard]
    card_ids: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def handle(self) -> str | None:
        """The order's outcome, or None when the run stopped in the middle of it."""
        airtable, shopify, order = self.deps.airtable, self.deps.shopify, self.order
        lines = sku_lines(order, self.config.gift_card_skus)
        if not lines and native_units(order) == 0:
            shopify.add_tags(order.id, [self.config.processed_tag])
            return "No gift cards"
        if recorded(airtable.order_rows(order.id), OrderKind.PURCHASE) is not None:
            shopify.add_tags(order.id, [self.config.processed_tag])
            return "Tagged"
        currency = self.config.card.currency
        if order.currency != currency:
            return self.record_and_tag(
                OrderOutcome.NEEDS_ATTENTION, f"the order is in {order.currency}"
            )
        if (order.financial_status or "").upper() in DEAD_STATUSES:
            return self.finish_dead(lines)
        for line in lines:
            if not self.issue_line(line):
                return None
        natives = record_natives(self.deps, order, self.natives, currency=currency)
        self.card_ids += natives.card_ids
        self.problems += natives.problems
        if natives.card_ids:
            self.run.report.outcomes["Native recorded"] += len(natives.card_ids)
        outcome = OrderOutcome.NEEDS_ATTENTION if self.problems else OrderOutcome.PROCESSED
        return self.record_and_tag(outcome)

    def finish_dead(self, lines: list[LineItem]) -> str:
        """Skipped, unless an earlier run cut short issued some units before the order died:
        those cards hold paid-for value a person must look at (Needs Attention, linked)."""
        status = self.order.financial_status
        for line in lines:
            for unit in units(line):
                row = self.unit_row(str(ActionKey.order_unit(self.order.id, line.id, unit)))
                if row is not None:
                    self.card_ids.append(row.id)
        if self.card_ids:
            why = f"the order is {status} but {len(self.card_ids)} of its cards were issued"
            return self.record_and_tag(OrderOutcome.NEEDS_ATTENTION, why)
        return self.record_and_tag(OrderOutcome.SKIPPED, f"the order is {status}")

    def unit_row(self, origin: str) -> CardRow | None:
        return again_if_ambiguous(lambda: self.deps.airtable.find_card(origin_key=origin))

    def issue_line(self, line: LineItem) -> bool:
        """Issue every unit of one SKU line; False when the run must stop between units."""
        order = self.order
        problem = self.config.card.limits.problem(line.unit_price)
        if problem is not None:
            self.problems.append(f"{line.sku}: {problem}; not issued")
            return True
        holder = holder_for(line, order)
        if holder.recipient_problem:
            self.problems.append(f"{line.sku}: {holder.recipient_problem}")
        buyer_email = order.customer_email if is_email(order.customer_email) else None
        if not holder.is_gift and buyer_email is None:
            self.problems.append(f"{line.sku}: no email address to send the card to")
        for unit in units(line):
            if self.run.should_stop():
                return False
            ticket = IssueOrder(
                key=ActionKey.order_unit(order.id, line.id, unit),
                amount=line.unit_price,
                source=CardSource.ONLINE,
                receipt_source=ReceiptSource.ONLINE,
                purchase_receipts=(ReceiptAction.PURCHASED_ONLINE,),
                kind=Kind.GIFT_CARD,
                theme=holder.theme,
                is_gift=holder.is_gift,
                purchaser_name=order.customer_name,
                purchaser_email=buyer_email,
                recipient_name=holder.recipient_name,
                recipient_email=holder.recipient_email,
                message=holder.message,
                shopify_order=order.name,
                order_id=order.id,
            )
            try:
                issued = issue_card(self.deps, self.config.card, ticket)
            except IssuanceAbandoned as exc:
                self.problems.append(f"{ticket.key}: {exc}")
                continue
            self.card_ids.append(issued.card.id)
            self.run.report.outcomes["Card issued"] += 1
            for audience in issued.failed:
                self.problems.append(f"{ticket.key}: the {audience.value} email kept failing")
            self.run.between_orders()
        return True

    def record_and_tag(self, outcome: OrderOutcome, problem: str | None = None) -> str:
        if problem:
            self.problems.append(problem)
        for line in self.problems:
            log.warning(
                "order needs attention", order=self.order.id, name=self.order.name, why=line
            )
        record_then_tag(
            self.deps,
            self.order,
            kind=OrderKind.PURCHASE,
            outcome=outcome,
            card_ids=self.card_ids,
            tag=self.config.processed_tag,
            now=self.deps.clock.now(),
        )
        return outcome.value
