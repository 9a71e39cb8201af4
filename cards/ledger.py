"""The books: what each receipt means for the money owed on gift cards. Pure, no I/O.

The liability is the value of cards that holders can still spend. Every figure of
``giftbridge report`` and the status page comes from the entries :func:`keep_books` makes:

- **Issued**: each issued card once, from its Gift Cards row: Initial Value at Issued At. One
  rule for every card, whether giftbridge issued it (Created receipt) or Shopify did (native
  cards, Source Online or Imported, have no Created receipt). Created, Purchased, Purchased
  Online, Purchased from Portal and Activated from Portal receipts repeat that value for the
  activity log and are not counted again. A card with no Issued At (Pending, or voided while
  Pending: a creation abandoned) was never sold: it and its receipts are left out.
- **Redeemed** (in store) and **Redeemed Online** reduce the liability by Amount.
- **Refunded Online** adds Amount back (Shopify put the value back on the card).
- **Voided** reduces it by the amount debited; **Reactivated** adds the amount credited back.
  The report's "voided" is net of reactivations.
- **Expired** reduces it by Amount (or Balance Before: the balance that expired). An
  **Expiry Changed** on a card the books show as expired reinstates that amount (an operator
  extended the expiry; Shopify had kept the balance). The report's "expired" is net of these.
- **Adjusted** moves it by a signed Amount: negative debits, positive credits (when Amount is
  positive but Balance After is below Balance Before, it was a debit).
- **Drift Detected** and **Drift Repaired** change nothing: they repair Airtable's mirror of a
  balance; a Shopify transaction the audit found gets its own Adjusted or Redeemed Online receipt.
- Every other action (Sent, Email Failed, Balance Checked, Redemption Rejected, Reminder Sent,
  Certificate Regenerated, Alert Sent) moves no money.

So: liability = issued - redeemed - voided - expired + refunded + net adjustments.

Receipts carry no currency of their own: each is in its card's Currency. Receipts of a go-live
rehearsal (:func:`is_rehearsal`) are left out, and so is every card a rehearsal issued.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from cards.money import Money, MoneyError
from cards.vocab import CardSource, CardStatus, ReceiptAction

A = ReceiptAction

# --- rehearsals: the ONE place that says which receipts a go-live rehearsal wrote ------------
REHEARSAL_REFERENCE_PREFIX = "rehearsal:"
REHEARSAL_DETAILS_PREFIX = "rehearsal"


def is_rehearsal(reference: str | None, details: str | None) -> bool:
    """A receipt written by ``giftbridge check --rehearse``: its Reference starts with
    ``rehearsal:`` or its Details with ``rehearsal`` (any case)."""
    return (reference or "").startswith(REHEARSAL_REFERENCE_PREFIX) or (
        (details or "").lstrip().lower().startswith(REHEARSAL_DETAILS_PREFIX)
    )


#: The receipts that issue a card (a rehearsal one marks its card as a rehearsal card).
ISSUING_ACTIONS = frozenset(
    {A.CREATED, A.PURCHASED, A.PURCHASED_ONLINE, A.PURCHASED_FROM_PORTAL, A.ACTIVATED_FROM_PORTAL}
)
#: The receipts that move money (and the one that may reinstate an expired balance).
MONEY_ACTIONS = frozenset(
    {
        A.REDEEMED,
        A.REDEEMED_ONLINE,
        A.REFUNDED_ONLINE,
        A.VOIDED,
        A.REACTIVATED,
        A.EXPIRED,
        A.EXPIRY_CHANGED,
        A.ADJUSTED,
    }
)
#: What a report reads from Receipts: everything else is activity, not money.
BOOKED_ACTIONS = ISSUING_ACTIONS | MONEY_ACTIONS


@dataclass(frozen=True, slots=True)
class ReceiptFacts:
    """One Receipts row as the books need it. Amounts are exact Decimals: the currency is the
    card's, known once the card is."""

    reference: str
    action: ReceiptAction
    at: datetime
    card_id: str | None = None
    store_id: str | None = None
    amount: Decimal | None = None
    balance_before: Decimal | None = None
    balance_after: Decimal | None = None
    details: str | None = None

    @property
    def rehearsal(self) -> bool:
        return is_rehearsal(self.reference, self.details)


@dataclass(frozen=True, slots=True)
class CardFacts:
    """One Gift Cards row as the books need it."""

    id: str
    currency: str
    status: CardStatus | None = None
    initial_value: Money | None = None
    balance: Money | None = None
    source: CardSource | None = None
    store_ids: tuple[str, ...] = ()
    issued_at: datetime | None = None
    expires_on: date | None = None
    masked_code: str | None = None
    origin_key: str | None = None

    @property
    def issued(self) -> bool:
        """Sold: it has an Issued At and a value (a Pending or abandoned card has neither)."""
        return (
            self.issued_at is not None
            and self.initial_value is not None
            and self.status not in (None, CardStatus.PENDING)
        )

    @property
    def outstanding(self) -> Money:
        """What the card's row says is still owed: the Balance of an Active card, else zero
        (an Expired card's balance is breakage even though Shopify keeps it)."""
        if self.status == CardStatus.ACTIVE and self.balance is not None:
            return self.balance
        return Money.zero(self.currency)

    @property
    def rehearsal(self) -> bool:
        return (self.origin_key or "").startswith(REHEARSAL_REFERENCE_PREFIX)


class Book(StrEnum):
    """The line of the books an entry goes to."""

    ISSUED = "issued"
    REDEEMED_IN_STORE = "redeemed in store"
    REDEEMED_ONLINE = "redeemed online"
    REFUNDED = "refunded online"
    VOIDED = "voided"
    REACTIVATED = "reactivated"
    EXPIRED = "expired"
    EXPIRY_REVERSED = "expiry extended"
    ADJUSTED = "adjusted"


#: +1: the entry adds to what is owed; -1: it reduces it. ADJUSTED entries carry their sign.
EFFECT: dict[Book, int] = {
    Book.ISSUED: 1,
    Book.REDEEMED_IN_STORE: -1,
    Book.REDEEMED_ONLINE: -1,
    Book.REFUNDED: 1,
    Book.VOIDED: -1,
    Book.REACTIVATED: 1,
    Book.EXPIRED: -1,
    Book.EXPIRY_REVERSED: 1,
    Book.ADJUSTED: 1,
}
_SIMPLE: dict[ReceiptAction, Book] = {
    A.REDEEMED: Book.REDEEMED_IN_STORE,
    A.REDEEMED_ONLINE: Book.REDEEMED_ONLINE,
    A.REFUNDED_ONLINE: Book.REFUNDED,
    A.VOIDED: Book.VOIDED,
    A.REACTIVATED: Book.REACTIVATED,
}


@dataclass(frozen=True, slots=True)
class Entry:
    """One movement of the liability. ``amount`` is positive, except an adjustment's (signed)."""

    at: datetime
    card_id: str
    book: Book
    amount: Money
    store_id: str | None = None

    @property
    def change(self) -> Money:
        """How much this entry changes the liability."""
        return self.amount if EFFECT[self.book] > 0 else -self.amount


@dataclass
class Books:
    """Entries per card, and what was left out and why (the report says so)."""

    entries: list[Entry] = field(default_factory=list)
    cards: dict[str, CardFacts] = field(default_factory=dict)  # issued, not rehearsal
    rehearsal_receipts: int = 0
    rehearsal_cards: int = 0
    unknown_card_receipts: int = 0  # money receipts of cards with no Gift Cards row
    unissued_card_receipts: int = 0  # money receipts of cards never issued
    problems: list[str] = field(default_factory=list)


def _money(value: Decimal | None, currency: str) -> Money | None:
    return None if value is None else Money.of(value, currency)


def _moved(receipt: ReceiptFacts, currency: str) -> Money | None:
    """The amount a money receipt moved (always positive), from Amount or the balances."""
    amount = _money(receipt.amount, currency)
    if amount is not None:
        return abs(amount)
    before = _money(receipt.balance_before, currency)
    after = _money(receipt.balance_after, currency)
    if before is not None and after is not None:
        return abs(before - after)
    return None


def _adjustment(receipt: ReceiptFacts, currency: str) -> Money | None:
    amount = _money(receipt.amount, currency)
    before = _money(receipt.balance_before, currency)
    after = _money(receipt.balance_after, currency)
    if amount is None:
        return after - before if before is not None and after is not None else None
    if amount.is_positive and before is not None and after is not None and after < before:
        return -amount
    return amount


class _Bookkeeper:
    def __init__(self, books: Books) -> None:
        self.books = books
        self.expired: dict[str, Money] = {}  # card id -> the balance its expiry took

    def book(self, receipt: ReceiptFacts, card: CardFacts) -> None:
        currency = card.currency
        action = receipt.action
        if action in _SIMPLE:
            self._add(receipt, card, _SIMPLE[action], _moved(receipt, currency))
        elif action == A.ADJUSTED:
            self._add(receipt, card, Book.ADJUSTED, _adjustment(receipt, currency))
        elif action == A.EXPIRED:
            amount = _money(receipt.amount, currency) or _money(receipt.balance_before, currency)
            if amount is not None:
                self.expired[card.id] = abs(amount)
            self._add(receipt, card, Book.EXPIRED, abs(amount) if amount is not None else None)
        elif action == A.EXPIRY_CHANGED:
            reinstated = self.expired.pop(card.id, None)
            if reinstated is not None:
                self._add(receipt, card, Book.EXPIRY_REVERSED, reinstated)

    def _add(
        self, receipt: ReceiptFacts, card: CardFacts, book: Book, amount: Money | None
    ) -> None:
        if amount is None:
            self.books.problems.append(
                f"receipt {receipt.reference} ({receipt.action.value}) has no Amount: not counted"
            )
            return
        if not amount.is_zero:
            self.books.entries.append(
                Entry(receipt.at, card.id, book, amount, receipt.store_id or _store(card))
            )


def _store(card: CardFacts) -> str | None:
    return card.store_ids[0] if card.store_ids else None


def _rehearsal_cards(cards: dict[str, CardFacts], ordered: list[ReceiptFacts]) -> set[str]:
    """Cards a rehearsal issued: their Origin Key or one of their issuing receipts says so."""
    found = {c.id for c in cards.values() if c.rehearsal}
    found |= {
        r.card_id for r in ordered if r.rehearsal and r.action in ISSUING_ACTIONS and r.card_id
    }
    return found


def _issue(books: Books, cards: dict[str, CardFacts], rehearsal_cards: set[str]) -> None:
    for card in cards.values():
        if card.id in rehearsal_cards or not card.issued:
            continue
        if card.issued_at is None or card.initial_value is None:  # pragma: no cover - issued
            continue
        books.cards[card.id] = card
        books.entries.append(
            Entry(card.issued_at, card.id, Book.ISSUED, card.initial_value, _store(card))
        )


def _card_of(books: Books, receipt: ReceiptFacts, known: dict[str, CardFacts]) -> CardFacts | None:
    """The issued card a money receipt books against, or None (counted as left out)."""
    card = books.cards.get(receipt.card_id or "")
    if card is None:
        if receipt.card_id in known:
            books.unissued_card_receipts += 1
        elif receipt.action != A.EXPIRY_CHANGED:
            books.unknown_card_receipts += 1
    return card


def keep_books(cards: Iterable[CardFacts], receipts: Iterable[ReceiptFacts]) -> Books:
    """The entries of every issued card (its issue) and of every money receipt, in time order.

    Rehearsal receipts and rehearsal cards are left out; so are receipts of cards never issued
    and of cards with no Gift Cards row (counted in :class:`Books` for the report to show).
    """
    books = Books()
    known = {c.id: c for c in cards}
    ordered = sorted(
        (r for r in receipts if r.action in BOOKED_ACTIONS), key=lambda r: (r.at, r.reference)
    )
    rehearsal_cards = _rehearsal_cards(known, ordered)
    books.rehearsal_cards = len(rehearsal_cards & set(known))
    _issue(books, known, rehearsal_cards)
    keeper = _Bookkeeper(books)
    for receipt in ordered:
        if receipt.rehearsal or receipt.card_id in rehearsal_cards:
            books.rehearsal_receipts += 1
            continue
        if receipt.action not in MONEY_ACTIONS:
            continue
        card = _card_of(books, receipt, known)
        if card is None:
            continue
        try:
            keeper.book(receipt, card)
        except MoneyError as exc:
            books.problems.append(f"receipt {receipt.reference}: {exc}: not counted")
    books.entries.sort(key=lambda e: e.at)
    return books
