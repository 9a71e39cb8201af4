"""The rules of operators' card actions: which statuses allow which action, and what a voided
amount was. Pure functions; the prong reads the card (and Shopify) first and asks here.

Each ``*_refusal`` returns the request's Outcome and Result Message when the action is refused
(Not Allowed, or Invalid Amount), or None when it may go ahead. The statuses follow DESIGN.md's
table (:mod:`cards.status`): Void from Active or Pending, Reactivate from Voided, Extend Expiry
for Active, Expired (which becomes Active again) and Redeemed, Adjust Balance for Active and
Redeemed. A resumed action (its intent recorded by an earlier run) may find the card already
moved by its own first attempt, and goes on.

A void remembers what it took in the card's Void Reason, after the operator's reason, as a
trailer ``giftbridge voided 25.00 USD (action:rec...)``; reactivation reads the last one back.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from cards.keys import ActionKey
from cards.money import Money, MoneyError
from cards.policy import AmountLimits, is_expired
from cards.vocab import CardActionOutcome, CardStatus

_TRAILER = re.compile(r"giftbridge voided (\d+(?:\.\d+)?) [A-Z]{3} \((action:rec[A-Za-z0-9]{14})\)")


@dataclass(frozen=True, slots=True)
class ActionRefusal:
    outcome: CardActionOutcome
    message: str


def _not_allowed(message: str) -> ActionRefusal:
    return ActionRefusal(CardActionOutcome.NOT_ALLOWED, message)


# --- void and reactivate ----------------------------------------------------------------------


def void_refusal(
    status: CardStatus | None,
    reason: str,
    expires_on: date | None,
    today: date,
    *,
    resuming: bool,
) -> ActionRefusal | None:
    allowed = status in (CardStatus.ACTIVE, CardStatus.PENDING) or (
        resuming and status == CardStatus.VOIDED
    )
    if not allowed:
        return _not_allowed(f"A {status} card cannot be voided.")
    if not reason:
        return _not_allowed("A void needs a reason.")
    if status == CardStatus.ACTIVE and is_expired(expires_on, today):
        return _not_allowed("The card has expired; it cannot be voided.")
    return None


def void_reason_with_trailer(reason: str, voided: Money, key: ActionKey) -> str:
    """The operator's reason and the trailer that lets a reactivation find the void's debit."""
    trailer = f"giftbridge voided {voided} ({key})"
    return f"{reason}\n{trailer}" if reason else trailer


def last_void(void_reason: str | None) -> tuple[Decimal, ActionKey] | None:
    """The amount and key of the last void giftbridge wrote into a Void Reason (an operator's
    reason could quote an older one), or None."""
    matches = list(_TRAILER.finditer(void_reason or ""))
    if not matches:
        return None
    last = matches[-1]
    return Decimal(last.group(1)), ActionKey.parse(last.group(2))


def was_issued(status: CardStatus | None, issued_at: datetime | None) -> bool:
    """Whether the card ever reached its holder. A resumed void may find the row already
    Voided; a Pending card voided then has no Issued At, as the first run saw it Pending."""
    if status == CardStatus.VOIDED:
        return issued_at is not None
    return status != CardStatus.PENDING


NEVER_ISSUED_IN_SHOPIFY = _not_allowed(
    "The card was never issued in Shopify; it cannot be reactivated."
)


def reactivation_refusal(status: CardStatus | None) -> ActionRefusal | None:
    if status != CardStatus.VOIDED:
        return _not_allowed(f"Only a voided card can be reactivated; this one is {status}.")
    return None


def reenable_refusal(enabled_in_shopify: bool) -> ActionRefusal | None:
    if not enabled_in_shopify:
        return _not_allowed("Shopify has disabled this card; it cannot be re-enabled.")
    return None


# --- adjust balance ---------------------------------------------------------------------------


def adjustment(value: Decimal | None, currency: str, limits: AmountLimits) -> Money | ActionRefusal:
    """The signed amount of an Adjust Balance (positive credits, negative debits), or why not."""
    if value is None or value == 0:
        return ActionRefusal(
            CardActionOutcome.INVALID_AMOUNT,
            "Give a non-zero Amount: positive credits, negative debits.",
        )
    try:
        amount = Money.of(value, currency)
    except MoneyError:
        return ActionRefusal(
            CardActionOutcome.INVALID_AMOUNT, f"The amount {value} has too many decimals."
        )
    if abs(amount) > limits.maximum:
        return ActionRefusal(
            CardActionOutcome.INVALID_AMOUNT, f"The amount is above {limits.maximum}."
        )
    return amount


def adjust_refusal(status: CardStatus | None, in_shopify: bool) -> ActionRefusal | None:
    if status not in (CardStatus.ACTIVE, CardStatus.REDEEMED) or not in_shopify:
        return _not_allowed(f"A {status} card's balance cannot be adjusted.")
    return None


# --- resend, regenerate, extend expiry ----------------------------------------------------------


def resend_refusal(
    status: CardStatus | None, holds_code: bool, holder_email: str | None
) -> ActionRefusal | None:
    if status in (CardStatus.PENDING, CardStatus.VOIDED):
        return _not_allowed(f"A {status} card's code is not sent.")
    if not holds_code:
        return _not_allowed("giftbridge does not hold this card's code (Shopify issued it).")
    if not holder_email:
        return _not_allowed("The card has no recipient or purchaser email.")
    return None


def regenerate_refusal(status: CardStatus | None) -> ActionRefusal | None:
    if status == CardStatus.PENDING:
        return _not_allowed("The card is not issued yet.")
    return None


def expiry_change_refusal(
    status: CardStatus | None, in_shopify: bool, new: date | None, today: date
) -> ActionRefusal | None:
    """``new`` None means "never expires"; a date already past is refused."""
    allowed = (CardStatus.ACTIVE, CardStatus.EXPIRED, CardStatus.REDEEMED)
    if status not in allowed or not in_shopify:
        return _not_allowed(f"A {status} card's expiry cannot be changed.")
    if new is not None and new < today:
        return _not_allowed(f"The new expiry date {new} has already passed.")
    return None


def status_after_expiry_change(status: CardStatus) -> CardStatus:
    """Extending an Expired card's expiry brings it back; other statuses stay."""
    return CardStatus.ACTIVE if status == CardStatus.EXPIRED else status
