"""The card actions that move money: Void, Reactivate, Adjust Balance (see :mod:`card_actions`).

Each records its intent (Status Processing) before the debit or credit, stamps the action key
``action:<record id>`` into the note, and on a resumed request reads Shopify back for that note
before deciding anything: a move found there is this action's, whatever the card looks like now.

Void debits the whole remaining balance (giftbridge never deactivates: Shopify cannot re-enable
a deactivated card) and remembers the voided amount in the card's Void Reason, after the
operator's reason, as a trailer ``giftbridge voided 25.00 USD (action:rec...)``. Reactivate reads
that trailer, confirms the amount against the Shopify debit carrying that key's note (Shopify is
the authority; the trailer only says which debit), credits it back and clears the Void Reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal

from cards.codes import unseal
from cards.keys import ActionKey
from cards.money import Money, MoneyError
from cards.policy import is_expired
from cards.status import status_for_balance
from cards.vocab import (
    Audience,
    CardActionOutcome,
    CardStatus,
    ReceiptAction,
    ReceiptSource,
)
from clients.commands import (
    CardUpdate,
    MirrorBalance,
    Queue,
    ReactivateCard,
    RecordIntent,
    VoidCard,
)
from clients.errors import InvariantViolation, Permanent
from clients.records import (
    CardActionRequest,
    CardRow,
    Receipt,
    TransactionKind,
    TransactionResult,
)
from prongs import emails
from prongs.exactly_once import (
    again_if_ambiguous,
    move_money,
    read_back,
    update_card,
    write_request,
)
from prongs.notices import EmailJob, ReceiptBase, send_emails
from prongs.store_context import Context

A = CardActionOutcome
_TRAILER = re.compile(r"giftbridge voided (\d+(?:\.\d+)?) [A-Z]{3} \((action:rec[A-Za-z0-9]{14})\)")


@dataclass
class ActionResult:
    outcome: CardActionOutcome
    message: str
    receipts: list[Receipt] = field(default_factory=list)
    email_failed: bool = False


@dataclass(frozen=True, slots=True)
class Act:
    """One card action being handled: the request, its key, the card (locked), whether resumed."""

    ctx: Context
    req: CardActionRequest
    key: ActionKey
    card: CardRow
    resuming: bool

    @property
    def base(self) -> ReceiptBase:
        return ReceiptBase(
            self.key, ReceiptSource.MANUAL, self.ctx.now(), self.card.id, request=self.req.id
        )

    def not_allowed(self, message: str) -> ActionResult:
        return ActionResult(A.NOT_ALLOWED, message)

    def intent(self) -> None:
        if not self.resuming:
            write_request(self.ctx.deps, RecordIntent(Queue.CARD_ACTIONS, self.req.id))

    def move(self, kind: TransactionKind, amount: Money, shopify_id: str) -> TransactionResult:
        self.intent()
        return move_money(
            self.ctx.deps,
            shopify_id,
            kind,
            amount,
            self.key,
            since=self.req.created_time,
            check_first=False,
        )

    def read_back(self, shopify_id: str | None) -> TransactionResult | None:
        if not self.resuming or shopify_id is None:
            return None
        return read_back(self.ctx.deps, shopify_id, self.key, self.req.created_time)

    def live_balance(self, shopify_id: str) -> Money:
        live = again_if_ambiguous(lambda: self.ctx.deps.shopify.get_card(shopify_id))
        if live is None:
            raise InvariantViolation(f"card {self.card.id}: Shopify has no card {shopify_id}")
        return live.balance

    def update_card(self, update: CardUpdate) -> None:
        update_card(self.ctx.deps, update)


def _pending_shopify_id(act: Act) -> str | None:
    """A Pending row may already have its Shopify card (a creation cut short): find it by code
    search and the creation's note, so voiding it also empties that card."""
    card = act.card
    if card.status != CardStatus.PENDING or not card.code_sealed or not card.origin_key:
        return card.shopify_id
    code = unseal(card.code_sealed, act.ctx.card.code_key)
    note = ActionKey.parse(card.origin_key).note
    cards = again_if_ambiguous(lambda: act.ctx.deps.shopify.find_cards_by_code(code))
    return next((c.id for c in cards if c.note == note), None)


def void(act: Act) -> ActionResult:
    card = act.card
    shopify_id = card.shopify_id or _pending_shopify_id(act)
    money = act.read_back(shopify_id)
    reason = (act.req.reason or "").strip()
    if money is None:
        allowed = card.status in (CardStatus.ACTIVE, CardStatus.PENDING) or (
            act.resuming and card.status == CardStatus.VOIDED
        )
        if not allowed:
            return act.not_allowed(f"A {card.status} card cannot be voided.")
        if not reason:
            return act.not_allowed("A void needs a reason.")
        if card.status == CardStatus.ACTIVE and is_expired(card.expires_on, act.ctx.now().date()):
            return act.not_allowed("The card has expired; it cannot be voided.")
        if shopify_id is not None and card.status != CardStatus.VOIDED:
            remaining = act.live_balance(shopify_id)
            if remaining.is_positive:
                money = act.move(TransactionKind.DEBIT, remaining, shopify_id)
    currency = act.ctx.card.currency
    voided = money.transaction.amount if money else Money.zero(currency)
    after = money.balance_after if money else Money.zero(currency)
    trailer = f"giftbridge voided {voided} ({act.key})"
    void_reason = f"{reason}\n{trailer}" if reason else trailer
    act.update_card(VoidCard(card.id, void_reason, after, shopify_id, at=act.ctx.now()))
    receipt = act.base.make(
        ReceiptAction.VOIDED,
        amount=voided,
        balance_before=after + voided,
        balance_after=after,
        shopify_reference=money.transaction.id if money else None,
        details=reason or None,
    )
    result = ActionResult(A.APPLIED, f"Voided {card.masked_code}: {voided} debited.", [receipt])
    holder = emails.holder_email(card)
    if holder and _was_issued(card):  # a card never issued reached nobody
        event = emails.voided(
            card, voided_amount=voided, reason=reason, key=act.key, to=holder, at=act.ctx.now()
        )
        job = EmailJob(Audience.RECIPIENT, event, sent_receipt=True)
        mailing = send_emails(act.ctx.deps, act.ctx.card, [job], act.base)
        result.receipts += mailing.receipts
        if mailing.failed:
            result.email_failed = True
            result.message += " The email to the holder kept failing."
    return result


def _was_issued(card: CardRow) -> bool:
    """Whether the card ever reached its holder. A resumed void may find the row already
    Voided; a Pending card voided then has no Issued At, as the first run saw it Pending."""
    if card.status == CardStatus.VOIDED:
        return card.issued_at is not None
    return card.status != CardStatus.PENDING


def voided_amount(act: Act, shopify_id: str) -> Money:
    """The amount the last void took, from the Void Reason trailer, confirmed in Shopify."""
    # The trailer giftbridge wrote last: an operator's reason could quote an older one.
    matches = list(_TRAILER.finditer(act.card.void_reason or ""))
    match = matches[-1] if matches else None
    if match is None or Decimal(match.group(1)).is_zero():
        return Money.zero(act.ctx.card.currency)  # a void that found nothing made no debit
    void_key = ActionKey.parse(match.group(2))
    debit = read_back(act.ctx.deps, shopify_id, void_key, None)
    if debit is None:
        raise InvariantViolation(f"card {act.card.id}: the debit of {void_key} is not in Shopify")
    return debit.transaction.amount


def reactivate(act: Act) -> ActionResult:
    card = act.card
    if card.shopify_id is None:
        return act.not_allowed("The card was never issued in Shopify; it cannot be reactivated.")
    money = act.read_back(card.shopify_id)
    if money is None and not (act.resuming and card.status == CardStatus.ACTIVE):
        if card.status != CardStatus.VOIDED:
            return act.not_allowed(
                f"Only a voided card can be reactivated; this one is {card.status}."
            )
        live = again_if_ambiguous(lambda: act.ctx.deps.shopify.get_card(card.shopify_id or ""))
        if live is None or not live.enabled:
            return act.not_allowed("Shopify has disabled this card; it cannot be re-enabled.")
        amount = voided_amount(act, card.shopify_id)
        if amount.is_positive:
            money = act.move(TransactionKind.CREDIT, amount, card.shopify_id)
    credited = money.transaction.amount if money else Money.zero(act.ctx.card.currency)
    after = money.balance_after if money else act.live_balance(card.shopify_id)
    act.update_card(ReactivateCard(card.id, after, at=act.ctx.now()))
    receipt = act.base.make(
        ReceiptAction.REACTIVATED,
        amount=credited,
        balance_before=after - credited,
        balance_after=after,
        shopify_reference=money.transaction.id if money else None,
    )
    return ActionResult(
        A.APPLIED, f"Reactivated {card.masked_code}: {credited} credited back.", [receipt]
    )


def _adjust_amount(act: Act) -> Money | ActionResult:
    value = act.req.amount
    if value is None or value == 0:
        return ActionResult(
            A.INVALID_AMOUNT, "Give a non-zero Amount: positive credits, negative debits."
        )
    try:
        amount = Money.of(value, act.ctx.card.currency)
    except MoneyError:
        return ActionResult(A.INVALID_AMOUNT, f"The amount {value} has too many decimals.")
    if abs(amount) > act.ctx.card.limits.maximum:
        return ActionResult(A.INVALID_AMOUNT, f"The amount is above {act.ctx.card.limits.maximum}.")
    return amount


def adjust(act: Act) -> ActionResult:
    card = act.card
    money = act.read_back(card.shopify_id)
    if money is None:
        amount = _adjust_amount(act)
        if isinstance(amount, ActionResult):
            return amount
        if card.status not in (CardStatus.ACTIVE, CardStatus.REDEEMED) or card.shopify_id is None:
            return act.not_allowed(f"A {card.status} card's balance cannot be adjusted.")
        kind = TransactionKind.CREDIT if amount.is_positive else TransactionKind.DEBIT
        try:
            money = act.move(kind, abs(amount), card.shopify_id)
        except Permanent as exc:
            if exc.code == "INSUFFICIENT_FUNDS":
                left = act.live_balance(card.shopify_id)
                return ActionResult(A.INVALID_AMOUNT, f"The card has only {left} to debit.")
            return act.not_allowed(f"Shopify refused the adjustment ({exc}).")
    moved = money.transaction.amount
    signed = moved if money.transaction.kind == TransactionKind.CREDIT else -moved
    after = money.balance_after
    status = status_for_balance(card.status or CardStatus.ACTIVE, after.is_zero)
    now = act.ctx.now()
    act.update_card(MirrorBalance(card.id, after, synced_at=now, status=status, activity_at=now))
    receipt = act.base.make(
        ReceiptAction.ADJUSTED,
        amount=signed,
        balance_before=after - signed,
        balance_after=after,
        shopify_reference=money.transaction.id,
        details=(act.req.reason or "").strip() or None,
    )
    return ActionResult(
        A.APPLIED, f"Adjusted {card.masked_code} by {signed}; {after} now.", [receipt]
    )
