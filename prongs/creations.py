"""Creation requests: validate, issue the card (:mod:`prongs.issuance`), notify the store.

Validation is a pure function of the request and the configuration
(:func:`cards.creation.validate_creation`: the refusals, and Channel -> Source), so a request that
crashed half-way is validated again to the same answer; the Pending Gift Cards row with Origin
Key ``create:<record id>`` is the recorded intent (DESIGN.md allows it instead of Processing), so
a valid request costs no separate Processing write.

- Refused (Status Rejected, nothing created): Not Allowed (store authority,
  :mod:`cards.authority`: Channel Store needs exactly one Active store, and a store linked on
  any channel must be one Active store), Portal Disabled, Invalid Amount, Missing Information,
  Invalid Email.
- Any linked store gets ``Gift Card Store Notice`` (notice ``issue``) for every outcome.
- A transient failure (Retryable, an unresolved ambiguity) leaves the request for the next run,
  which resumes from the Pending row; a permanent one is Outcome Error, Needs Attention.
"""

from __future__ import annotations

from dataclasses import replace

import structlog

from cards.creation import CreationAsk, CreationProblem, validate_creation
from cards.errors import InvariantViolation
from cards.keys import ActionKey
from cards.money import Money
from cards.vocab import (
    Audience,
    Channel,
    CreationOutcome,
    ReceiptSource,
    RequestStatus,
    request_status_for,
)
from clients.commands import CloseCreation
from clients.errors import AmbiguousOutcome, ClientError, Retryable
from clients.records import CardRow, CreationRequest, Store
from prongs import emails
from prongs.exactly_once import again_if_ambiguous, write_request
from prongs.issuance import Issued, IssueOrder, code_for, find_our_card_in_shopify, issue_card
from prongs.notices import EmailJob, ReceiptBase, send_emails, write_receipts
from prongs.store_context import Context, Handled, failure_line

log = structlog.get_logger("giftbridge.prongs")


def creation_ask(req: CreationRequest) -> CreationAsk:
    """The request as the domain validates it."""
    return CreationAsk(
        amount=req.amount,
        purchaser_name=req.purchaser_name,
        purchaser_email=req.purchaser_email,
        recipient_name=req.recipient_name,
        recipient_email=req.recipient_email,
        is_gift=req.is_gift,
        channel=req.channel,
        has_store=bool(req.store_ids),
        message=req.message,
        kind=req.kind,
        theme=req.theme,
    )


def validate(ctx: Context, req: CreationRequest) -> IssueOrder | CreationProblem:
    """The card to issue for this request, or why not (:func:`cards.creation.validate_creation`)."""
    checked = validate_creation(
        creation_ask(req),
        currency=ctx.card.currency,
        limits=ctx.card.limits,
        portal_enabled=ctx.config.portal_enabled,
    )
    if isinstance(checked, CreationProblem):
        return checked
    return IssueOrder(
        key=ActionKey.create(req.id),
        amount=checked.amount,
        source=checked.source,
        receipt_source=checked.receipt_source,
        purchase_receipts=checked.purchase_receipts,
        kind=checked.kind,
        theme=checked.theme,
        is_gift=checked.is_gift,
        purchaser_name=checked.purchaser_name,
        purchaser_email=checked.purchaser_email,
        recipient_name=checked.recipient_name,
        recipient_email=checked.recipient_email,
        message=checked.message,
        store_id=req.store_ids[0] if req.store_ids else None,
        request_id=req.id,
    )


def handle(ctx: Context, req: CreationRequest) -> Handled:
    key = ActionKey.create(req.id)
    try:
        not_allowed = _store_refusal(ctx, req)
    except ClientError as exc:  # Stores or the card could not be read: the next run tries again
        return Handled(None, failure_line(f"creation {req.id}", exc))
    if not_allowed is not None:
        return _notify_store_and_close_refused(ctx, req, not_allowed)
    checked = validate(ctx, req)
    if isinstance(checked, CreationProblem):
        try:
            checked = _recorded_intent(ctx, req, checked)
        except ClientError as exc:
            return Handled(None, failure_line(f"creation {req.id}", exc))
        if isinstance(checked, CreationProblem):
            return _notify_store_and_close_refused(ctx, req, checked)
    store = ctx.store(req.store_ids)
    try:
        issued = issue_card(
            ctx.deps,
            ctx.card,
            checked,
            extra_emails=lambda row: _store_notice_job(ctx, req, store, row),
        )
    except (Retryable, AmbiguousOutcome) as exc:
        log.warning("creation left to resume", key=str(key), error=str(exc))
        return Handled(None, failure_line(f"creation {req.id}", exc))
    except (ClientError, InvariantViolation) as exc:
        line = failure_line(f"creation {req.id}", exc)
        _notify_store_and_close_refused(
            ctx, req, CreationProblem(CreationOutcome.ERROR, error_message(exc))
        )
        return Handled(CreationOutcome.ERROR.value, line)
    return _close_created(ctx, req, issued)


def _store_refusal(ctx: Context, req: CreationRequest) -> CreationProblem | None:
    """Not Allowed when the linked stores do not authorise the request (:mod:`cards.authority`:
    Channel Store needs exactly one Active store; any channel's linked store must be that).
    A request whose card is already on its way (:func:`started_value`) goes on: it was
    authorised then, and the card may exist in Shopify."""
    why = ctx.store_refusal(req.store_ids, required=req.channel is Channel.STORE)
    if why is None or started_value(ctx, req) is not None:
        return None
    return CreationProblem(CreationOutcome.NOT_ALLOWED, why)


def started_value(ctx: Context, req: CreationRequest) -> Money | None:
    """The value of the card already started for this request, or None: its Gift Cards row's
    (Origin Key ``create:<id>``, the recorded intent), or, that row deleted by staff, the
    Shopify card its key's code names (the code is derived from the key). Read only on the
    refusal path: a request refused before anything started costs these reads once."""
    key = ActionKey.create(req.id)
    origin = str(key)
    row = again_if_ambiguous(lambda: ctx.deps.airtable.find_card(origin_key=origin))
    if row is not None:
        return row.initial_value or Money.zero(ctx.card.currency)
    ours = find_our_card_in_shopify(ctx.deps, code_for(ctx.card, key), key)
    return ours.initial_value if ours is not None else None


def _recorded_intent(
    ctx: Context, req: CreationRequest, refusal: CreationProblem
) -> IssueOrder | CreationProblem:
    """The refusal, unless the request's card is already on its way (see :func:`resume_edited`)."""
    value = started_value(ctx, req)
    return refusal if value is None else resume_edited(ctx, req, value)


def resume_edited(ctx: Context, req: CreationRequest, value: Money) -> IssueOrder | CreationProblem:
    """A refused request whose card is already on its way (staff edited the request after a run
    had recorded the intent, and the card may exist in Shopify) is never Rejected: it goes on
    with the value the card was started for. Refused even so (another field was spoiled), it is
    an Error for a person, naming the field, not a silent Rejected."""
    checked = validate(ctx, replace(req, amount=value.amount))
    if isinstance(checked, IssueOrder):
        log.warning("creation edited after its intent", key=str(checked.key))
        return checked
    return CreationProblem(
        CreationOutcome.ERROR,
        f"The request was edited after its card of {value} was started, and now: "
        f"{checked.message} Restore the request's fields or void the card; a person must look.",
    )


def error_message(exc: BaseException) -> str:
    return f"The card could not be issued ({type(exc).__name__}: {exc}). A person must look."


def created_message(row: CardRow, issued: Issued | None = None) -> str:
    """The Result Message of a request that issued its card."""
    value = row.initial_value.as_string() if row.initial_value else ""
    text = f"Issued {row.masked_code} for {value} {row.currency or ''}.".replace("  ", " ")
    if issued is not None and issued.failed:
        who = ", ".join(a.value for a in issued.failed)
        text += f" The email to the {who} kept failing; see the Email Failed receipt."
    return text


def _store_notice_job(
    ctx: Context, req: CreationRequest, store: Store | None, row: CardRow
) -> list[EmailJob]:
    if store is None or not store.email:
        return []
    event = emails.store_notice(
        notice=emails.STORE_NOTICE_ISSUE,
        outcome=CreationOutcome.CREATED.value,
        masked_code=row.masked_code,
        amount=row.initial_value,
        currency=ctx.card.currency,
        balance_after=row.balance,
        request_id=req.id,
        message=created_message(row),
        key=ActionKey.create(req.id),
        to=store.email,
        at=ctx.now(),
    )
    return [EmailJob(Audience.STORE, event, sent_receipt=False)]


def _close_created(ctx: Context, req: CreationRequest, issued: Issued) -> Handled:
    outcome = CreationOutcome.CREATED
    status = request_status_for(outcome, email_failed=issued.email_failed)
    closing = CloseCreation(
        req.id,
        status=status,
        outcome=outcome,
        message=created_message(issued.card, issued),
        processed_at=ctx.now(),
        card_id=issued.card.id,
    )
    write_request(ctx.deps, closing)
    return Handled(outcome.value)


def _notify_store_and_close_refused(
    ctx: Context, req: CreationRequest, refusal: CreationProblem
) -> Handled:
    """A request that made no card: tell the store (if any), then close the request."""
    key = ActionKey.create(req.id)
    email_failed = False
    store = ctx.store(req.store_ids)
    if store is not None and store.email:
        event = emails.store_notice(
            notice=emails.STORE_NOTICE_ISSUE,
            outcome=refusal.outcome.value,
            masked_code=None,
            amount=refusal.amount,
            currency=ctx.card.currency,
            balance_after=None,
            request_id=req.id,
            message=refusal.message,
            key=key,
            to=store.email,
            at=ctx.now(),
        )
        base = ReceiptBase(key, ReceiptSource.STORE, ctx.now(), store_id=store.id, request=req.id)
        mailing = send_emails(
            ctx.deps, ctx.card, [EmailJob(Audience.STORE, event, sent_receipt=False)], base
        )
        write_receipts(ctx.deps, mailing.receipts)
        email_failed = bool(mailing.failed)
    status = request_status_for(refusal.outcome, email_failed=email_failed)
    if refusal.outcome == CreationOutcome.ERROR:
        status = RequestStatus.NEEDS_ATTENTION
    closing = CloseCreation(
        req.id,
        status=status,
        outcome=refusal.outcome,
        message=refusal.message,
        processed_at=ctx.now(),
    )
    write_request(ctx.deps, closing)
    log.info("creation refused", key=str(key), outcome=refusal.outcome.value)
    return Handled(refusal.outcome.value)
