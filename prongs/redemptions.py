"""Store redemptions: debit Shopify first, then mirror its balance into Airtable, exactly once.

One request, key ``redeem:<record id>``:

1. Find the card (:mod:`prongs.lookup`; a Shopify-issued card gets its Imported row). Nothing
   found: Format Incorrect or Not Found. Nothing has moved yet, so no intent is needed.
2. Under the card's lock: a resumed request (Processing) reads Shopify back for the key's note
   first; a debit found there is this request's, whatever the card looks like now.
3. Decide: Not Active (Pending), Voided, Expired, Invalid Amount (blank, zero, negative, finer
   than the currency, above MAX_AMOUNT), Exceeds Order Total (a certificate worth more than the
   order). A refusal decided here has touched nothing and is finished directly. A Redeemed
   card is still tried: the mirror may lag a refund, and Shopify's balance decides.
4. Record the intent (Status Processing, the card linked), debit with note ``giftbridge <key>``.
   Shopify's refusal (INSUFFICIENT_FUNDS, an expired or disabled card) is recorded as the Outcome
   first, still Processing, so a resume finishes the same refusal instead of deciding again.
5. Write Shopify's returned balance into the card (Redeemed at zero), then the receipt (Redeemed
   or Redemption Rejected) and the store notice, then close the request (Status, Outcome, Result
   Message, Balance After, Shopify Transaction ID, Processed At, Code masked).

A certificate (Kind Certificate) is used in full: the debit is its whole balance as Shopify holds
it, and Amount is not used. It must not exceed the order: the Order Total, or Amount when Order
Total is blank (staff may type the order total there); both blank is Invalid Amount.

Failures: before the intent, an error closes the request as Error (Needs Attention) so the till
hears at once. After the intent, an ambiguous or transient error leaves it Processing for the next
run (whose read-back settles it); Shopify refusing outright (nothing moved) closes it. A
permanent failure after the debit keeps Outcome Success with Status Needs Attention.
"""

from __future__ import annotations

from cards.keys import ActionKey
from cards.money import Money
from cards.status import status_for_balance
from cards.vocab import (
    Audience,
    CardStatus,
    Kind,
    ReceiptAction,
    ReceiptSource,
    RedemptionOutcome,
    RequestStatus,
    request_status_for,
)
from clients.errors import AmbiguousOutcome, ClientError, InvariantViolation, Permanent, Retryable
from clients.records import CardRow, Changes, RedemptionRequest, TransactionKind, TransactionResult
from config.layout import GiftCards, StoreRedemptions
from prongs import emails
from prongs._recipe import (
    CARD_LOCKS,
    Context,
    EmailJob,
    Handled,
    ReceiptBase,
    again_if_ambiguous,
    failure_line,
    log,
    move_money,
    read_back,
    send_emails,
    upsert_receipts,
    write_request,
)
from prongs._redeem_rules import Verdict, plan, refusal, typed_amount
from prongs.lookup import Lookup, find_by_code

R = RedemptionOutcome
TABLE = StoreRedemptions.TABLE


def handle(ctx: Context, req: RedemptionRequest) -> Handled:
    key = ActionKey.redeem(req.id)
    resuming = req.status == RequestStatus.PROCESSING
    try:
        found = find_by_code(ctx.deps, ctx.card, req.code_text)
    except (ClientError, InvariantViolation) as exc:
        return _fail(ctx, req, None, exc, intent=resuming)
    if resuming and req.outcome:  # a refusal recorded before its effects: finish it as decided
        typed = typed_amount(ctx, req)
        verdict = Verdict(R(req.outcome), req.result_message or req.outcome, typed)
        return _finish(ctx, req, found, verdict)
    if found.card is None:
        outcome = R.FORMAT_INCORRECT if found.format_incorrect else R.NOT_FOUND
        message = (
            "The code is not in the right format; check it and try again."
            if found.format_incorrect
            else "No gift card has this code."
        )
        return _finish(ctx, req, found, Verdict(outcome, message, typed_amount(ctx, req)))
    with CARD_LOCKS.hold(found.card.id):
        return _redeem(ctx, req, key, found, found.card, resuming)


def _redeem(
    ctx: Context,
    req: RedemptionRequest,
    key: ActionKey,
    found: Lookup,
    card: CardRow,
    resuming: bool,
) -> Handled:
    money: TransactionResult | None = None
    try:
        if resuming and card.shopify_id:
            money = read_back(ctx.deps, card.shopify_id, key, req.created_time)
        if money is None:
            amount = plan(ctx, req, card)
            if isinstance(amount, Verdict):
                return _finish(ctx, req, found, amount)
            if not resuming:
                intent: Changes = {
                    StoreRedemptions.STATUS: RequestStatus.PROCESSING,
                    StoreRedemptions.GIFT_CARD: (card.id,),
                }
                write_request(ctx.deps, TABLE, req.id, intent)
                resuming = True  # from here on the intent is recorded
            debited = _debit(ctx, req, key, card, amount)
            if isinstance(debited, Verdict):
                return _finish(ctx, req, found, debited)
            money = debited
        _mirror(ctx, card, money)
    except (ClientError, InvariantViolation) as exc:
        return _fail(ctx, req, found, exc, intent=resuming, money=money)
    amount, after = money.transaction.amount, money.balance_after
    text = (
        f"Certificate {found.masked} used in full: {amount}."
        if card.kind == Kind.CERTIFICATE
        else f"Redeemed {amount} from {found.masked}; {after} left."
    )
    return _finish(ctx, req, found, Verdict(R.SUCCESS, text, amount, money))


def _debit(
    ctx: Context, req: RedemptionRequest, key: ActionKey, card: CardRow, amount: Money
) -> TransactionResult | Verdict:
    """Debit exactly once; Shopify's refusal is recorded on the request before it is acted on."""
    try:
        return move_money(
            ctx.deps,
            card.shopify_id or "",
            TransactionKind.DEBIT,
            amount,
            key,
            since=req.created_time,
            check_first=False,
        )
    except Permanent as exc:
        verdict = refusal(ctx, card, exc, amount)
    write_request(
        ctx.deps,
        TABLE,
        req.id,
        {
            StoreRedemptions.OUTCOME: verdict.outcome,
            StoreRedemptions.RESULT_MESSAGE: verdict.message,
        },
    )
    return verdict


def _mirror(ctx: Context, card: CardRow, money: TransactionResult) -> None:
    """Shopify's balance into the card row: the mirror, never computed here."""
    now = ctx.now()
    status = status_for_balance(card.status or CardStatus.ACTIVE, money.balance_after.is_zero)
    again_if_ambiguous(
        lambda: ctx.deps.airtable.update_card(
            card.id,
            {
                GiftCards.BALANCE: money.balance_after,
                GiftCards.STATUS: status,
                GiftCards.LAST_ACTIVITY_AT: now,
                GiftCards.LAST_SYNCED_AT: now,
            },
        )
    )


def _fail(
    ctx: Context,
    req: RedemptionRequest,
    found: Lookup | None,
    exc: Exception,
    *,
    intent: bool,
    money: TransactionResult | None = None,
) -> Handled:
    """After the intent, a transient or ambiguous failure waits for the next run's read-back;
    anything else is closed now, for a person to look at (the till hears at once)."""
    line = failure_line(f"redemption {req.id}", exc)
    if intent and isinstance(exc, AmbiguousOutcome | Retryable):
        log.warning("redemption left Processing to resume", key=f"redeem:{req.id}", error=str(exc))
        return Handled(None, line)
    lookup = found or Lookup(req.code_text or "", None, None, format_incorrect=False)
    problem = f"{type(exc).__name__}: {exc}"
    if money is not None:
        amount = money.transaction.amount
        text = f"Redeemed {amount}, but the card row could not be updated ({problem})."
        _finish(ctx, req, lookup, Verdict(R.SUCCESS, text, amount, money, attention=True))
        return Handled(R.SUCCESS.value, line)
    text = (
        f"Could not confirm whether the card was debited ({problem}); check its Shopify "
        f"transactions for the note giftbridge redeem:{req.id}."
        if intent
        else f"Something went wrong ({problem}); nothing was debited."
    )
    _finish(ctx, req, lookup, Verdict(R.ERROR, text, typed_amount(ctx, req)))
    return Handled(R.ERROR.value, line)


def _finish(ctx: Context, req: RedemptionRequest, found: Lookup, verdict: Verdict) -> Handled:
    """Receipt, store notice, then close the request: every step safe to repeat."""
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
    upsert_receipts(ctx.deps, [receipt, *mailing.receipts])
    status = request_status_for(
        verdict.outcome, email_failed=bool(mailing.failed) or verdict.attention
    )
    write_request(
        ctx.deps,
        TABLE,
        req.id,
        {
            StoreRedemptions.STATUS: status,
            StoreRedemptions.OUTCOME: verdict.outcome,
            StoreRedemptions.RESULT_MESSAGE: verdict.message,
            StoreRedemptions.GIFT_CARD: (card_id,) if card_id else None,
            StoreRedemptions.BALANCE_AFTER: after,
            StoreRedemptions.SHOPIFY_TRANSACTION_ID: money.transaction.id if money else None,
            StoreRedemptions.PROCESSED_AT: ctx.now(),
            StoreRedemptions.CODE: found.masked or None,
        },
    )
    log.info("redemption finished", key=str(key), outcome=verdict.outcome.value, card=card_id)
    return Handled(verdict.outcome.value)
