"""The rules a store redemption is decided by, before and after Shopify answers.

Kept apart from :mod:`prongs.redemptions` (the exactly-once sequence) so each reads on its own:
:func:`plan` and :func:`refusal` decide, :func:`closing` is what finishing one request sends
and writes, :class:`Item` is one request on its way through a group, and :func:`fail` is what
a failure comes to.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from decimal import Decimal

import structlog

from cards.keys import ActionKey
from cards.money import Money, MoneyError
from cards.policy import is_expired
from cards.vocab import (
    Audience,
    CardStatus,
    Kind,
    ReceiptAction,
    ReceiptSource,
    RedemptionOutcome,
    request_status_for,
)
from clients.commands import CloseRedemption
from clients.errors import AmbiguousOutcome, InvariantViolation, Permanent, Retryable
from clients.records import CardRow, Receipt, RedemptionRequest, TransactionResult
from prongs import emails
from prongs.exactly_once import again_if_ambiguous
from prongs.lookup import Lookup
from prongs.notices import EmailJob, ReceiptBase, send_emails
from prongs.store_context import Context, Handled, failure_line

log = structlog.get_logger("giftbridge.prongs")

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


def amount_problem(
    ctx: Context, value: Decimal | None, label: str, *, capped: bool = True
) -> Verdict | Money:
    """``capped``: above MAX_AMOUNT is Invalid Amount (a debit; not an order total, which a
    card's value limit says nothing about)."""
    if value is None:
        return Verdict(R.INVALID_AMOUNT, f"The {label} is missing.")
    try:
        amount = Money.of(value, ctx.card.currency)
    except MoneyError:
        return Verdict(R.INVALID_AMOUNT, f"The {label} {value} has too many decimals.")
    if not amount.is_positive:
        return Verdict(R.INVALID_AMOUNT, f"The {label} must be more than zero.", amount)
    if capped and amount > ctx.card.limits.maximum:
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
        ctx,
        req.order_total if req.order_total is not None else req.amount,
        "order total",
        capped=False,
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


@dataclass(frozen=True, slots=True)
class Closing:
    """Finishing one request: its receipts (its store notice already sent) and the write that
    closes its row."""

    verdict: Verdict
    card_id: str | None
    receipts: list[Receipt]
    write: CloseRedemption


def closing(ctx: Context, req: RedemptionRequest, found: Lookup, verdict: Verdict) -> Closing:
    """Send the store notice (safe to repeat: Klaviyo drops a repeated unique_id) and build the
    receipt and the closing changes; the caller writes them, receipts first."""
    key = ActionKey.redeem(req.id)
    store = ctx.store(req.store_ids)
    card_id = found.card.id if found.card else None
    base = ReceiptBase(
        key, ReceiptSource.STORE, ctx.now(), card_id, store.id if store else None, req.id
    )
    money = verdict.money
    after = money.balance_after if money else None
    if money is not None:
        receipt = base.make(
            ReceiptAction.REDEEMED,
            amount=money.transaction.amount,
            balance_before=money.balance_after + money.transaction.amount,
            balance_after=money.balance_after,
            shopify_reference=money.transaction.id,
        )
    else:
        receipt = base.make(
            ReceiptAction.REDEMPTION_REJECTED,
            amount=verdict.amount,
            details=f"{verdict.outcome.value}: {verdict.message}",
        )
    jobs = []
    if store is not None and store.email:
        event = emails.store_notice(
            notice=emails.STORE_NOTICE_REDEMPTION,
            outcome=verdict.outcome.value,
            masked_code=found.masked or None,
            amount=verdict.amount,
            currency=ctx.card.currency,
            balance_after=after,
            request_id=req.id,
            message=verdict.message,
            key=key,
            to=store.email,
            at=ctx.now(),
        )
        jobs.append(EmailJob(Audience.STORE, event, sent_receipt=False))
    mailing = send_emails(ctx.deps, ctx.card, jobs, base)
    status = request_status_for(
        verdict.outcome, email_failed=bool(mailing.failed) or verdict.attention
    )
    message = verdict.message
    if mailing.failed:  # say why the request needs attention, as creations and voids do
        message += " The email to the store kept failing; see the Email Failed receipt."
    write = CloseRedemption(
        req.id,
        status=status,
        outcome=verdict.outcome,
        message=message,
        processed_at=ctx.now(),
        masked_code=found.masked or None,
        card_id=card_id,
        balance_after=after,
        transaction_id=money.transaction.id if money else None,
    )
    return Closing(verdict, card_id, [receipt, *mailing.receipts], write)


# --- one request of a group, and what a failure comes to -----------------------------------

_observed = itertools.count()  # orders Shopify's answers, so a card's mirror gets the latest


@dataclass
class Item:
    """One request of a group on its way through the phases."""

    req: RedemptionRequest
    intent: bool  # Status Processing is recorded (a resumed request, or after the intent write)
    found: Lookup | None = None
    amount: Money | None = None  # decided: debit this much
    money: TransactionResult | None = None  # the debit, made or read back
    observed: int = 0  # when ``money`` was seen, among every answer of this process
    verdict: Verdict | None = None  # how it ends, once known
    refused: bool = False  # Shopify refused: the Outcome is recorded before acting on it
    result: Handled | None = None  # done with: finished, or left for the next run
    error: str | None = None  # a failure line for the run report

    @property
    def key(self) -> ActionKey:
        return ActionKey.redeem(self.req.id)

    @property
    def card(self) -> CardRow | None:
        return self.found.card if self.found is not None else None

    @property
    def open(self) -> bool:
        """Neither decided nor done with."""
        return self.verdict is None and self.result is None

    def saw(self, money: TransactionResult | None) -> None:
        self.money = money
        self.observed = next(_observed)


def success(card: CardRow, found: Lookup | None, money: TransactionResult) -> Verdict:
    amount, after = money.transaction.amount, money.balance_after
    masked = found.masked if found is not None else ""
    text = (
        f"Certificate {masked} used in full: {amount}."
        if card.kind == Kind.CERTIFICATE
        else f"Redeemed {amount} from {masked}; {after} left."
    )
    return Verdict(R.SUCCESS, text, amount, money)


def fail(ctx: Context, item: Item, exc: Exception) -> None:
    """After the intent, a transient or ambiguous failure waits for the next run's read-back;
    anything else closes the request, for a person to look at (the till hears at once)."""
    req = item.req
    item.error = failure_line(f"redemption {req.id}", exc)
    item.refused = False
    if item.intent and isinstance(exc, AmbiguousOutcome | Retryable):
        log.warning("redemption left Processing to resume", key=str(item.key), error=str(exc))
        item.result = Handled(None, item.error)
        return
    problem = f"{type(exc).__name__}: {exc}"
    if item.money is not None:
        amount = item.money.transaction.amount
        text = f"Redeemed {amount}, but the card row could not be updated ({problem})."
        item.verdict = Verdict(R.SUCCESS, text, amount, item.money, attention=True)
        return
    text = (
        f"Could not confirm whether the card was debited ({problem}); check its Shopify "
        f"transactions for the note giftbridge redeem:{req.id}."
        if item.intent
        else f"Something went wrong ({problem}); nothing was debited."
    )
    item.verdict = Verdict(R.ERROR, text, typed_amount(ctx, req))
