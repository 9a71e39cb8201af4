"""After the debit: a group of store redemptions mirrored into the cards, noticed and closed.

The last steps of :mod:`prongs.redemptions` (its step 5), each a recovery point: one write
mirrors the balances Shopify returned into the cards (:func:`mirror_balances`); then each store
gets its notice (Klaviyo, one per request, safe to repeat: Klaviyo drops a repeated
``unique_id``), one upsert writes the receipts (Redeemed or Redemption Rejected, and Email
Failed for a notice that kept failing), and one write closes the requests
(:func:`notify_stores_and_close`). The closing write comes last, so a crash anywhere before it
leaves the requests to be finished again by the next run, with nothing doubled.

A request whose closing write Airtable refuses (a value, a link) is closed again with only the
cells that cannot be refused: Needs Attention, the Outcome and the masked code.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import structlog

from cards.keys import ActionKey
from cards.money import Money
from cards.redemption import Refuse, success_message
from cards.status import status_for_balance
from cards.vocab import (
    Audience,
    CardStatus,
    Kind,
    ReceiptAction,
    ReceiptSource,
    RedemptionOutcome,
    request_status_for,
)
from clients.commands import CardUpdate, CloseRedemption, CloseRedemptionMinimally, MirrorBalance
from clients.errors import ClientError, Permanent
from clients.records import CardRow, Receipt, RedemptionRequest, TransactionResult
from prongs import emails
from prongs.exactly_once import write_cards, write_request, write_requests
from prongs.lookup import Lookup
from prongs.notices import EmailJob, ReceiptBase, send_emails, write_receipts
from prongs.store_context import Context, Handled, failure_line

log = structlog.get_logger("giftbridge.prongs")


@dataclass(frozen=True, slots=True)
class Verdict:
    """How a redemption ended (or a refusal decided on the way)."""

    outcome: RedemptionOutcome
    message: str
    amount: Money | None = None
    money: TransactionResult | None = None  # the debit, made or read back
    attention: bool = False  # the money step is done but something after it failed

    @classmethod
    def refused(cls, refusal: Refuse) -> Verdict:
        return cls(refusal.outcome, refusal.message, refusal.amount)

    @classmethod
    def succeeded(cls, kind: Kind | None, masked: str, money: TransactionResult) -> Verdict:
        amount, after = money.transaction.amount, money.balance_after
        text = success_message(kind, masked, amount, after)
        return cls(RedemptionOutcome.SUCCESS, text, amount, money)

    @classmethod
    def failed(
        cls,
        req: RedemptionRequest,
        exc: Exception,
        *,
        intent: bool,
        money: TransactionResult | None,
        typed: Money | None,
    ) -> Verdict:
        """A failure that closes the request: Success needing attention when the money moved
        (the row could not be updated), else Error, saying whether a debit may have happened."""
        problem = f"{type(exc).__name__}: {exc}"
        if money is not None:
            amount = money.transaction.amount
            text = f"Redeemed {amount}, but the card row could not be updated ({problem})."
            return cls(RedemptionOutcome.SUCCESS, text, amount, money, attention=True)
        text = (
            f"Could not confirm whether the card was debited ({problem}); check its Shopify "
            f"transactions for the note giftbridge redeem:{req.id}."
            if intent
            else f"Something went wrong ({problem}); nothing was debited."
        )
        return cls(RedemptionOutcome.ERROR, text, typed)


@dataclass(frozen=True, slots=True)
class Ending:
    """One request of a group ready to be closed."""

    req: RedemptionRequest
    found: Lookup
    verdict: Verdict
    error: str | None  # a failure line already reported for it


@dataclass(frozen=True, slots=True)
class Closing:
    """Finishing one request: its receipts (its store notice already sent) and the write that
    closes its row."""

    verdict: Verdict
    card_id: str | None
    receipts: list[Receipt]
    write: CloseRedemption


def mirror_balances(ctx: Context, answers: Sequence[tuple[CardRow, Money]]) -> dict[str, Permanent]:
    """Shopify's balances into the card rows, in the order given (the order Shopify answered,
    so a card debited twice keeps the latest balance): the mirror, never computed here.
    Returns the cards Airtable refused; raises when the write fails as a whole."""
    now = ctx.now()
    mirrors: list[CardUpdate] = [
        MirrorBalance(
            card.id,
            after,
            synced_at=now,
            status=status_for_balance(card.status or CardStatus.ACTIVE, after.is_zero),
            activity_at=now,
        )
        for card, after in answers
    ]
    return write_cards(ctx.deps, mirrors)


def notify_stores_and_close(ctx: Context, endings: Sequence[Ending]) -> list[Handled]:
    """Notices (one per request), then one receipts upsert, then one closing write; one
    :class:`Handled` per ending, in order. What fails leaves its requests as they are (the next
    run does it all again, safely): a notice or closing that cannot be built, its own request;
    a write Airtable fails, every request in it; an unexpected exception in a write is tried
    again request by request, so it stays with the request that caused it."""
    handled: list[Handled | None] = []
    ready: list[tuple[int, Ending, Closing]] = []
    for index, ending in enumerate(endings):
        try:
            closing = notify_store_and_build_closing(ctx, ending.req, ending.found, ending.verdict)
        except Exception as exc:
            handled.append(_left(ending, exc))
            continue
        handled.append(None)
        ready.append((index, ending, closing))
    for index, result in _write_closings(ctx, ready):
        handled[index] = result
    return [h if h is not None else Handled(None) for h in handled]


def _write_closings(
    ctx: Context, ready: Sequence[tuple[int, Ending, Closing]]
) -> list[tuple[int, Handled]]:
    if not ready:
        return []
    try:
        write_receipts(ctx.deps, [r for _, _, c in ready for r in c.receipts])
        refused = write_requests(ctx.deps, [c.write for _, _, c in ready])
    except ClientError as exc:
        return [(index, _left(ending, exc)) for index, ending, _ in ready]
    except Exception as exc:
        if len(ready) == 1:
            return [(ready[0][0], _left(ready[0][1], exc))]
        return [result for one in ready for result in _write_closings(ctx, [one])]
    results = []
    for index, ending, done in ready:
        if ending.req.id in refused:
            results.append((index, _close_minimally(ctx, ending.req, done, refused[ending.req.id])))
            continue
        results.append((index, Handled(done.verdict.outcome.value, ending.error)))
        log.info(
            "redemption finished",
            key=str(ActionKey.redeem(ending.req.id)),
            outcome=done.verdict.outcome.value,
            card=done.card_id,
        )
    return results


def _left(ending: Ending, exc: Exception) -> Handled:
    """The request stays as it is for the next run; an unexpected exception is an attempt."""
    line = failure_line(f"redemption {ending.req.id}", exc)
    unexpected = not isinstance(exc, ClientError)
    if unexpected:
        log.error("closing a redemption failed unexpectedly", request=ending.req.id, exc_info=exc)
    return Handled(None, line, attempt_failed=unexpected)


def notify_store_and_build_closing(
    ctx: Context, req: RedemptionRequest, found: Lookup, verdict: Verdict
) -> Closing:
    """Send the store notice (safe to repeat: Klaviyo drops a repeated unique_id) and build the
    receipt and the closing write; the caller writes them, receipts first."""
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


def _close_minimally(
    ctx: Context, req: RedemptionRequest, done: Closing, exc: Permanent
) -> Handled:
    """Airtable refused this request's closing write (a value, a link): close it with the
    cells that cannot be refused, for a person to look at."""
    error = failure_line(f"redemption {req.id}", exc)
    outcome = done.verdict.outcome if done.verdict.money is not None else RedemptionOutcome.ERROR
    minimal = CloseRedemptionMinimally(
        req.id,
        outcome=outcome,
        message=f"{done.verdict.message} (Airtable refused the full result: {exc})",
        processed_at=ctx.now(),
        masked_code=done.write.masked_code,
    )
    try:
        write_request(ctx.deps, minimal)
    except ClientError as again:
        return Handled(None, failure_line(f"redemption {req.id}", again))
    return Handled(outcome.value, error)
