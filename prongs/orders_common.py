"""What the two Shopify order prongs share: the run's bookkeeping, paging, record-then-tag.

Both prongs follow one rule for an order they have finished with: record it in Shopify Orders
first, then add the tag (``tagsAdd``). The tag only keeps the order out of the next search; the
Shopify Orders row is what a later run cross-checks, because the search index can lag the tag.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from cards.errors import InvariantViolation
from cards.vocab import OrderKind, OrderOutcome
from clients.commands import RecordOrder
from clients.errors import ClientError
from clients.ports import ShopifyPort
from clients.records import OrderPage, OrderRow, ShopifyOrder
from prongs.deps import Deps
from prongs.report import Budget, Gate, RunReport

GIFT_CARD_GATEWAY = "gift_card"

# What one order can fail with without ending the run: the next run picks the order up again.
OrderErrors = (ClientError, InvariantViolation)


def window_start(now: datetime, days: int) -> datetime:
    return now - timedelta(days=days)


class OrderRun:
    """One run's report, budget and gate. The gate is claimed once, before the first write."""

    def __init__(self, prong: str, budget: Budget, gate: Gate) -> None:
        self.report = RunReport(prong)
        self._budget = budget
        self._gate = gate
        self._claimed: bool | None = None

    def claim(self) -> bool:
        """True when this run may write; asks the gate the first time only."""
        if self._claimed is None:
            self._claimed = self._gate.claim()
            if not self._claimed:
                self.report.skipped = "the lease is held elsewhere or the prong is Paused"
        return self._claimed

    @property
    def refused(self) -> bool:
        return self._claimed is False

    def should_stop(self) -> bool:
        """Checked between orders: a refused gate or a spent budget ends the run here."""
        if self.refused:
            return True
        if self._budget.exhausted:
            self.report.budget_exhausted = True
            return True
        return False

    def between_orders(self) -> None:
        if self._claimed:
            self._gate.heartbeat()

    def search_failed(self, what: str, error: Exception) -> None:
        # The pass ends here; nothing was half done, the next run searches again.
        self.report.errors.append(f"{what}: {type(error).__name__}: {error}")

    def order_failed(self, order: ShopifyOrder, error: Exception) -> None:
        # One line an operator can search: the order's name and GID, never a code.
        self.report.errors.append(f"{order.name} ({order.id}): {type(error).__name__}: {error}")


@dataclass(frozen=True, slots=True)
class PageResult:
    orders: tuple[ShopifyOrder, ...]
    cursor: str | None  # where the next page starts; None when this was the last page


def pages(
    search: Callable[[str | None], OrderPage], start: str | None, max_pages: int
) -> Iterator[PageResult]:
    """Up to ``max_pages`` pages from cursor ``start``; each with the cursor that follows it."""
    cursor = start
    for _ in range(max_pages):
        page = search(cursor)
        cursor = page.end_cursor if page.has_next_page else None
        yield PageResult(page.orders, cursor)
        if cursor is None:
            return


def untagged_orders(
    shopify: ShopifyPort,
    *,
    since: datetime,
    tag: str,
    page_size: int,
    max_pages: int,
    paid_by_gift_card: bool = False,
) -> Iterator[ShopifyOrder]:
    """Orders created since ``since`` without ``tag``, each once. Re-checks the tag on every
    order: the search index can lag a tag just added."""

    def search(cursor: str | None) -> OrderPage:
        return shopify.search_orders(
            created_since=since,
            without_tag=tag,
            paid_by_gift_card=paid_by_gift_card,
            after=cursor,
            page_size=page_size,
        )

    seen: set[str] = set()
    for page in pages(search, None, max_pages):
        for order in page.orders:
            if order.id in seen or is_tagged(order, tag):
                continue  # a page boundary repeated it, or the index lagged the tag
            seen.add(order.id)
            yield order


def recorded(rows: Sequence[OrderRow], kind: OrderKind) -> OrderRow | None:
    """The Shopify Orders row of ``kind``, if this order has one (any outcome is final)."""
    return next((row for row in rows if row.kind == kind), None)


def record_then_tag(
    deps: Deps,
    order: ShopifyOrder,
    *,
    kind: OrderKind,
    outcome: OrderOutcome,
    card_ids: Sequence[str],
    tag: str,
    now: datetime,
) -> None:
    """Record the order, then tag it: a tag never exists without its Shopify Orders row."""
    card_ids = tuple(dict.fromkeys(card_ids))
    deps.airtable.record_order(RecordOrder(order.id, order.name, kind, outcome, card_ids, now))
    deps.shopify.add_tags(order.id, [tag])


def is_tagged(order: ShopifyOrder, tag: str) -> bool:
    # Shopify tags compare without regard to case.
    return tag.lower() in {t.lower() for t in order.tags}
