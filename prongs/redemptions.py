"""Store redemptions: debit Shopify first, then mirror its balance into Airtable, exactly once.

Requests are handled in groups of up to ten (``StoreConfig.redemption_batch``, Airtable's records
per write), so that a backlog costs about half an Airtable request per redemption. Each request
keeps its key ``redeem:<record id>`` and its own outcome; the group shares the Airtable traffic:

1. Find the cards by digest, read for the whole poll's page at once (:class:`Page`, 40 digests a
   request; :func:`prongs.lookup.find_by_codes`); a Shopify-issued card gets its Imported row,
   code by code. Nothing found: Format Incorrect or Not Found. Nothing has moved yet, so no
   intent is needed. (A page's rows can be tens of seconds old by its last group. That is
   harmless: Active and Redeemed mirror alike from Shopify's balance, the other statuses change
   through card actions, which this thread handles after redemptions, and Shopify, not the
   row, decides every debit.)
2. Take the group's card locks, by record id and by Shopify GID (the online prongs lock the
   GID), in sorted order, each once. A resumed request (Processing) reads Shopify back for its
   key's note first; a debit found there is this request's.
3. Decide each: Not Active (Pending), Voided, Expired, Invalid Amount (blank, zero, negative,
   finer than the currency, above MAX_AMOUNT), Exceeds Order Total (a certificate worth more
   than the order). A refusal decided here has touched nothing and needs no intent. A Redeemed
   card is still tried: the mirror may lag a refund, and Shopify's balance decides.
4. One write records the intent of every request about to be debited (Status Processing, the
   card linked); then the debits, one by one, each with note ``giftbridge <key>``. Shopify's
   refusals (INSUFFICIENT_FUNDS, an expired or disabled card) are recorded as the Outcome in one
   write, still Processing, before anything acts on them, so a resume finishes the same refusal.
5. One write mirrors the balances Shopify returned into the cards (Redeemed at zero; a card
   debited twice gets its latest balance), one upsert writes the receipts (Redeemed or
   Redemption Rejected), each store gets its notice (Klaviyo, one per request), and one write
   closes the requests (Status, Outcome, Result Message, Balance After, Shopify Transaction ID,
   Processed At, Code masked). Every prefix of these writes is a recovery point: the closing
   write comes last, and balances come only from Shopify's answers.

A certificate (Kind Certificate) is used in full: the debit is its whole balance as Shopify holds
it, and Amount is not used. It must not exceed the order: the Order Total, or Amount when Order
Total is blank (staff may type the order total there); both blank is Invalid Amount.

Failures are per request. Before the intent, an error closes the request as Error (Needs
Attention) so the till hears at once. After the intent, an ambiguous or transient error leaves it
Processing for the next run (whose read-back settles it); Shopify refusing outright (nothing
moved) closes it. A permanent failure after the debit keeps Outcome Success with Status Needs
Attention. A record Airtable refuses in a batched write (422) costs only itself: the adapter
writes the rest one by one, and that request alone fails as above (a refused closing write is
replaced by a plainer one: Needs Attention, with the Outcome and the masked code).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import structlog

from cards.status import status_for_balance
from cards.vocab import CardStatus, RedemptionOutcome, RequestStatus
from clients.commands import (
    CardUpdate,
    CloseRedemptionMinimally,
    MirrorBalance,
    Queue,
    RecordIntent,
    RecordRedemptionRefusal,
)
from clients.errors import ClientError, InvariantViolation, Permanent
from clients.records import RedemptionRequest, TransactionKind
from prongs._redeem_rules import (
    Closing,
    Item,
    Verdict,
    closing,
    fail,
    plan,
    refusal,
    success,
    typed_amount,
)
from prongs.exactly_once import move_money, read_back, write_cards, write_request, write_requests
from prongs.lookup import Known, Lookup, digests_of, find_by_codes, read_digests
from prongs.notices import write_receipts
from prongs.store_context import Context, Handled, failure_line

log = structlog.get_logger("giftbridge.prongs")

R = RedemptionOutcome


def handle(ctx: Context, req: RedemptionRequest) -> Handled:
    """One request (a group of one)."""
    return handle_group(ctx, [req])[0]


class Page:
    """The fresh requests of one poll, handled in groups: the digests of the whole page are read
    first (40 to a request), so a group reads no more unless that read failed."""

    def __init__(self, requests: Sequence[RedemptionRequest]) -> None:
        self.requests = list(requests)
        self.known: Known | None = None

    def handle_group(self, ctx: Context, group: Sequence[RedemptionRequest]) -> list[Handled]:
        if self.known is None:
            self.known = {}
            texts = [r.code_text for r in self.requests]
            try:
                read_digests(ctx.deps, digests_of(ctx.card, texts), self.known)
            except ClientError as exc:  # each group reads its own instead
                log.warning("reading the page's digests failed", error=str(exc))
        return handle_group(ctx, group, self.known)


def handle_group(
    ctx: Context, requests: Sequence[RedemptionRequest], known: Known | None = None
) -> list[Handled]:
    """Handle up to ten requests together; one :class:`Handled` per request, in order.
    ``known``: card rows by digest read beforehand (see :class:`Page`)."""
    items = [Item(r, intent=r.status == RequestStatus.PROCESSING) for r in requests]
    _look_up(ctx, items, known)
    with ctx.deps.card_locks.hold_cards([i.card for i in items if i.card is not None]):
        for item in items:
            if item.open:
                _decide(ctx, item)
        _record_intents(ctx, [i for i in items if i.open and i.amount is not None and not i.intent])
        for item in items:
            if item.open and item.amount is not None and item.intent:
                _debit(ctx, item)
        _record_refusals(ctx, [i for i in items if i.refused and i.result is None])
        _mirror(ctx, [i for i in items if i.open and i.money is not None])
        _finish(ctx, [i for i in items if i.result is None and i.verdict is not None])
    return [i.result or Handled(None, i.error) for i in items]


def _look_up(ctx: Context, items: list[Item], known: Known | None) -> None:
    try:
        found = find_by_codes(ctx.deps, ctx.card, [i.req.code_text for i in items], known)
    except (ClientError, InvariantViolation) as exc:
        for item in items:
            fail(ctx, item, exc)
        return
    for item, result in zip(items, found, strict=True):
        if isinstance(result, Lookup):
            item.found = result
        else:
            fail(ctx, item, result)


def _decide(ctx: Context, item: Item) -> None:
    req, found = item.req, item.found
    if found is None:
        return
    if item.intent and req.outcome:  # a refusal recorded before its effects: finish it as decided
        item.verdict = Verdict(
            R(req.outcome), req.result_message or req.outcome, typed_amount(ctx, req)
        )
        return
    card = found.card
    if card is None:
        item.verdict = (
            Verdict(
                R.FORMAT_INCORRECT,
                "The code is not in the right format; check it and try again.",
                typed_amount(ctx, req),
            )
            if found.format_incorrect
            else Verdict(R.NOT_FOUND, "No gift card has this code.", typed_amount(ctx, req))
        )
        return
    try:
        if item.intent and card.shopify_id:
            item.saw(read_back(ctx.deps, card.shopify_id, item.key, req.created_time))
        if item.money is None:
            decided = plan(ctx, req, card)
            if isinstance(decided, Verdict):
                item.verdict = decided
            else:
                item.amount = decided
    except (ClientError, InvariantViolation) as exc:
        fail(ctx, item, exc)


def _record_intents(ctx: Context, items: list[Item]) -> None:
    """Status Processing for every request about to be debited, before the first debit."""
    intents = [
        RecordIntent(Queue.REDEMPTIONS, i.req.id, card_id=i.card.id)
        for i in items
        if i.card is not None
    ]
    refused = _write(ctx, items, lambda: write_requests(ctx.deps, intents))
    for item in items:
        if item.result is None and item.verdict is None:
            if item.req.id in refused:
                fail(ctx, item, refused[item.req.id])
            else:
                item.intent = True


def _debit(ctx: Context, item: Item) -> None:
    card, amount = item.card, item.amount
    if card is None or amount is None:
        return
    try:
        try:
            item.saw(
                move_money(
                    ctx.deps,
                    card.shopify_id or "",
                    TransactionKind.DEBIT,
                    amount,
                    item.key,
                    since=item.req.created_time,
                    check_first=False,
                )
            )
        except Permanent as exc:
            item.verdict = refusal(ctx, card, exc, amount)
            item.refused = True
    except (ClientError, InvariantViolation) as exc:
        fail(ctx, item, exc)


def _record_refusals(ctx: Context, items: list[Item]) -> None:
    """Shopify's refusals as Outcomes (still Processing) before receipts and notices."""
    refusals = [
        RecordRedemptionRefusal(i.req.id, i.verdict.outcome, i.verdict.message)
        for i in items
        if i.verdict is not None
    ]
    refused = _write(ctx, items, lambda: write_requests(ctx.deps, refusals))
    for item in items:
        item.refused = False
        if item.req.id in refused and item.result is None:
            fail(ctx, item, refused[item.req.id])


def _mirror(ctx: Context, items: list[Item]) -> None:
    """Shopify's balances into the card rows: the mirror, never computed here. Written in the
    order Shopify answered, so a card debited twice keeps the latest balance."""
    now = ctx.now()
    mirrors: list[CardUpdate] = []
    for item in sorted(items, key=lambda i: i.observed):
        if item.card is None or item.money is None:
            continue
        after = item.money.balance_after
        status = status_for_balance(item.card.status or CardStatus.ACTIVE, after.is_zero)
        mirrors.append(
            MirrorBalance(item.card.id, after, synced_at=now, status=status, activity_at=now)
        )
    refused = _write(ctx, items, lambda: write_cards(ctx.deps, mirrors))
    for item in items:
        if item.result is not None or item.verdict is not None or item.card is None:
            continue
        if item.card.id in refused:
            fail(ctx, item, refused[item.card.id])
        elif item.money is not None:
            item.verdict = success(item.card, item.found, item.money)


def _finish(ctx: Context, items: list[Item]) -> None:
    """Notices (one per request), then one receipts upsert, then one closing write."""
    closings: dict[str, Closing] = {}
    try:
        for item in items:
            if item.verdict is not None:
                closings[item.req.id] = closing(ctx, item.req, _lookup_of(item), item.verdict)
        write_receipts(ctx.deps, [r for c in closings.values() for r in c.receipts])
        refused = write_requests(ctx.deps, [c.write for c in closings.values()])
    except ClientError as exc:
        for item in items:  # left as it is: the next run does it again, safely
            _leave(item, exc)
        return
    for item in items:
        done = closings[item.req.id]
        if item.req.id in refused:
            item.result = _close_plainly(ctx, item, done, refused[item.req.id])
            continue
        item.result = Handled(done.verdict.outcome.value, item.error)
        log.info(
            "redemption finished",
            key=str(item.key),
            outcome=done.verdict.outcome.value,
            card=done.card_id,
        )


def _close_plainly(ctx: Context, item: Item, done: Closing, exc: Permanent) -> Handled:
    """Airtable refused this request's closing write (a value, a link): close it with the
    fields that cannot be refused, for a person to look at."""
    item.error = failure_line(f"redemption {item.req.id}", exc)
    outcome = done.verdict.outcome if done.verdict.money is not None else R.ERROR
    minimal = CloseRedemptionMinimally(
        item.req.id,
        outcome=outcome,
        message=f"{done.verdict.message} (Airtable refused the full result: {exc})",
        processed_at=ctx.now(),
        masked_code=done.write.masked_code,
    )
    try:
        write_request(ctx.deps, minimal)
    except ClientError as again:
        return Handled(None, failure_line(f"redemption {item.req.id}", again))
    return Handled(outcome.value, item.error)


def _lookup_of(item: Item) -> Lookup:
    return item.found or Lookup(item.req.code_text or "", None, None, format_incorrect=False)


def _write(
    ctx: Context, items: list[Item], write: Callable[[], dict[str, Permanent]]
) -> dict[str, Permanent]:
    """A batched write for ``items``; when it fails as a whole, so does each of them."""
    try:
        return write()
    except ClientError as exc:
        for item in items:
            if item.result is None:
                fail(ctx, item, exc)
        return {}


def _leave(item: Item, exc: ClientError) -> None:
    item.error = failure_line(f"redemption {item.req.id}", exc)
    item.result = Handled(None, item.error)
