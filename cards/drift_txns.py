"""Which of a card's Shopify transactions no receipt accounts for, decided without I/O.

A transaction on a card giftbridge knows is *accounted for* when:

1. its note is giftbridge's (``giftbridge <key>``): the flow that made it (a store redemption, a
   card action) writes its receipt under that key and resumes it after a crash. Such a
   movement whose receipt (:func:`flow_references`) is missing (``unreceipted``: staff deleted
   the request while it was under way) is pending while younger than ``settle_after``, then
   unexplained, recorded under the flow's own reference (its receipt, should it still come,
   lands on the same row);
2. a receipt ``card-txn:<transaction number>:...`` exists: an earlier audit recorded it;
3. an online movement receipt matches it: Redeemed Online for a debit, Refunded Online for a
   credit, on the same card, for the same amount, within ``match_window`` of its time (the
   Shopify redemptions prong keys those by the *order* transaction, which a gift card
   transaction does not name). Each receipt accounts for one transaction, the nearest in time.

Anything else is *unexplained* and gets a receipt of its own, key ``card-txn:<n>``: a transaction
with a note someone else wrote (an adjustment in Shopify's admin) is **Adjusted** with a signed
amount; one without a note (a sale or refund at a till or checkout that no order prong saw) is
**Redeemed Online** (debit) or **Refunded Online** (credit). A note-less one younger than
``settle_after`` is *pending* instead: the online prongs may still record it, and recording it
here first would count it twice.

Balances: the transactions come newest first from the card's current balance, so the balance
before and after each one follows by walking back (each is stated on its receipt).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from cards.keys import NOTE_PREFIX, ActionKey, KeyKind, key_from_note
from cards.money import Money
from cards.vocab import ReceiptAction

CREDIT = "credit"
DEBIT = "debit"
ONLINE_ACTIONS = (ReceiptAction.REDEEMED_ONLINE, ReceiptAction.REFUNDED_ONLINE)
#: The receipt actions the audit reads to account for transactions.
ACCOUNTING_ACTIONS = (*ONLINE_ACTIONS, ReceiptAction.ADJUSTED)


class ShopifyTxn(Protocol):
    """A gift card transaction as Shopify lists it (``amount`` positive, ``kind`` says which
    way: ``credit`` or ``debit``)."""

    @property
    def id(self) -> str: ...

    @property
    def kind(self) -> str: ...

    @property
    def amount(self) -> Money: ...

    @property
    def processed_at(self) -> datetime: ...

    @property
    def note(self) -> str | None: ...


class MovementReceipt(Protocol):
    """A receipt that may account for a transaction."""

    @property
    def reference(self) -> str: ...

    @property
    def action(self) -> ReceiptAction: ...

    @property
    def card_id(self) -> str | None: ...

    @property
    def amount(self) -> Money | None: ...

    @property
    def at(self) -> datetime: ...


def signed(txn: ShopifyTxn) -> Money:
    return txn.amount if txn.kind == CREDIT else -txn.amount


def is_ours(note: str | None) -> bool:
    """A note giftbridge stamped (``giftbridge <key>``), whatever key it carries."""
    return bool(note) and (note or "").startswith(NOTE_PREFIX)


@dataclass(frozen=True, slots=True)
class Unexplained:
    """A transaction that gets a receipt of its own."""

    txn_id: str
    action: ReceiptAction  # Adjusted, Redeemed Online or Refunded Online
    amount: Money  # signed for Adjusted, as the books read it; positive otherwise
    processed_at: datetime
    balance_before: Money | None
    balance_after: Money | None
    has_note: bool
    own_reference: str | None = None  # the flow's own receipt, when that is missing

    @property
    def key(self) -> ActionKey:
        return ActionKey.card_txn(self.txn_id)

    @property
    def reference(self) -> str:
        return self.own_reference or self.key.reference(self.action)


@dataclass
class Verdicts:
    unexplained: list[Unexplained] = field(default_factory=list)
    pending: list[datetime] = field(default_factory=list)  # times of note-less ones too young
    accounted: list[str] = field(default_factory=list)  # transaction ids
    matched: set[str] = field(default_factory=set)  # the online receipts that accounted for one


#: The receipts a card action's money movement gets from its flow (any one accounts for it).
ACTION_RECEIPTS = (ReceiptAction.VOIDED, ReceiptAction.REACTIVATED, ReceiptAction.ADJUSTED)


def flow_references(note: str | None) -> tuple[str, ...]:
    """The receipts the flow that made a transaction writes for it, any one of which accounts
    for it: ``redeem:<request>:redeemed`` for a store redemption's debit; ``action:<request>:``
    voided, reactivated or adjusted for a card action's; none for other notes."""
    key = key_from_note(note)
    if key is None:
        return ()
    if key.kind == KeyKind.REDEEM:
        return (key.reference(ReceiptAction.REDEEMED),)
    if key.kind == KeyKind.ACTION:
        return tuple(key.reference(action) for action in ACTION_RECEIPTS)
    return ()


def _flow_receipt(txn: ShopifyTxn, before: Money | None, after: Money | None) -> Unexplained:
    """The receipt the flow would have written, under its own reference (should the flow still
    write it, it lands on the same row). A card action's kind is read from the movement: a
    debit to zero is a Void, a credit from zero a Reactivate, anything else an Adjust Balance
    (a mislabel moves no money in the books: the sign and amount are the transaction's)."""
    key = key_from_note(txn.note)
    action, amount = ReceiptAction.REDEEMED, txn.amount
    if key is not None and key.kind == KeyKind.ACTION:
        if txn.kind == DEBIT and after is not None and after.is_zero:
            action = ReceiptAction.VOIDED
        elif txn.kind != DEBIT and before is not None and before.is_zero:
            action = ReceiptAction.REACTIVATED
        else:
            action, amount = ReceiptAction.ADJUSTED, signed(txn)
    reference = key.reference(action) if key is not None else None
    return Unexplained(txn.id, action, amount, txn.processed_at, before, after, True, reference)


def recorded_by_audit(reference: str) -> str | None:
    """The transaction number a ``card-txn:<n>:...`` reference names, or None."""
    head, _, rest = reference.partition(":")
    if head != KeyKind.CARD_TXN.value:
        return None
    number, _, _ = rest.partition(":")
    return number or None


def _number(gid: str) -> str:
    return gid.rsplit("/", 1)[-1].split("?", 1)[0]


@dataclass(frozen=True, slots=True)
class Rules:
    now: datetime
    settle_after: timedelta  # note-less transactions younger than this are pending
    match_window: timedelta  # how far an online receipt's At may be from the transaction


def account_for(
    card_id: str,
    txns: Sequence[ShopifyTxn],
    balance_now: Money | None,
    receipts: Sequence[MovementReceipt],
    rules: Rules,
    *,
    since: datetime | None,
    known: Collection[str] = (),
    unreceipted: Collection[str] = (),
) -> Verdicts:
    """Sort ``txns`` (the card's, newest first, with none missing between them and now) into
    accounted, pending and unexplained; only those at or after ``since`` are judged. ``known``:
    transaction ids already known to be accounted for; ``unreceipted``: ids of giftbridge's
    own movements whose flow's receipt is missing. ``balance_now`` (None: unknown) is the card's
    balance after the newest of them."""
    audited = {n for r in receipts if (n := recorded_by_audit(r.reference))}
    audited |= {_number(t) for t in known}
    online = [
        r
        for r in receipts
        if r.card_id == card_id
        and r.action in ONLINE_ACTIONS
        and recorded_by_audit(r.reference) is None
    ]
    used: set[str] = set()
    verdicts = Verdicts()
    after: Money | None = balance_now
    for txn in txns:
        same = after is not None and after.currency == txn.amount.currency
        before = after - signed(txn) if after is not None and same else None
        if since is None or txn.processed_at >= since:
            if txn.id in unreceipted:
                _unreceipted(txn, before, after, rules, verdicts)
            else:
                _judge(txn, before, after, audited, online, used, rules, verdicts)
        after = before
    return verdicts


def _judge(
    txn: ShopifyTxn,
    before: Money | None,
    after: Money | None,
    audited: set[str],
    online: list[MovementReceipt],
    used: set[str],
    rules: Rules,
    verdicts: Verdicts,
) -> None:
    if is_ours(txn.note) or _number(txn.id) in audited:
        verdicts.accounted.append(txn.id)
        return
    match = _nearest_online(txn, online, used, rules.match_window)
    if match is not None:
        used.add(match.reference)
        verdicts.matched.add(match.reference)
        verdicts.accounted.append(txn.id)
        return
    if not txn.note and rules.now - txn.processed_at < rules.settle_after:
        verdicts.pending.append(txn.processed_at)
        return
    if txn.note:
        action, amount = ReceiptAction.ADJUSTED, signed(txn)
    elif txn.kind == DEBIT:
        action, amount = ReceiptAction.REDEEMED_ONLINE, txn.amount
    else:
        action, amount = ReceiptAction.REFUNDED_ONLINE, txn.amount
    verdicts.unexplained.append(
        Unexplained(txn.id, action, amount, txn.processed_at, before, after, bool(txn.note))
    )


def _unreceipted(
    txn: ShopifyTxn, before: Money | None, after: Money | None, rules: Rules, verdicts: Verdicts
) -> None:
    if rules.now - txn.processed_at < rules.settle_after:
        verdicts.pending.append(txn.processed_at)  # the flow may still write it
        return
    verdicts.unexplained.append(_flow_receipt(txn, before, after))


def _nearest_online(
    txn: ShopifyTxn, online: list[MovementReceipt], used: set[str], window: timedelta
) -> MovementReceipt | None:
    wanted = ReceiptAction.REDEEMED_ONLINE if txn.kind == DEBIT else ReceiptAction.REFUNDED_ONLINE
    candidates = [
        r
        for r in online
        if r.reference not in used
        and r.action == wanted
        and r.amount == txn.amount
        and abs(r.at - txn.processed_at) <= window
    ]
    return min(candidates, key=lambda r: abs(r.at - txn.processed_at), default=None)


def windows(times: Sequence[datetime], pad: timedelta) -> list[tuple[datetime, datetime]]:
    """``[t - pad, t + pad]`` around each time, overlapping ones merged, in time order."""
    merged: list[tuple[datetime, datetime]] = []
    for moment in sorted(times):
        start, end = moment - pad, moment + pad
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged
