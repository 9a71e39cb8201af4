"""Deciding a store redemption: pure functions of the card, the request and the day.

The prong reads first (the card's row, and for a certificate its value in Shopify) and then
asks here what to do; nothing here does I/O, so every rule can be tested on its own.

- :func:`decide`: Format Incorrect or Not Found when no card matched; Not Active (Pending, or
  never issued in Shopify), Voided, Expired (by status or by date); for a gift card the Amount
  to debit or Invalid Amount (blank, finer than the currency, zero or less, above MAX_AMOUNT);
  for a certificate the order total it must not exceed (Order Total, or Amount when Order Total
  is blank; both blank is Invalid Amount), answered as :class:`CheckCertificateValue`.
- :func:`decide_certificate`: a certificate (Kind Certificate) is used in full on one order: the
  debit is its whole balance as Shopify holds it (Amount is not used), and only when that
  does not exceed the order total (staff may type it in Amount when Order Total is blank).
- :func:`decide_refused_debit`: what Shopify's refusal of a debit means, given the card as
  Shopify holds it afterwards (INSUFFICIENT_FUNDS, expired, disabled, anything else).

A Redeemed card is still tried: the mirror may lag a refund, and Shopify's balance decides.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Protocol

from cards.money import Money, MoneyError
from cards.policy import AmountLimits, is_expired
from cards.vocab import CardStatus, Kind, RedemptionOutcome


class RedeemableCard(Protocol):
    """What deciding needs of a Gift Cards row."""

    @property
    def status(self) -> CardStatus | None: ...

    @property
    def kind(self) -> Kind | None: ...

    @property
    def expires_on(self) -> date | None: ...

    @property
    def shopify_id(self) -> str | None: ...


class RedemptionAsk(Protocol):
    """What staff typed: the Amount and the Order Total, as typed (not yet money)."""

    @property
    def amount(self) -> Decimal | None: ...

    @property
    def order_total(self) -> Decimal | None: ...


class LiveCard(Protocol):
    """The card as Shopify holds it."""

    @property
    def balance(self) -> Money: ...

    @property
    def expires_on(self) -> date | None: ...

    @property
    def enabled(self) -> bool: ...


@dataclass(frozen=True, slots=True)
class Refuse:
    """The request ends without a debit: its Outcome, the Result Message, the amount shown."""

    outcome: RedemptionOutcome
    message: str
    amount: Money | None = None


@dataclass(frozen=True, slots=True)
class Debit:
    amount: Money


@dataclass(frozen=True, slots=True)
class CheckCertificateValue:
    """A certificate: read its value from Shopify, then :func:`decide_certificate`."""

    order_total: Money


Decision = Refuse | Debit | CheckCertificateValue


def typed_amount(value: Decimal | None, currency: str) -> Money | None:
    """The Amount as money, when it is one (for the store notice of any outcome)."""
    try:
        return Money.of(value, currency) if value is not None else None
    except MoneyError:
        return None


#: DESIGN.md: a redemption over 1,000,000 in any currency is too large for Shopify.
LARGEST_REDEMPTION = Decimal(1_000_000)


def amount_or_refusal(
    value: Decimal | None, label: str, currency: str, maximum: Money | None
) -> Money | Refuse:
    """A typed amount as money, or Invalid Amount: missing, not a number of this currency
    (NaN, infinite, huge, finer than its minor unit), zero or less, or above ``maximum``
    (MAX_AMOUNT for a debit) or 1,000,000 (Shopify's range, for an order total too)."""
    if value is None:
        return Refuse(RedemptionOutcome.INVALID_AMOUNT, f"The {label} is missing.")
    try:
        amount = Money.of(value, currency)
    except MoneyError as exc:
        return Refuse(RedemptionOutcome.INVALID_AMOUNT, f"The {label} is not valid: {exc}.")
    if not amount.is_positive:
        return Refuse(
            RedemptionOutcome.INVALID_AMOUNT, f"The {label} must be more than zero.", amount
        )
    largest = Money.of(LARGEST_REDEMPTION, currency)
    if maximum is None or maximum > largest:
        maximum = largest
    if amount > maximum:
        return Refuse(
            RedemptionOutcome.INVALID_AMOUNT, f"The {label} is above the maximum {maximum}.", amount
        )
    return amount


def decide(
    card: RedeemableCard | None,
    ask: RedemptionAsk,
    today: date,
    limits: AmountLimits,
    *,
    currency: str,
    format_incorrect: bool = False,
) -> Decision:
    """What to debit, or why not; decided before any effect. ``card`` None: no card matched
    the code (``format_incorrect``: and its check character failed, most likely a typo)."""
    typed = typed_amount(ask.amount, currency)
    if card is None:
        if format_incorrect:
            message = "The code is not in the right format; check it and try again."
            return Refuse(RedemptionOutcome.FORMAT_INCORRECT, message, typed)
        return Refuse(RedemptionOutcome.NOT_FOUND, "No gift card has this code.", typed)
    if card.status == CardStatus.PENDING or card.shopify_id is None:
        return Refuse(RedemptionOutcome.NOT_ACTIVE, "The card is not active yet.", typed)
    if card.status == CardStatus.VOIDED:
        return Refuse(RedemptionOutcome.VOIDED, "The card has been voided.", typed)
    if card.status == CardStatus.EXPIRED or is_expired(card.expires_on, today):
        return Refuse(RedemptionOutcome.EXPIRED, f"The card expired on {card.expires_on}.", typed)
    if card.kind != Kind.CERTIFICATE:
        amount = amount_or_refusal(ask.amount, "amount", currency, limits.maximum)
        return Debit(amount) if isinstance(amount, Money) else amount
    given = ask.order_total if ask.order_total is not None else ask.amount
    total = amount_or_refusal(given, "order total", currency, None)
    return CheckCertificateValue(total) if isinstance(total, Money) else total


def decide_certificate(value: Money, order_total: Money) -> Refuse | Debit:
    """A certificate is debited its whole value, and only on an order of at least that value."""
    if value.is_zero:
        return Refuse(
            RedemptionOutcome.INSUFFICIENT_BALANCE, "The certificate has already been used.", value
        )
    if value > order_total:
        return Refuse(
            RedemptionOutcome.EXCEEDS_ORDER_TOTAL,
            f"The certificate is worth {value}, more than the order total {order_total}; "
            "it can only be used on an order of at least its value.",
            value,
        )
    return Debit(value)


def decide_refused_debit(
    error_code: str | None, live: LiveCard | None, asked: Money, today: date, detail: str
) -> Refuse:
    """Why Shopify refused to debit ``asked`` (nothing moved), from its error code and the card
    as Shopify holds it now; ``detail`` is the refusal's own text, for anything else."""
    if error_code == "INSUFFICIENT_FUNDS":
        left = live.balance if live else None
        return Refuse(
            RedemptionOutcome.INSUFFICIENT_BALANCE,
            f"The card has only {left}; {asked} was asked.",
            asked,
        )
    if live is not None and is_expired(live.expires_on, today):
        return Refuse(RedemptionOutcome.EXPIRED, f"The card expired on {live.expires_on}.", asked)
    if live is not None and not live.enabled:
        return Refuse(RedemptionOutcome.VOIDED, "The card is disabled in Shopify.", asked)
    return Refuse(RedemptionOutcome.ERROR, f"Shopify refused the debit ({detail}).", asked)


def success_message(kind: Kind | None, masked: str, amount: Money, after: Money) -> str:
    if kind == Kind.CERTIFICATE:
        return f"Certificate {masked} used in full: {amount}."
    return f"Redeemed {amount} from {masked}; {after} left."
