"""The rules a store redemption is decided by, before and after Shopify answers.

Kept apart from :mod:`prongs.redemptions` (the exactly-once sequence) so each reads on its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from cards.money import Money, MoneyError
from cards.policy import is_expired
from cards.vocab import CardStatus, Kind, RedemptionOutcome
from clients.errors import InvariantViolation, Permanent
from clients.records import CardRow, RedemptionRequest, TransactionResult
from prongs._recipe import Context, again_if_ambiguous

R = RedemptionOutcome


@dataclass(frozen=True, slots=True)
class Verdict:
    """How a redemption ended (or a refusal decided on the way)."""

    outcome: RedemptionOutcome
    message: str
    amount: Money | None = None
    money: TransactionResult | None = None
    attention: bool = False  # the money step is done but something after it failed


def typed_amount(ctx: Context, req: RedemptionRequest) -> Money | None:
    try:
        return Money.of(req.amount, ctx.card.currency) if req.amount is not None else None
    except MoneyError:
        return None


def amount_problem(ctx: Context, value: Decimal | None, label: str) -> Verdict | Money:
    if value is None:
        return Verdict(R.INVALID_AMOUNT, f"The {label} is missing.")
    try:
        amount = Money.of(value, ctx.card.currency)
    except MoneyError:
        return Verdict(R.INVALID_AMOUNT, f"The {label} {value} has too many decimals.")
    if not amount.is_positive:
        return Verdict(R.INVALID_AMOUNT, f"The {label} must be more than zero.", amount)
    if amount > ctx.card.limits.maximum:
        return Verdict(
            R.INVALID_AMOUNT, f"The {label} is above the maximum {ctx.card.limits.maximum}.", amount
        )
    return amount


def plan(ctx: Context, req: RedemptionRequest, card: CardRow) -> Verdict | Money:
    """What to debit, or why not (decided before any effect)."""
    typed = typed_amount(ctx, req)
    if card.status == CardStatus.PENDING or card.shopify_id is None:
        return Verdict(R.NOT_ACTIVE, "The card is not active yet.", typed)
    if card.status == CardStatus.VOIDED:
        return Verdict(R.VOIDED, "The card has been voided.", typed)
    if card.status == CardStatus.EXPIRED or is_expired(card.expires_on, ctx.now().date()):
        return Verdict(R.EXPIRED, f"The card expired on {card.expires_on}.", typed)
    if card.kind != Kind.CERTIFICATE:
        return amount_problem(ctx, req.amount, "amount")
    total = amount_problem(
        ctx, req.order_total if req.order_total is not None else req.amount, "order total"
    )
    if isinstance(total, Verdict):
        return total
    shopify_card = again_if_ambiguous(lambda: ctx.deps.shopify.get_card(card.shopify_id or ""))
    if shopify_card is None:
        raise InvariantViolation(f"card {card.id}: Shopify has no card {card.shopify_id}")
    value = shopify_card.balance
    if value.is_zero:
        return Verdict(R.INSUFFICIENT_BALANCE, "The certificate has already been used.", value)
    if value > total:
        return Verdict(
            R.EXCEEDS_ORDER_TOTAL,
            f"The certificate is worth {value}, more than the order total {total}; "
            "it can only be used on an order of at least its value.",
            value,
        )
    return value


def refusal(ctx: Context, card: CardRow, exc: Permanent, amount: Money) -> Verdict:
    shopify_card = again_if_ambiguous(lambda: ctx.deps.shopify.get_card(card.shopify_id or ""))
    if exc.code == "INSUFFICIENT_FUNDS":
        left = shopify_card.balance if shopify_card else None
        return Verdict(
            R.INSUFFICIENT_BALANCE, f"The card has only {left}; {amount} was asked.", amount
        )
    if shopify_card is not None and is_expired(shopify_card.expires_on, ctx.now().date()):
        return Verdict(R.EXPIRED, f"The card expired on {shopify_card.expires_on}.", amount)
    if shopify_card is not None and not shopify_card.enabled:
        return Verdict(R.VOIDED, "The card is disabled in Shopify.", amount)
    return Verdict(R.ERROR, f"Shopify refused the debit ({exc}).", amount)
