"""Note-less Shopify transactions the audit cannot explain that are an order's gift card payment
or refund: recorded under the order prongs' own reference, so the books count them once.

The audit gives the Shopify redemptions prong an hour (``settle_transactions``) to record a
checkout's gift card movement before it records the transaction itself. When that prong is
late (paused, failing, or the daemon was down for longer), both would write: the audit under
``card-txn:<gift card transaction>`` and, later, the prong under ``shopify-txn:<order
transaction>`` for the same money. A gift card transaction does not name its order, so before
writing, the audit looks for the order movement it is: a successful ``gift_card`` SALE or
CAPTURE (for a debit) or REFUND (for a credit) on the same card, for the same amount, within
``match_window`` of it, with no receipt yet (the nearest one, each at most once). Found, it goes
under the movement's reference (``shopify-txn:<n>:redeemed-online`` / ``:refunded-online``):
whichever of the two writes first, the other's upsert lands on the same row.

One search of recently updated orders paid by gift card per run that has such transactions,
from the oldest of them, up to ``MAX_PAGES`` pages, and one read of their receipts. A
transaction with no order found there (a POS sale Shopify records no order for, beyond the
pages read) keeps its own key. When the search fails, the note-less ones wait (pending, as if
younger than the settle time) rather than risk a second receipt.
"""

from __future__ import annotations

from collections.abc import Sequence
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
    run: AuditRun, found: Sequence[tuple[CardRow, Unexplained]]
) -> dict[str, Movement]:
    """The order movement each note-less transaction is, by transaction id (when found).
    Raises ClientError when the orders or their receipts could not be read."""
    wanted = sorted(
        ((row, u) for row, u in found if not u.has_note and row.shopify_id),
        key=lambda pair: pair[1].processed_at,
    )
    if not wanted:
        return {}
    window = run.config.match_window
    movements = _unreceipted_movements_since(run, wanted[0][1].processed_at - window)
    used: set[str] = set()
    paired: dict[str, Movement] = {}
    for row, txn in wanted:
        candidates = [
            m
            for m in movements
            if m.card_gid == row.shopify_id
            and m.action == txn.action
            and m.txn.amount == txn.amount
            and m.reference not in used
            and abs(_at(m, txn.processed_at) - txn.processed_at) <= window
        ]
        best = min(
            candidates, key=lambda m: abs(_at(m, txn.processed_at) - txn.processed_at), default=None
        )
        if best is not None:
            used.add(best.reference)
            paired[txn.txn_id] = best
    return paired


def _at(movement: Movement, default: datetime) -> datetime:
    return movement.txn.processed_at or default


def _unreceipted_movements_since(run: AuditRun, since: datetime) -> list[Movement]:
    """Gift card movements of orders updated since ``since`` that have no receipt yet (one
    with a receipt accounts for another transaction already)."""
    shopify, airtable = run.deps.shopify, run.deps.airtable

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

    found = [
        m for page in pages(search, None, MAX_PAGES) for o in page.orders for m in movements_of(o)
    ]
    if not found:
        return []
    references = [m.reference for m in found]
    written = again_if_ambiguous(partial(airtable.receipt_references, references))
    return [m for m in found if m.reference not in written]


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
