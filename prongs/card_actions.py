"""Card actions by operators (key ``action:<record id>``), one card each, under the card's lock.

Outcomes: Applied; Not Allowed (a transition outside DESIGN.md's table, or a missing reason,
with a message saying why); Card Not Found (no card linked, or the link is dead); Invalid Amount;
Error. Receipts: Voided, Reactivated, Sent, Certificate Regenerated, Adjusted, Expiry Changed.

- Void, Reactivate, Adjust Balance move money: see :mod:`prongs.card_money`.
- Resend: ``Gift Card Issued`` again from the sealed code, to the card's holder. Its
  ``unique_id`` is ``action:<record id>:recipient``, different from the original issue's, so
  Klaviyo sends it; a Sent receipt. Not Allowed for a Pending or Voided card, or a card whose code
  giftbridge does not hold (Shopify issued it). An email that keeps failing is Outcome Error.
- Regenerate PDF: the record-copy certificate rendered and attached again (not for Pending).
- Extend Expiry: ``New Expiry`` set in Shopify, then in the row; Expired -> Active. A blank New
  Expiry means "never expires"; a date already past is Not Allowed. Pending and Voided cards are
  Not Allowed.

Only money actions write Processing first; the others are idempotent and simply run again after
a crash. A transient or ambiguous failure leaves the request for the next run; anything else is
Outcome Error, Needs Attention.
"""

from __future__ import annotations

from collections.abc import Callable

import structlog

from cards import card_actions as rules
from cards.codes import unseal
from cards.errors import InvariantViolation
from cards.keys import ActionKey
from cards.vocab import (
    Audience,
    CardActionOutcome,
    CardActionType,
    CardStatus,
    ReceiptAction,
    RequestStatus,
    request_status_for,
)
from clients.commands import ChangeExpiry, CloseCardAction
from clients.errors import AmbiguousOutcome, ClientError, Retryable
from clients.records import CardActionRequest
from prongs import emails
from prongs.card_money import Act, ActionResult, adjust, reactivate, void
from prongs.exactly_once import again_if_ambiguous, write_request
from prongs.issuance import attach_record_copy
from prongs.notices import EmailJob, send_emails, write_receipts
from prongs.store_context import Context, Handled, failure_line

log = structlog.get_logger("giftbridge.prongs")


def resend(act: Act) -> ActionResult:
    card = act.card
    holder = emails.holder_email(card)
    refusal = rules.resend_refusal(card.status, bool(card.code_sealed), holder)
    if refusal is not None:
        return ActionResult.refused(refusal)
    event = emails.issued(  # the sealed code and the holder are there: resend_refusal made sure
        card,
        unseal(card.code_sealed or "", act.ctx.card.code_key),
        key=act.key,
        to=holder or "",
        at=act.ctx.now(),
        business_name=act.ctx.card.business_name,
        currency=act.ctx.card.currency,
    )
    job = EmailJob(Audience.RECIPIENT, event, sent_receipt=True)
    mailing = send_emails(act.ctx.deps, act.ctx.card, [job], act.base)
    if mailing.failed:
        message = "The email kept failing; try again later."
        return ActionResult(CardActionOutcome.ERROR, message, mailing.receipts)
    message = f"Sent {card.masked_code} to {holder} again."
    return ActionResult(CardActionOutcome.APPLIED, message, mailing.receipts)


def regenerate_pdf(act: Act) -> ActionResult:
    refusal = rules.regenerate_refusal(act.card.status)
    if refusal is not None:
        return ActionResult.refused(refusal)
    shopify_id = act.card.shopify_id
    shopify = (
        again_if_ambiguous(lambda: act.ctx.deps.shopify.get_card(shopify_id))
        if shopify_id
        else None
    )
    balance = shopify.balance if shopify is not None else act.card.balance
    attach_record_copy(act.ctx.deps, act.ctx.card, act.card, balance)
    receipt = act.base.make(ReceiptAction.CERTIFICATE_REGENERATED)
    return ActionResult(CardActionOutcome.APPLIED, "The certificate was regenerated.", [receipt])


def extend_expiry(act: Act) -> ActionResult:
    card, new, today = act.card, act.req.new_expiry, act.ctx.now().date()
    refusal = rules.expiry_change_refusal(card.status, card.shopify_id is not None, new, today)
    if refusal is not None:
        return ActionResult.refused(refusal)
    shopify_id = card.shopify_id or ""  # in Shopify: expiry_change_refusal made sure
    again_if_ambiguous(lambda: act.ctx.deps.shopify.set_expiry(shopify_id, new))
    status = rules.status_after_expiry_change(card.status or CardStatus.ACTIVE)
    act.update_card(ChangeExpiry(card.id, new, status, at=act.ctx.now()))
    change = f"{card.expires_on or 'never'} -> {new or 'never'}"
    receipt = act.base.make(ReceiptAction.EXPIRY_CHANGED, details=change)
    return ActionResult(CardActionOutcome.APPLIED, f"Expiry changed: {change}.", [receipt])


ACTIONS: dict[CardActionType, Callable[[Act], ActionResult]] = {
    CardActionType.VOID: void,
    CardActionType.REACTIVATE: reactivate,
    CardActionType.RESEND: resend,
    CardActionType.REGENERATE_PDF: regenerate_pdf,
    CardActionType.ADJUST_BALANCE: adjust,
    CardActionType.EXTEND_EXPIRY: extend_expiry,
}


MONEY_ACTIONS = (CardActionType.VOID, CardActionType.REACTIVATE, CardActionType.ADJUST_BALANCE)


def handle(ctx: Context, req: CardActionRequest) -> Handled:
    key = ActionKey.action(req.id)
    resuming = req.status == RequestStatus.PROCESSING
    if req.action is None:
        return _close(
            ctx, req, ActionResult(CardActionOutcome.NOT_ALLOWED, "No action was chosen.")
        )
    if not req.card_ids:
        return _close(ctx, req, _card_gone(req, key, resuming, "No gift card is linked."))
    try:
        card = again_if_ambiguous(lambda: ctx.deps.airtable.get_card(req.card_ids[0]))
        if card is None:
            return _close(ctx, req, _card_gone(req, key, resuming, "The linked card is gone."))
        # By record id and by Shopify GID, as redemptions do: the online prongs' balance
        # refresh locks the GID, and must not write its read between a move and its mirror.
        with ctx.deps.card_locks.hold_cards([card]):
            result = ACTIONS[req.action](Act(ctx, req, key, card, resuming))
            write_receipts(ctx.deps, result.receipts)
    except (ClientError, InvariantViolation) as exc:
        line = failure_line(f"card action {req.id}", exc)
        if isinstance(exc, AmbiguousOutcome | Retryable):
            log.warning("card action left for the next run", key=str(key), error=str(exc))
            return Handled(None, line)
        text = f"{req.action} failed ({type(exc).__name__}: {exc})."
        if resuming or req.action in MONEY_ACTIONS:
            text += f" Check the card's Shopify transactions for the note giftbridge {key}."
        _close(ctx, req, ActionResult(CardActionOutcome.ERROR, text))
        return Handled(CardActionOutcome.ERROR.value, line)
    return _close(ctx, req, result)


def _card_gone(req: CardActionRequest, key: ActionKey, resuming: bool, why: str) -> ActionResult:
    """Card Not Found, unless a money action was under way: its row was deleted after the
    intent, so Shopify may have moved the money already (an Error for a person, not a
    rejection that says nothing changed)."""
    if not (resuming and req.action in MONEY_ACTIONS):
        return ActionResult(CardActionOutcome.CARD_NOT_FOUND, why)
    message = (
        f"The gift card row was deleted while this {req.action} was under way; check the card's "
        f"Shopify transactions for the note giftbridge {key} (the audit restores the row of a "
        "card giftbridge issued)."
    )
    return ActionResult(CardActionOutcome.ERROR, message)


def _close(ctx: Context, req: CardActionRequest, result: ActionResult) -> Handled:
    closing = CloseCardAction(
        req.id,
        status=request_status_for(result.outcome, email_failed=result.email_failed),
        outcome=result.outcome,
        message=result.message,
        processed_at=ctx.now(),
    )
    write_request(ctx.deps, closing)
    log.info("card action closed", key=f"action:{req.id}", outcome=result.outcome.value)
    return Handled(result.outcome.value)
