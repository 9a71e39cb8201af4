"""Note-less Shopify transactions the audit cannot explain that are an order's gift card payment
or refund: recorded under the order prongs' own reference, so the books count them once.

The audit gives the Shopify redemptions prong an hour (``settle_transactions``) to record a
checkout's gift card movement before it records the transaction itself. When that prong is
late (paused, failing, or the daemon was down for longer), both would write: the audit under
``card-txn:<gift card transaction>`` and, later, the prong under ``shopify-txn:<order
transaction>`` for the same money. A gift card transaction does not name its order, so before
writing, the audit looks for the order movement it is: a successful ``gift_card`` SALE or
CAPTURE (for a debit) or REFUND (for a credit) on the same card, for the same amount, within
``match_window`` of it, whose receipt did not account for another transaction (nearest in
time first, each at most once). Paired, the receipt goes under the movement's
reference (``shopify-txn:<n>:redeemed-online`` / ``:refunded-online``): whichever of the two
writes first, the other's upsert lands on the same row.

One search of recently updated orders paid by gift card per run that has such transactions,
from the oldest of them, up to ``MAX_PAGES`` pages. A transaction with no order found there (a
POS sale Shopify records no order for, beyond the pages read) keeps its own key. When the
search fails, the note-less ones wait (pending, as if younger than the settle time) rather than
risk a second receipt.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from functools import partial

from cards.drift_txns import Unexplained
from cards.vocab import ReceiptSource
from clients.records import CardRow, OrderPage, Receipt
from prongs.audit_run import AuditRun
from prongs.exactly_once import again_if_ambiguous
from prongs.orders_common import pages
from prongs.orders_movements import Movement, movements_of

MAX_PAGES = 20
PAGE_SIZE = 25


def order_movements_of(
    run: AuditRun, found: Sequence[tuple[CardRow, Unexplained]], taken: Collection[str]
) -> dict[str, Movement]:
    """The order movement each note-less transaction is, by transaction id (when found).

    ``taken``: the references of online receipts that accounted for another transaction (in
    this run's comparison); their movements are not paired again. Pairs are made nearest in
    time first, each movement at most once. Raises ClientError when the orders could not be
    read."""
    wanted = [(row, u) for row, u in found if not u.has_note and row.shopify_id]
    if not wanted:
        return {}
    window = run.config.match_window
    since = min(u.processed_at for _, u in wanted) - window
    movements = [m for m in _movements_since(run, since) if m.reference not in taken]
    candidates = sorted(
        (abs(_at(m, u.processed_at) - u.processed_at), u.txn_id, m.reference, m)
        for row, u in wanted
        for m in movements
        if m.card_gid == row.shopify_id
        and m.action == u.action
        and m.txn.amount == u.amount
        and abs(_at(m, u.processed_at) - u.processed_at) <= window
    )
    paired: dict[str, Movement] = {}
    used: set[str] = set()
    for _, txn_id, reference, movement in candidates:
        if txn_id not in paired and reference not in used:
            paired[txn_id] = movement
            used.add(reference)
    return paired


def _at(movement: Movement, default: datetime) -> datetime:
    return movement.txn.processed_at or default


def _movements_since(run: AuditRun, since: datetime) -> list[Movement]:
    """Gift card movements of the orders paid by gift card updated since ``since``."""
    shopify = run.deps.shopify

    def search(cursor: str | None) -> OrderPage:
        return again_if_ambiguous(
            partial(
                shopify.search_orders,
                updated_since=since,
                paid_by_gift_card=True,
                after=cursor,
                page_size=PAGE_SIZE,
            )
        )

    return [
        m for page in pages(search, None, MAX_PAGES) for o in page.orders for m in movements_of(o)
    ]


def movement_receipt(row: CardRow, found: Unexplained, movement: Movement) -> Receipt:
    """The receipt the Shopify redemptions prong writes for ``movement``, as the audit can."""
    return Receipt(
        reference=movement.reference,
        action=movement.action,
        at=movement.txn.processed_at or found.processed_at,
        source=ReceiptSource.ONLINE,
        card_id=row.id,
        amount=movement.txn.amount,
        balance_before=found.balance_before,
        balance_after=found.balance_after,
        shopify_reference=movement.txn.id,
        details=(
            f"Shopify order {movement.order.name}; recorded by the audit (gift card "
            f"transaction {found.txn_id}) before the Shopify redemptions prong"
        ),
    )
