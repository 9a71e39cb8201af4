"""Validating a request for a new card: a pure function, the same for every way a card is asked
for (a Creation Requests row today; a bulk CSV row, built as a :class:`CreationAsk`, too).

Refused, with nothing created: Portal Disabled (Channel Portal while the portal is off); Invalid
Amount (blank, finer than the currency, outside MIN_AMOUNT..MAX_AMOUNT); Missing Information (no
purchaser name; for a gift no recipient name; no email for whoever receives the code); Invalid
Email (any given address malformed). The holder's email is required because the code reaches
nobody otherwise; a gift's purchaser email is optional (no confirmation without it).

Channel -> Source: Store -> Store, Phone and Email -> Manual, Portal -> Portal, Bulk -> Bulk
(its receipts' Source is Manual: an operator imported it). A blank Channel
counts as Store when a store is linked, else as Phone (Manual).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from cards.addresses import is_email
from cards.money import Money, MoneyError
from cards.policy import AmountLimits
from cards.vocab import (
    CardSource,
    Channel,
    CreationOutcome,
    Kind,
    ReceiptAction,
    ReceiptSource,
    Theme,
)

SOURCES = {
    Channel.STORE: (CardSource.STORE, ReceiptSource.STORE),
    Channel.PHONE: (CardSource.MANUAL, ReceiptSource.MANUAL),
    Channel.EMAIL: (CardSource.MANUAL, ReceiptSource.MANUAL),
    Channel.PORTAL: (CardSource.PORTAL, ReceiptSource.PORTAL),
    Channel.BULK: (CardSource.BULK, ReceiptSource.MANUAL),  # an operator's import
}


@dataclass(frozen=True, slots=True)
class CreationAsk:
    """A request for a new card, as typed (texts untrimmed, the amount not yet money)."""

    amount: Decimal | None
    purchaser_name: str | None = None
    purchaser_email: str | None = None
    recipient_name: str | None = None
    recipient_email: str | None = None
    is_gift: bool = False
    channel: Channel | None = None
    has_store: bool = False  # a store is linked (a blank Channel then counts as Store)
    message: str | None = None
    kind: Kind | None = None
    theme: Theme | None = None

    def __repr__(self) -> str:  # names and addresses stay out of logs
        return f"CreationAsk({self.amount}, {self.channel})"


@dataclass(frozen=True, slots=True)
class CreationProblem:
    outcome: CreationOutcome
    message: str
    amount: Money | None = None


@dataclass(frozen=True, slots=True)
class ValidCreation:
    """A request that may become a card: trimmed texts, the holder's details only for a gift."""

    amount: Money
    channel: Channel
    source: CardSource
    receipt_source: ReceiptSource
    purchase_receipts: tuple[ReceiptAction, ...]  # Purchased, or the Portal's two
    kind: Kind
    theme: Theme
    is_gift: bool
    purchaser_name: str
    purchaser_email: str | None
    recipient_name: str | None
    recipient_email: str | None
    message: str | None

    def __repr__(self) -> str:
        return f"ValidCreation({self.amount}, {self.channel})"


def _text(value: str | None) -> str | None:
    return value.strip() if value and value.strip() else None


def validate_creation(
    ask: CreationAsk, *, currency: str, limits: AmountLimits, portal_enabled: bool
) -> ValidCreation | CreationProblem:
    channel = ask.channel or (Channel.STORE if ask.has_store else Channel.PHONE)
    if channel == Channel.PORTAL and not portal_enabled:
        return CreationProblem(CreationOutcome.PORTAL_DISABLED, "Portal requests are turned off.")
    if ask.amount is None:
        return CreationProblem(CreationOutcome.INVALID_AMOUNT, "The amount is missing.")
    try:
        amount = Money.of(ask.amount, currency)
    except MoneyError as exc:  # too fine for the currency, too large, not a number
        return CreationProblem(CreationOutcome.INVALID_AMOUNT, f"The amount is not valid: {exc}.")
    if problem := limits.problem(amount):
        text = f"{problem[0].upper()}{problem[1:]}."
        return CreationProblem(CreationOutcome.INVALID_AMOUNT, text, amount)
    purchaser, recipient = _text(ask.purchaser_name), _text(ask.recipient_name)
    buyer_email, gift_email = _text(ask.purchaser_email), _text(ask.recipient_email)
    missing = [
        label
        for label, absent in (
            ("the purchaser's name", purchaser is None),
            ("the recipient's name", ask.is_gift and recipient is None),
            ("the recipient's email", ask.is_gift and gift_email is None),
            ("the purchaser's email", not ask.is_gift and buyer_email is None),
        )
        if absent
    ]
    if missing or purchaser is None:
        text = f"Missing {', '.join(missing)}."
        return CreationProblem(CreationOutcome.MISSING_INFORMATION, text, amount)
    given = (buyer_email, gift_email if ask.is_gift else None)
    bad = [e for e in given if e and not is_email(e)]
    if bad:
        text = f"Not an email address: {bad[0]}."
        return CreationProblem(CreationOutcome.INVALID_EMAIL, text, amount)
    source, receipt_source = SOURCES[channel]
    return ValidCreation(
        amount=amount,
        channel=channel,
        source=source,
        receipt_source=receipt_source,
        purchase_receipts=(
            (ReceiptAction.PURCHASED_FROM_PORTAL, ReceiptAction.ACTIVATED_FROM_PORTAL)
            if channel == Channel.PORTAL
            else (ReceiptAction.PURCHASED,)
        ),
        kind=ask.kind or Kind.GIFT_CARD,
        theme=ask.theme or Theme.STANDARD,
        is_gift=ask.is_gift,
        purchaser_name=purchaser,
        purchaser_email=buyer_email,
        recipient_name=recipient if ask.is_gift else None,
        recipient_email=gift_email if ask.is_gift else None,
        message=_text(ask.message),
    )
