"""The audit's two passes over Shopify's cards: incremental (changed cards) and full (all).

Both read Shopify's cards in ascending id order, ``id:>`` the last card compared, so either
resumes exactly where a run stopped (budget, crash, restart). Each batch is compared
(:mod:`prongs.audit_compare`), its findings handled (:mod:`prongs.audit_repair`), and only then
does the cursor move and the state get saved.
"""

from __future__ import annotations

from datetime import datetime
from functools import partial

from clients.records import CardRow, CardState, CardStatePage
from prongs.audit_compare import Findings, Look, compare
from prongs.audit_repair import handle
from prongs.audit_run import AuditRun, fresh_lookback
from prongs.audit_state import AuditState, Deferred, FullCursor, IncrementalCursor
from prongs.exactly_once import again_if_ambiguous

#: More rows than this in one chunk whose Shopify card is gone means giftbridge is looking at
#: the wrong shop (or Shopify lost track of it), not that cards went one by one.
MAX_GONE = 25


def card_number(gid: str) -> int:
    return int(gid.rsplit("/", 1)[-1].split("?", 1)[0])


# --- incremental --------------------------------------------------------------------------------


def incremental(run: AuditRun) -> None:
    """The cards Shopify updated since the mark: fields and transactions."""
    state, config, now = run.state, run.config, run.deps.clock.now()
    if state.incremental is None:
        # No mark: a first start, a lost STATE_DIR, or the lease handed over from a daemon on
        # another machine whose cards deferred for settling this state never saw.
        since = state.mark or now - fresh_lookback(config)
        state.incremental = IncrementalCursor(since=since, until=now - config.settle)
        state.last_incremental_at = now
        run.progress.save()
    cursor = state.incremental
    shopify, airtable = run.deps.shopify, run.deps.airtable
    while not run.should_stop():
        read = partial(
            shopify.list_cards,
            after_number=cursor.after_number,
            updated_since=cursor.since,
            limit=config.incremental_page,
        )
        page: CardStatePage = again_if_ambiguous(read)
        ready = [c for c in page.cards if c.updated_at <= cursor.until]
        _defer(state, [c for c in page.cards if c.updated_at > cursor.until], cursor.since)
        gids = [c.id for c in ready]
        rows: dict[str, CardRow] = {}
        if gids:
            rows = again_if_ambiguous(partial(airtable.known_card_ids_by_shopify_id, gids))
        if ready:
            run.report.found_work = True
        looks = [
            Look(c, rows.get(c.id), transactions=True, since=_since(state, c, cursor.since))
            for c in ready
        ]
        findings = compare(run, looks)
        if not handle(run, findings):
            return
        judged = {c.id for c in ready}
        state.deferred = [d for d in state.deferred if d.card not in judged]
        run.progress.batch_done()
        cursor.hold = _earliest(cursor.hold, findings)
        if page.cards:
            cursor.after_number = card_number(page.cards[-1].id)
        if not page.has_next_page or not page.cards:
            state.mark = min(cursor.until - config.overlap, cursor.hold or cursor.until)
            # Left over from an earlier window and not listed again: the card is gone.
            state.deferred = [d for d in state.deferred if d.window >= cursor.since]
            state.incremental = None
            run.tally.incrementals_finished += 1
            run.progress.save()
            return
        run.progress.save()


def _defer(state: AuditState, cards: list[CardState], since: datetime) -> None:
    """Cards changed in the last ``settle`` wait for the next incremental, whose mark is later
    than transactions they may have from this window: remember where to judge them from."""
    fresh = {c.id for c in cards}
    for held in state.deferred:
        if held.card in fresh:
            held.window = since
            fresh.discard(held.card)
    state.deferred += [Deferred(card, since, since) for card in sorted(fresh)]


def _since(state: AuditState, card: CardState, since: datetime) -> datetime:
    """Where this card's transactions are judged from: the window, or the earlier window it
    was deferred from."""
    earlier = [d.since for d in state.deferred if d.card == card.id]
    return min([since, *earlier])


def _earliest(hold: datetime | None, findings: Findings) -> datetime | None:
    times = [*findings.pending, *([hold] if hold else [])]
    return min(times) if times else None


# --- full pass ---------------------------------------------------------------------------------


def full_pass(run: AuditRun) -> None:
    """Every card, chunk by chunk, each joined to the rows in its range of card numbers."""
    state, now = run.state, run.deps.clock.now()
    if state.full is None:
        state.full = FullCursor(started_at=now)
        state.last_full_started_at = now
        state.full_requested = False
        run.progress.save()
    cursor = state.full
    took = 0.0  # how long the last chunk took: a run does not start one it cannot finish
    while not run.should_stop() and (not took or run.budget.remaining() >= took):
        began = run.deps.clock.monotonic()
        cards, up_to = _chunk(run, cursor.after_number)
        read = partial(run.deps.airtable.cards_in_shopify_range, cursor.after_number, up_to)
        rows = again_if_ambiguous(read)
        run.report.found_work = True
        findings = _join(run, cards, rows)
        if not handle(run, findings):
            return
        run.progress.batch_done()
        if up_to is None:
            state.full = None
            state.last_full_finished_at = run.deps.clock.now()
            run.tally.full_passes_finished += 1
            run.progress.save()
            return
        cursor.after_number = up_to
        run.progress.save()
        took = run.deps.clock.monotonic() - began


def _chunk(run: AuditRun, after: int) -> tuple[list[CardState], int | None]:
    """Up to ``chunk_cards`` cards after card number ``after`` (fewer when the run's budget ran
    out meanwhile), and the number of the last one (None when these are the last cards: the
    range is open above)."""
    config, shopify = run.config, run.deps.shopify
    cards: list[CardState] = []
    while len(cards) < config.chunk_cards:
        read = partial(shopify.list_cards, after_number=after, limit=config.page_size)
        page = again_if_ambiguous(read)
        cards += page.cards
        if not page.cards or not page.has_next_page:
            return cards, None
        after = card_number(page.cards[-1].id)
        if run.budget.exhausted:  # a shorter chunk rather than a run past its budget
            break
    return cards, after


def _join(run: AuditRun, cards: list[CardState], rows: list[CardRow]) -> Findings:
    """Compare each settled card with its row; rows left over name a card Shopify did not list
    in their range: gone, once a direct read confirms it."""
    by_gid = {r.shopify_id: r for r in rows if r.shopify_id}
    settled_before = run.deps.clock.now() - run.config.settle
    looks = []
    for card in cards:
        row = by_gid.pop(card.id, None)
        if card.updated_at <= settled_before:  # younger: the next incremental compares it
            looks.append(Look(card, row))
    findings = compare(run, looks)
    for row in by_gid.values():
        if _confirmed_gone(run, row):
            findings.gone.append(row)
        if len(findings.gone) > MAX_GONE:  # the shop, not the cards: one alert, no receipts
            findings.many_gone, findings.gone = len(by_gid), []
            break
    return findings


def _confirmed_gone(run: AuditRun, row: CardRow) -> bool:
    gid = row.shopify_id
    if gid is None:
        return False
    return again_if_ambiguous(lambda: run.deps.shopify.get_card(gid)) is None
