"""Gift card money that moved at Shopify's checkout: redemptions and refunds on orders.

A successful ``gift_card`` SALE or CAPTURE spent value from the card it names; a successful
``gift_card`` REFUND put value back. Each is one *movement*, keyed ``shopify-txn:<n>`` by its
order transaction, so its receipt (``...:redeemed-online`` or ``...:refunded-online``) is upserted
on a reference that can never be written twice, however often an order is looked at.

Settling movements refreshes each card's Airtable mirror from Shopify (Balance, Last Synced At,
Last Activity At, Status by balance) and then upserts the receipts. Shopify moved the money;
giftbridge only observes it, so nothing here ever calls a debit or credit.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from cards.keys import ActionKey
from cards.money import Money
from cards.status import require_transition, status_for_balance
from cards.vocab import CardStatus, ReceiptAction, ReceiptSource
from clients.commands import MirrorBalance
from clients.records import (
    CardRow,
    OrderTransaction,
    Receipt,
    ShopifyCard,
    ShopifyOrder,
)
from prongs.deps import Deps
from prongs.orders_common import GIFT_CARD_GATEWAY

_SPEND_KINDS = frozenset({"SALE", "CAPTURE"})
_REFUND_KIND = "REFUND"
_SUCCESS = "SUCCESS"


@dataclass(frozen=True, slots=True)
class Movement:
    order: ShopifyOrder
    txn: OrderTransaction
    card_gid: str
    action: ReceiptAction  # Redeemed Online or Refunded Online

    @property
    def key(self) -> ActionKey:
        return ActionKey.shopify_txn(self.txn.id)

    @property
    def reference(self) -> str:
        return self.key.reference(self.action)

    @property
    def is_refund(self) -> bool:
        return self.action == ReceiptAction.REFUNDED_ONLINE


def movements_of(order: ShopifyOrder) -> list[Movement]:
    """The order's successful gift-card sales, captures and refunds that name a card."""
    found = []
    for txn in order.transactions:
        if txn.gateway.lower() != GIFT_CARD_GATEWAY or txn.status.upper() != _SUCCESS:
            continue
        if not txn.gift_card_id:
            continue  # no card named: nothing to attribute (the audit compares totals)
        kind = txn.kind.upper()
        if kind in _SPEND_KINDS:
            found.append(Movement(order, txn, txn.gift_card_id, ReceiptAction.REDEEMED_ONLINE))
        elif kind == _REFUND_KIND:
            found.append(Movement(order, txn, txn.gift_card_id, ReceiptAction.REFUNDED_ONLINE))
    return found


def card_gids(movements: Iterable[Movement]) -> list[str]:
    return list(dict.fromkeys(m.card_gid for m in movements))


@dataclass
class Settlement:
    """What settling some movements did: the cards touched and anything a person should see."""

    card_ids: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    written: list[Movement] = field(default_factory=list)


def settle(
    deps: Deps,
    movements: Sequence[Movement],
    cards: dict[str, CardRow],
    *,
    currency: str,
    now: datetime,
) -> Settlement:
    """Refresh every card these movements name, then upsert one receipt per movement.

    ``cards`` maps card GIDs to their Gift Cards rows; movements of cards not in it are left
    alone (giftbridge does not know those cards). Receipts come last: once a receipt exists the
    movement counts as done, so everything it depends on is written before it.
    """
    result = Settlement()
    receipts: list[Receipt] = []
    for gid in card_gids(movements):
        row = cards.get(gid)
        if row is None:
            continue
        mine = [m for m in movements if m.card_gid == gid]
        balance, details = _mirror_from_shopify(deps, row, mine, currency=currency, now=now)
        if details:
            result.problems.append(f"{row.masked_code or gid}: {details}")
        result.card_ids.append(row.id)
        for movement in mine:
            if movement.txn.amount.currency != currency:
                result.problems.append(f"{movement.txn.id} is in {movement.txn.amount.currency}")
                continue
            receipts.append(_receipt(movement, row, balance, details, now))
            result.written.append(movement)
    if receipts:
        deps.airtable.upsert_receipts(receipts)
    return result


def _mirror_from_shopify(
    deps: Deps,
    row: CardRow,
    movements: Sequence[Movement],
    *,
    currency: str,
    now: datetime,
) -> tuple[Money | None, str | None]:
    """Mirror Shopify's balance into the card's row; (balance, problem or None)."""
    gid = row.shopify_id or movements[0].card_gid
    # Shared with the store prong: a till's debit and its balance write never interleave with
    # this read-and-mirror, which would otherwise write back a balance from before the debit.
    with deps.card_locks.hold(gid):
        return _read_shopify_and_mirror(deps, row, gid, movements, currency=currency, now=now)


def _read_shopify_and_mirror(
    deps: Deps,
    row: CardRow,
    gid: str,
    movements: Sequence[Movement],
    *,
    currency: str,
    now: datetime,
) -> tuple[Money | None, str | None]:
    card = deps.shopify.get_card(gid)
    if card is None:
        return None, "Shopify no longer has this card; balance not refreshed"
    if card.balance.currency != currency:
        return None, f"the card is in {card.balance.currency}; balance not refreshed"
    current = row.status or CardStatus.ACTIVE
    target = status_for_balance(current, card.balance.is_zero)
    if target != current:
        require_transition(current, target)
    mirror = MirrorBalance(
        row.id,
        card.balance,
        synced_at=now,
        status=target if target != current else None,
        activity_at=_last_activity(row, movements, now),
    )
    deps.airtable.update_card(mirror)
    return card.balance, _deactivated_note(card)


def _deactivated_note(card: ShopifyCard) -> str | None:
    # giftbridge never deactivates a card (it voids by debiting), so a disabled card was
    # switched off in Shopify's admin. The money still moved; the status stays as the balance
    # says and the receipt carries the note for the operator and the audit.
    if card.enabled:
        return None
    return "the card is deactivated in Shopify"


def _last_activity(row: CardRow, movements: Sequence[Movement], now: datetime) -> datetime:
    times = [m.txn.processed_at or now for m in movements]
    if row.last_activity_at is not None:
        times.append(row.last_activity_at)
    return max(times)


def _receipt(
    movement: Movement, row: CardRow, balance: Money | None, details: str | None, now: datetime
) -> Receipt:
    text = f"Shopify order {movement.order.name}"
    if details:
        text += f"; {details}"
    return Receipt(
        reference=movement.reference,
        action=movement.action,
        at=movement.txn.processed_at or now,
        source=ReceiptSource.ONLINE,
        card_id=row.id,
        amount=movement.txn.amount,
        # Shopify's balance when giftbridge read it, which is after this movement (and after
        # anything later): the balance before is not knowable from an order transaction.
        balance_after=balance,
        shopify_reference=movement.txn.id,
        details=text,
    )
