"""Store redemptions: debit Shopify first, then mirror its balance into Airtable, exactly once.

Requests are handled in groups of up to ten (``StoreConfig.redemption_batch``, Airtable's records
per write), so that a backlog costs about half an Airtable request per redemption. Each request
keeps its key ``redeem:<record id>`` and its own outcome; the group shares the Airtable traffic:

0. Store authority (:mod:`cards.authority`): a fresh request must link exactly one Active
   store, else it is Not Allowed: nothing looked up, nothing debited, the store told why.
1. Find the cards by digest, read for the whole poll's page at once (:class:`Page`, 40 digests a
   request; :func:`prongs.lookup.find_by_codes`); a Shopify-issued card gets its Imported row,
   code by code. Nothing found: Format Incorrect or Not Found. Nothing has moved yet, so no
   intent is needed. (A page's rows can be tens of seconds old by its last group. That is
   harmless: Active and Redeemed mirror alike from Shopify's balance, the other statuses change
   through card actions, which this thread handles after redemptions, and Shopify, not the
   row, decides every debit.)
2. Take the group's card locks, by record id and by Shopify GID (the online prongs lock the
   GID), in sorted order, each once. A resumed request (Processing) takes the card its intent
   linked (not what the Code cell says now: staff may have edited it after the debit) and reads
   Shopify back for its key's note first; a debit found there is this request's.
3. Decide each (:func:`cards.redemption.decide`, pure; a certificate's value is read from
   Shopify first): Not Active (Pending), Voided, Expired, Invalid Amount (blank, zero,
   negative, not a number, finer than the currency, above MAX_AMOUNT), Exceeds Order Total (a
   certificate worth more than the order: a certificate is used in full, see
   :mod:`cards.redemption`). A refusal decided here has touched nothing and needs no intent. A
   Redeemed card is still tried: the mirror may lag a refund, and Shopify's balance decides.
4. One write records the intent of every request about to be debited (Status Processing, the
   card linked); then the debits, one by one, each with note ``giftbridge <key>``. Shopify's
   refusals (INSUFFICIENT_FUNDS, an expired or disabled card) are recorded as the Outcome in one
   write, still Processing, before anything acts on them, so a resume finishes the same refusal.
5. (:mod:`prongs.redemption_closing`) One write mirrors the balances Shopify returned into the
   cards (Redeemed at zero; a card debited twice gets its latest balance), each store gets its
   notice (Klaviyo, one per request), one upsert writes the receipts (Redeemed or Redemption
   Rejected), and one write closes the requests (Status, Outcome, Result Message, Balance After,
   Shopify Transaction ID, Processed At, Code masked). Every prefix of these writes is a
   recovery point: the closing write comes last, and balances come only from Shopify's answers.

Failures are per request. Before the intent, an error closes the request as Error (Needs
Attention) so the till hears at once. After the intent, an ambiguous or transient error leaves it
Processing for the next run (whose read-back settles it); Shopify refusing outright (nothing
moved) closes it. A permanent failure after the debit keeps Outcome Success with Status Needs
Attention. A record Airtable refuses in a batched write (422) costs only itself: the adapter
writes the rest one by one, and that request alone fails as above (a refused closing write is
replaced by a plainer one: Needs Attention, with the Outcome and the masked code). An
unexpected exception (a value no rule foresaw) stays with its request in every phase: that
request is left as it is, the others go on, and the attempt counts (:mod:`prongs.containment`).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence

import structlog

from cards import redemption
from cards.errors import InvariantViolation
from cards.money import Money
from cards.vocab import RedemptionOutcome, RequestStatus
from clients.commands import Queue, RecordIntent, RecordRedemptionRefusal, RequestWrite
from clients.errors import AmbiguousOutcome, ClientError, Permanent, Retryable
from clients.records import CardRow, RedemptionRequest, TransactionKind, TransactionResult
from prongs.exactly_once import move_money, read_back, write_requests
from prongs.lookup import Known, Lookup, digests_of, find_by_codes, read_digests
from prongs.redemption_closing import Ending, Verdict, mirror_balances, notify_stores_and_close
from prongs.redemption_item import Item, explain_refusal_from_shopify, read_certificate_value
from prongs.store_context import Context, Handled, failure_line

log = structlog.get_logger("giftbridge.prongs")


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
            except Exception as exc:  # each group reads its own instead
                log.warning("reading the page's digests failed", error=str(exc))
        return handle_group(ctx, group, self.known)


def handle_group(
    ctx: Context, requests: Sequence[RedemptionRequest], known: Known | None = None
) -> list[Handled]:
    """Handle up to ten requests together; one :class:`Handled` per request, in order.
    ``known``: card rows by digest read beforehand (see :class:`Page`)."""
    group = _Group(ctx, [Item(r, intent=r.status == RequestStatus.PROCESSING) for r in requests])
    group.check_stores()
    group.look_up(known)
    items = group.items
    with ctx.deps.card_locks.hold_cards([i.card for i in items if i.card is not None]):
        for item in items:
            if item.open:
                group.decide(item)
        group.record_intents([i for i in items if i.open and i.amount is not None and not i.intent])
        for item in items:
            if item.open and item.amount is not None and item.intent:
                group.debit_in_shopify(item)
        group.record_refusals([i for i in items if i.refused and i.result is None])
        group.mirror([i for i in items if i.open and i.money is not None])
        group.finish([i for i in items if i.result is None and i.verdict is not None])
    return [i.result or Handled(None, i.error) for i in items]


class _Group:
    """The phases of one group; each phase works on the items still in play."""

    def __init__(self, ctx: Context, items: list[Item]) -> None:
        self.ctx = ctx
        self.items = items
        self._answers = itertools.count(1)  # orders Shopify's answers within the group

    def saw(self, item: Item, money: TransactionResult | None) -> None:
        item.money = money
        item.answered = next(self._answers)

    def check_stores(self) -> None:
        """Store authority, before anything is looked up: a fresh request must link exactly one
        Active store, else Not Allowed. A resumed one was authorised when its intent was
        recorded, and its debit may have happened: it goes on."""
        for item in (i for i in self.items if not i.intent):
            try:
                why = self.ctx.store_refusal(item.req.store_ids, required=True)
                if why is not None:
                    typed = redemption.typed_amount(item.req.amount, self.ctx.card.currency)
                    item.verdict = Verdict(RedemptionOutcome.NOT_ALLOWED, why, typed)
            except Exception as exc:  # Stores could not be read, or a value no rule foresaw
                self.fail(item, exc)

    def look_up(self, known: Known | None) -> None:
        self._take_intended_cards()
        items = [i for i in self.items if i.open and i.found is None]
        texts = [i.req.code_text for i in items]
        if not items:
            return
        try:
            found = find_by_codes(self.ctx.deps, self.ctx.card, texts, known)
        except Exception as exc:
            for item in items:
                self.fail(item, exc)
            return
        for item, result in zip(items, found, strict=True):
            if isinstance(result, Lookup):
                item.found = result
            else:
                self.fail(item, result)

    def _take_intended_cards(self) -> None:
        """A resumed request's card is the one its intent linked, whatever the Code cell says
        now (staff may have edited it after the debit): its key is read back on that card."""
        for item in self.items:
            if not (item.open and item.intent and item.req.card_ids):
                continue
            try:
                card = self.ctx.deps.airtable.get_card(item.req.card_ids[0])
            except Exception as exc:
                self.fail(item, exc)
                continue
            if card is not None:  # a deleted row: found again by its code, as before
                item.found = Lookup(item.req.code_text or "", None, card, format_incorrect=False)

    def decide(self, item: Item) -> None:
        ctx, req, found = self.ctx, item.req, item.found
        if found is None:
            return
        currency = ctx.card.currency
        if item.intent and req.outcome:  # a refusal recorded before its effects: as decided
            message = req.result_message or req.outcome
            typed = redemption.typed_amount(req.amount, currency)
            item.verdict = Verdict(RedemptionOutcome(req.outcome), message, typed)
            return
        card, today, limits = found.card, ctx.now().date(), ctx.card.limits
        try:
            # A resumed request reads its key back; so does every request while another owner
            # may have acted lately (a lease taken over: DESIGN.md, two processes).
            looks_back = item.intent or ctx.fence.contested()
            if card is not None and looks_back and card.shopify_id:
                self.saw(item, read_back(ctx.deps, card.shopify_id, item.key, req.created_time))
            if item.money is not None:
                return
            decision = redemption.decide(
                card, req, today, limits, currency=currency, format_incorrect=found.format_incorrect
            )
            if isinstance(decision, redemption.CheckCertificateValue) and card is not None:
                value = read_certificate_value(ctx, card)
                decision = redemption.decide_certificate(value, decision.order_total)
            if isinstance(decision, redemption.Debit):
                item.amount = decision.amount
            elif isinstance(decision, redemption.Refuse):
                item.verdict = Verdict.refused(decision)
        except Exception as exc:
            self.fail(item, exc)

    def record_intents(self, items: list[Item]) -> None:
        """Status Processing for every request about to be debited, before the first debit."""

        def intents(some: list[Item]) -> list[RequestWrite]:
            return [
                RecordIntent(Queue.REDEMPTIONS, i.req.id, card_id=i.card.id)
                for i in some
                if i.card is not None
            ]

        refused = self._write(items, lambda some: write_requests(self.ctx.deps, intents(some)))
        for item in items:
            if item.result is None and item.verdict is None:
                if item.req.id in refused:
                    self.fail(item, refused[item.req.id])
                else:
                    item.intent = True

    def debit_in_shopify(self, item: Item) -> None:
        """Debit Shopify under the request's key (read back, never blind, when ambiguous)."""
        card, amount = item.card, item.amount
        if card is None or amount is None:
            return
        try:
            try:
                self.ctx.fence.fence()  # the lease still proven, right before the debit
                money = move_money(
                    self.ctx.deps,
                    card.shopify_id or "",
                    TransactionKind.DEBIT,
                    amount,
                    item.key,
                    since=item.req.created_time,
                    check_first=False,
                )
                self.saw(item, money)
            except Permanent as exc:
                item.verdict = Verdict.refused(
                    explain_refusal_from_shopify(self.ctx, card, exc, amount)
                )
                item.refused = True
        except Exception as exc:
            self.fail(item, exc)

    def record_refusals(self, items: list[Item]) -> None:
        """Shopify's refusals as Outcomes (still Processing) before receipts and notices."""

        def refusals(some: list[Item]) -> list[RequestWrite]:
            return [
                RecordRedemptionRefusal(i.req.id, i.verdict.outcome, i.verdict.message)
                for i in some
                if i.verdict is not None
            ]

        refused = self._write(items, lambda some: write_requests(self.ctx.deps, refusals(some)))
        for item in items:
            item.refused = False
            if item.req.id in refused and item.result is None:
                self.fail(item, refused[item.req.id])

    def mirror(self, items: list[Item]) -> None:
        """Shopify's balances into the card rows, in the order Shopify answered."""

        def answers(some: list[Item]) -> list[tuple[CardRow, Money]]:
            return [
                (i.card, i.money.balance_after)
                for i in sorted(some, key=lambda i: i.answered)
                if i.card is not None and i.money is not None
            ]

        refused = self._write(items, lambda some: mirror_balances(self.ctx, answers(some)))
        for item in items:
            if item.result is not None or item.verdict is not None or item.card is None:
                continue
            if item.card.id in refused:
                self.fail(item, refused[item.card.id])
            elif item.money is not None:
                masked = item.found.masked if item.found is not None else ""
                item.verdict = Verdict.succeeded(item.card.kind, masked, item.money)

    def finish(self, items: list[Item]) -> None:
        def found(item: Item) -> Lookup:  # what was typed, when the look-up failed
            return item.found or Lookup(item.req.code_text or "", None, None, False)

        endings = [Ending(i.req, found(i), i.verdict, i.error) for i in items if i.verdict]
        for item, handled in zip(items, notify_stores_and_close(self.ctx, endings), strict=True):
            item.result = handled
            item.error = handled.error

    def fail(self, item: Item, exc: Exception) -> None:
        """An unexpected exception (not a ClientError or InvariantViolation) is contained: the
        request is left as it is and the attempt counts (:mod:`prongs.containment`). After the
        intent, a transient or ambiguous failure waits for the next run's read-back; anything
        else closes the request, for a person to look at (the till hears at once)."""
        req = item.req
        item.error = failure_line(f"redemption {req.id}", exc)
        item.refused = False
        if not isinstance(exc, ClientError | InvariantViolation):
            log.error("redemption failed unexpectedly", key=str(item.key), exc_info=exc)
            item.result = Handled(None, item.error, attempt_failed=True)
            return
        if item.intent and isinstance(exc, AmbiguousOutcome | Retryable):
            log.warning("redemption left Processing to resume", key=str(item.key), error=str(exc))
            item.result = Handled(None, item.error)
            return
        typed = redemption.typed_amount(req.amount, self.ctx.card.currency)
        item.verdict = Verdict.failed(req, exc, intent=item.intent, money=item.money, typed=typed)

    def _write(
        self, items: list[Item], write: Callable[[list[Item]], dict[str, Permanent]]
    ) -> dict[str, Permanent]:
        """A batched write for ``items``; when Airtable fails it as a whole, so does each of
        them. An unexpected exception is tried again item by item, so that it stays with the
        item that caused it."""
        try:
            return write(items)
        except ClientError as exc:
            for item in items:
                if item.result is None:
                    self.fail(item, exc)
            return {}
        except Exception as exc:
            if len(items) == 1:
                if items[0].result is None:
                    self.fail(items[0], exc)
                return {}
            refused: dict[str, Permanent] = {}
            for item in items:
                refused.update(self._write([item], write))
            return refused
