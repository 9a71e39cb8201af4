"""Creation requests: validate, issue the card (:mod:`prongs.issuance`), notify the store.

Validation is a pure function of the request and the configuration, so a request that crashed
half-way is validated again to the same answer; the Pending Gift Cards row with Origin Key
``create:<record id>`` is the recorded intent (DESIGN.md allows it instead of Processing), so a
valid request costs no separate Processing write.

- Channel -> Source: Store -> Store, Phone and Email -> Manual, Portal -> Portal. A blank Channel
  counts as Store when a store is linked, else as Phone (Manual).
- Refused (Status Rejected, nothing created): Portal Disabled; Invalid Amount (blank, finer than
  the currency, outside MIN_AMOUNT..MAX_AMOUNT); Missing Information (no purchaser name; for a gift
  no recipient name; no email for whoever receives the code); Invalid Email (any given address
  malformed). The holder's email is required because the code reaches nobody otherwise; a gift's
  purchaser email is optional (no confirmation without it).
- Any linked store gets ``Gift Card Store Notice`` (notice ``issue``) for every outcome.
- A transient failure (Retryable, an unresolved ambiguity) leaves the request for the next run,
  which resumes from the Pending row; a permanent one is Outcome Error, Needs Attention.
"""

from __future__ import annotations

from dataclasses import dataclass

import structlog

from cards.addresses import is_email
from cards.keys import ActionKey
from cards.money import Money, MoneyError
from cards.vocab import (
    Audience,
    CardSource,
    Channel,
    CreationOutcome,
    Kind,
    ReceiptAction,
    ReceiptSource,
    RequestStatus,
    Theme,
    request_status_for,
)
from clients.commands import CloseCreation
from clients.errors import AmbiguousOutcome, ClientError, InvariantViolation, Retryable
from clients.records import CardRow, CreationRequest, Store
from prongs import emails
from prongs.exactly_once import write_request
from prongs.issuance import Issued, IssueOrder, issue_card
from prongs.notices import EmailJob, ReceiptBase, send_emails, write_receipts
from prongs.store_context import Context, Handled, failure_line

log = structlog.get_logger("giftbridge.prongs")

_SOURCES = {
    Channel.STORE: (CardSource.STORE, ReceiptSource.STORE),
    Channel.PHONE: (CardSource.MANUAL, ReceiptSource.MANUAL),
    Channel.EMAIL: (CardSource.MANUAL, ReceiptSource.MANUAL),
    Channel.PORTAL: (CardSource.PORTAL, ReceiptSource.PORTAL),
}


@dataclass(frozen=True, slots=True)
class Refusal:
    outcome: CreationOutcome
    message: str
    amount: Money | None = None


def _text(value: str | None) -> str | None:
    return value.strip() if value and value.strip() else None


def validate(ctx: Context, req: CreationRequest) -> IssueOrder | Refusal:
    config = ctx.card
    channel = req.channel or (Channel.STORE if req.store_ids else Channel.PHONE)
    if channel == Channel.PORTAL and not ctx.config.portal_enabled:
        return Refusal(CreationOutcome.PORTAL_DISABLED, "Portal requests are turned off.")
    if req.amount is None:
        return Refusal(CreationOutcome.INVALID_AMOUNT, "The amount is missing.")
    try:
        amount = Money.of(req.amount, config.currency)
    except MoneyError:
        return Refusal(
            CreationOutcome.INVALID_AMOUNT,
            f"The amount {req.amount} has more decimals than {config.currency} allows.",
        )
    if problem := config.limits.problem(amount):
        text = f"{problem[0].upper()}{problem[1:]}."
        return Refusal(CreationOutcome.INVALID_AMOUNT, text, amount)
    purchaser, recipient = _text(req.purchaser_name), _text(req.recipient_name)
    buyer_email, gift_email = _text(req.purchaser_email), _text(req.recipient_email)
    missing = [
        label
        for label, absent in (
            ("the purchaser's name", purchaser is None),
            ("the recipient's name", req.is_gift and recipient is None),
            ("the recipient's email", req.is_gift and gift_email is None),
            ("the purchaser's email", not req.is_gift and buyer_email is None),
        )
        if absent
    ]
    if missing:
        return Refusal(
            CreationOutcome.MISSING_INFORMATION, f"Missing {', '.join(missing)}.", amount
        )
    bad = [e for e in (buyer_email, gift_email if req.is_gift else None) if e and not is_email(e)]
    if bad:
        return Refusal(CreationOutcome.INVALID_EMAIL, f"Not an email address: {bad[0]}.", amount)
    source, receipt_source = _SOURCES[channel]
    portal = channel == Channel.PORTAL
    return IssueOrder(
        key=ActionKey.create(req.id),
        amount=amount,
        source=source,
        receipt_source=receipt_source,
        purchase_receipts=(
            (ReceiptAction.PURCHASED_FROM_PORTAL, ReceiptAction.ACTIVATED_FROM_PORTAL)
            if portal
            else (ReceiptAction.PURCHASED,)
        ),
        kind=req.kind or Kind.GIFT_CARD,
        theme=req.theme or Theme.STANDARD,
        is_gift=req.is_gift,
        purchaser_name=purchaser,
        purchaser_email=buyer_email,
        recipient_name=recipient if req.is_gift else None,
        recipient_email=gift_email if req.is_gift else None,
        message=_text(req.message),
        store_id=req.store_ids[0] if req.store_ids else None,
        request_id=req.id,
    )


def handle(ctx: Context, req: CreationRequest) -> Handled:
    key = ActionKey.create(req.id)
    checked = validate(ctx, req)
    if isinstance(checked, Refusal):
        return _finish_refused(ctx, req, checked)
    store = ctx.store(req.store_ids)
    try:
        issued = issue_card(
            ctx.deps, ctx.card, checked, extra_emails=lambda row: _notice(ctx, req, store, row)
        )
    except (Retryable, AmbiguousOutcome) as exc:
        log.warning("creation left to resume", key=str(key), error=str(exc))
        return Handled(None, failure_line(f"creation {req.id}", exc))
    except (ClientError, InvariantViolation) as exc:
        line = failure_line(f"creation {req.id}", exc)
        _finish_refused(ctx, req, Refusal(CreationOutcome.ERROR, _error_message(exc)))
        return Handled(CreationOutcome.ERROR.value, line)
    return _finish_created(ctx, req, issued)


def _error_message(exc: BaseException) -> str:
    return f"The card could not be issued ({type(exc).__name__}: {exc}). A person must look."


def _created_message(row: CardRow, issued: Issued | None = None) -> str:
    value = row.initial_value.as_string() if row.initial_value else ""
    text = f"Issued {row.masked_code} for {value} {row.currency or ''}.".replace("  ", " ")
    if issued is not None and issued.failed:
        who = ", ".join(a.value for a in issued.failed)
        text += f" The email to the {who} kept failing; see the Email Failed receipt."
    return text


def _notice(
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
        message=_created_message(row),
        key=ActionKey.create(req.id),
        to=store.email,
        at=ctx.now(),
    )
    return [EmailJob(Audience.STORE, event, sent_receipt=False)]


def _finish_created(ctx: Context, req: CreationRequest, issued: Issued) -> Handled:
    outcome = CreationOutcome.CREATED
    status = request_status_for(outcome, email_failed=issued.email_failed)
    closing = CloseCreation(
        req.id,
        status=status,
        outcome=outcome,
        message=_created_message(issued.card, issued),
        processed_at=ctx.now(),
        card_id=issued.card.id,
    )
    write_request(ctx.deps, closing)
    return Handled(outcome.value)


def _finish_refused(ctx: Context, req: CreationRequest, refusal: Refusal) -> Handled:
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
