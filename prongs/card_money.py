"""The card actions that move money: Void, Reactivate, Adjust Balance (see
:mod:`prongs.card_actions`), and :class:`Act`, one action being handled.

Each records its intent (Status Processing) before the debit or credit, stamps the action key
``action:<record id>`` into the note, and on a resumed request reads Shopify back for that note
before deciding anything: a move found there is this action's, whatever the card looks like now.

Void debits the whole remaining balance (giftbridge never deactivates: Shopify cannot re-enable
a deactivated card) and remembers the voided amount in the card's Void Reason, after the
operator's reason, as a trailer ``giftbridge voided 25.00 USD (action:rec...)``. Reactivate reads
that trailer, confirms the amount against the Shopify debit carrying that key's note (Shopify is
the authority; the trailer only says which debit), credits it back and clears the Void Reason.
Which statuses allow which action is decided by :mod:`cards.card_actions` (pure).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from cards import card_actions as rules
from cards.codes import unseal
from cards.errors import InvariantViolation
from cards.keys import ActionKey
from cards.money import Money
from cards.status import status_for_balance
from cards.vocab import Audience, CardActionOutcome, CardStatus, ReceiptAction, ReceiptSource
from clients.commands import (
    CardUpdate,
    MirrorBalance,
    Queue,
    ReactivateCard,
    RecordIntent,
    VoidCard,
)
from clients.errors import Permanent
from clients.records import CardActionRequest, CardRow, Receipt, TransactionKind, TransactionResult
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


@dataclass
class ActionResult:
    outcome: CardActionOutcome
    message: str
    receipts: list[Receipt] = field(default_factory=list)
    email_failed: bool = False

    @classmethod
    def refused(cls, refusal: rules.ActionRefusal) -> ActionResult:
        return cls(refusal.outcome, refusal.message)


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

    def record_intent(self) -> None:
        """Status Processing before the first money move (a resumed action has it already)."""
        if not self.resuming:
            write_request(self.ctx.deps, RecordIntent(Queue.CARD_ACTIONS, self.req.id))

    def move_money_in_shopify(
        self, kind: TransactionKind, amount: Money, shopify_id: str
    ) -> TransactionResult:
        """The intent, then the debit or credit under the action's key (only while the lease is
        proven)."""
        self.record_intent()
        self.ctx.fence.fence()
        return move_money(
            self.ctx.deps,
            shopify_id,
            kind,
            amount,
            self.key,
            since=self.req.created_time,
            check_first=False,
        )

    def read_back_from_shopify(self, shopify_id: str | None) -> TransactionResult | None:
        """A resumed action's own move, found by its note in the card's transactions (every
        action's, while another owner may have acted lately)."""
        if not (self.resuming or self.ctx.fence.contested()) or shopify_id is None:
            return None
        return read_back(self.ctx.deps, shopify_id, self.key, self.req.created_time)

    def read_live_balance(self, shopify_id: str) -> Money:
        """The card's balance as Shopify holds it now."""
        live = again_if_ambiguous(lambda: self.ctx.deps.shopify.get_card(shopify_id))
        if live is None:
            raise InvariantViolation(f"card {self.card.id}: Shopify has no card {shopify_id}")
        return live.balance

    def update_card(self, update: CardUpdate) -> None:
        update_card(self.ctx.deps, update)


def _find_pending_card_in_shopify(act: Act) -> str | None:
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
    shopify_id = card.shopify_id or _find_pending_card_in_shopify(act)
    money = act.read_back_from_shopify(shopify_id)
    reason = (act.req.reason or "").strip()
    if money is None:
        today = act.ctx.now().date()
        refusal = rules.void_refusal(
            card.status, reason, card.expires_on, today, resuming=act.resuming
        )
        if refusal is not None:
            return ActionResult.refused(refusal)
        if shopify_id is not None and card.status != CardStatus.VOIDED:
            remaining = act.read_live_balance(shopify_id)
            if remaining.is_positive:
                money = act.move_money_in_shopify(TransactionKind.DEBIT, remaining, shopify_id)
    currency = act.ctx.card.currency
    voided = money.transaction.amount if money else Money.zero(currency)
    after = money.balance_after if money else Money.zero(currency)
    void_reason = rules.void_reason_with_trailer(reason, voided, act.key)
    act.update_card(VoidCard(card.id, void_reason, after, shopify_id, at=act.ctx.now()))
    receipt = act.base.make(
        ReceiptAction.VOIDED,
        amount=voided,
        balance_before=after + voided,
        balance_after=after,
        shopify_reference=money.transaction.id if money else None,
        details=reason or None,
    )
    result = ActionResult(
        CardActionOutcome.APPLIED, f"Voided {card.masked_code}: {voided} debited.", [receipt]
    )
    holder = emails.holder_email(card)
    if holder and rules.was_issued(card.status, card.issued_at):  # else it reached nobody
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


def read_voided_amount(act: Act, shopify_id: str) -> Money:
    """The amount the last void took, from the Void Reason trailer, confirmed in Shopify."""
    last = rules.last_void(act.card.void_reason)
    if last is None or last[0].is_zero():
        return Money.zero(act.ctx.card.currency)  # a void that found nothing made no debit
    void_key = last[1]
    debit = read_back(act.ctx.deps, shopify_id, void_key, None)
    if debit is None:
        raise InvariantViolation(f"card {act.card.id}: the debit of {void_key} is not in Shopify")
    return debit.transaction.amount


def reactivate(act: Act) -> ActionResult:
    card, shopify_id = act.card, act.card.shopify_id
    if shopify_id is None:
        return ActionResult.refused(rules.NEVER_ISSUED_IN_SHOPIFY)
    money = act.read_back_from_shopify(shopify_id)
    if money is None and not (act.resuming and card.status == CardStatus.ACTIVE):
        refusal = rules.reactivation_refusal(card.status)
        if refusal is not None:
            return ActionResult.refused(refusal)
        live = again_if_ambiguous(lambda: act.ctx.deps.shopify.get_card(shopify_id))
        refusal = rules.reenable_refusal(live is not None and live.enabled)
        if refusal is not None:
            return ActionResult.refused(refusal)
        amount = read_voided_amount(act, shopify_id)
        if amount.is_positive:
            money = act.move_money_in_shopify(TransactionKind.CREDIT, amount, shopify_id)
    credited = money.transaction.amount if money else Money.zero(act.ctx.card.currency)
    after = money.balance_after if money else act.read_live_balance(shopify_id)
    act.update_card(ReactivateCard(card.id, after, at=act.ctx.now()))
    receipt = act.base.make(
        ReceiptAction.REACTIVATED,
        amount=credited,
        balance_before=after - credited,
        balance_after=after,
        shopify_reference=money.transaction.id if money else None,
    )
    message = f"Reactivated {card.masked_code}: {credited} credited back."
    return ActionResult(CardActionOutcome.APPLIED, message, [receipt])


def adjust(act: Act) -> ActionResult:
    card = act.card
    money = act.read_back_from_shopify(card.shopify_id)
    if money is None:
        amount = rules.adjustment(act.req.amount, act.ctx.card.currency, act.ctx.card.limits)
        if isinstance(amount, rules.ActionRefusal):
            return ActionResult.refused(amount)
        refusal = rules.adjust_refusal(card.status, in_shopify=card.shopify_id is not None)
        if refusal is not None:
            return ActionResult.refused(refusal)
        shopify_id = card.shopify_id or ""  # in Shopify: adjust_refusal made sure
        kind = TransactionKind.CREDIT if amount.is_positive else TransactionKind.DEBIT
        try:
            money = act.move_money_in_shopify(kind, abs(amount), shopify_id)
        except Permanent as exc:
            if exc.code == "INSUFFICIENT_FUNDS":
                left = act.read_live_balance(shopify_id)
                message = f"The card has only {left} to debit."
                return ActionResult(CardActionOutcome.INVALID_AMOUNT, message)
            message = f"Shopify refused the adjustment ({exc})."
            return ActionResult(CardActionOutcome.NOT_ALLOWED, message)
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
    message = f"Adjusted {card.masked_code} by {signed}; {after} now."
    return ActionResult(CardActionOutcome.APPLIED, message, [receipt])
