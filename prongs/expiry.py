"""The expiry prong: cards expire on the books, and holders hear before they do.

Composition root::

    report = run_once(deps, config, budget, gate)

with the process's :class:`~prongs.deps.Deps` and an
:class:`~prongs.expiry_run.ExpiryConfig`. The daemon runs it every ``EXPIRY_INTERVAL_SECONDS``
and once at start, at ``Priority.BULK`` at the shared limiters (store redemptions overtake
every call it makes).

One run (DESIGN.md, Expiry):

1. **Read.** The shop's day (Shopify's ``shop.ianaTimezone``); ONE filtered read of the Active
   cards whose Expires On is on or before today + the largest reminder threshold, soonest first;
   their Shopify cards by GID (``nodes``, 50 a request). Decisions are pure
   (:func:`cards.expiry.decide`). A run with nothing to change never touches the lease.
2. **Cards to change**, 10 at a time, under the cards' locks (a card action extending one of
   them waits, or goes first): their Shopify cards are read again, and a card whose Shopify date
   moved since step 1 is left for the next run. Receipts first, upserted on their Reference,
   then the rows, 10 a request: a crash between the two leaves the card Active with its date
   passed, and the next run writes the same receipt (one row) and then the row.

   - Shopify's date differs from the row's (changed in Shopify): the row takes Shopify's date;
     receipt Expiry Changed, Source Shopify (``expire:<card>:<old date>:expiry-changed``).
   - Shopify's date has passed: Active -> Expired with Shopify's date and balance; receipt
     Expired (``expire:<card>:<date>:expired``), Amount and Balance Before the balance that
     expired, Balance After 0 (Shopify keeps the balance; the books count it as expired).
3. **Reminders** (:mod:`prongs.expiry_reminders`): one receipts read for their keys, then the
   events, then their receipts, 10 at a time.

The run checks its budget and heartbeats between groups of ten; a card Airtable refused adds one
line to ``report.errors`` and the others go on.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

import structlog

from cards import expiry as rules
from cards.errors import InvariantViolation
from cards.keys import ActionKey
from cards.money import Money
from cards.vocab import CardStatus, ReceiptAction, ReceiptSource
from clients.commands import CardUpdate, ChangeExpiry, ExpireCard
from clients.errors import ClientError
from clients.ports import Priority, priority
from clients.records import CardRow, Receipt, ShopifyCard
from prongs import emails, expiry_reminders
from prongs.deps import Deps
from prongs.exactly_once import again_if_ambiguous, write_cards
from prongs.expiry_dates import ShopDay, read_shop_day
from prongs.expiry_run import PRONG, Due, ExpiryConfig, ExpiryRun, required
from prongs.notices import ReceiptBase, write_receipts
from prongs.report import Budget, Gate, RunReport
from prongs.store_context import failure_line

log = structlog.get_logger("giftbridge.prongs")

__all__ = ["PRONG", "ExpiryConfig", "run_once"]

EXPIRED = "Expired"
MIRRORED = "Expiry Mirrored"
NOT_IN_SHOPIFY = "Not In Shopify"


def run_once(deps: Deps, config: ExpiryConfig, budget: Budget, gate: Gate) -> RunReport:
    with priority(Priority.BULK):
        try:
            day = read_shop_day(deps)
        except (ClientError, InvariantViolation) as exc:
            report = RunReport(PRONG)
            report.errors.append(failure_line("reading the shop's time zone", exc))
            return report
        run = ExpiryRun(deps, config, budget, gate, day, deps.clock.now())
        try:
            due = read_due(run)
        except ClientError as exc:
            run.report.errors.append(failure_line("reading the cards due", exc))
            return run.report
        changes = [d for d in due if d.decision.step is rules.Step.EXPIRE or d.decision.mirror]
        run.in_groups(changes, lambda group: change_cards(run, group), "expiring cards")
        reminders = [
            d for d in due if d.decision.step is rules.Step.REMIND and d.row.id not in run.skipped
        ]
        if reminders and not run.stopped:
            expiry_reminders.send_reminders(run, reminders)
    return run.report


def row_side(row: CardRow) -> rules.RowSide:
    return rules.RowSide(row.status, row.expires_on, emails.holder_email(row))


def shopify_side(card: ShopifyCard | None) -> rules.ShopifySide | None:
    if card is None:
        return None
    return rules.ShopifySide(card.expires_on, card.balance, card.enabled)


def decide(day: ShopDay, config: ExpiryConfig, row: CardRow, card: ShopifyCard | None) -> Due:
    decision = rules.decide(row_side(row), shopify_side(card), day.today, config.reminder_days)
    return Due(row, card, decision)


# --- step 1: read -----------------------------------------------------------------------------


def read_due(run: ExpiryRun) -> list[Due]:
    """The due rows (one filtered read, soonest first) and their Shopify cards (by GID)."""
    deps, config = run.deps, run.config
    last_day = run.day.today + timedelta(days=rules.horizon_days(config.reminder_days))
    limit = config.max_cards_per_run
    rows = again_if_ambiguous(lambda: deps.airtable.cards_expiring_by(last_day, limit))
    if not rows:
        return []
    gids = [r.shopify_id for r in rows if r.shopify_id]
    cards = again_if_ambiguous(lambda: deps.shopify.get_cards(gids)) if gids else {}
    due = [decide(run.day, config, row, cards.get(row.shopify_id or "")) for row in rows]
    missing = [d.row.id for d in due if d.shopify is None]
    if missing:
        run.report.outcomes[NOT_IN_SHOPIFY] += len(missing)
        log.warning("cards due but not in Shopify: left as they are", cards=missing[:20])
    log.debug(
        "expiry.read",
        today=run.day.today.isoformat(),
        zone=run.day.zone_name,
        rows=len(rows),
        last_day=last_day.isoformat(),
    )
    return due


# --- step 2: mirror and expire ----------------------------------------------------------------


def change_cards(run: ExpiryRun, group: Sequence[Due]) -> None:
    """Mirror Shopify's date and expire, under the cards' locks, receipts first."""
    deps = run.deps
    done: dict[str, str] = {}
    with deps.card_locks.hold_cards([d.row for d in group]):
        gids = [d.row.shopify_id for d in group if d.row.shopify_id]
        fresh = again_if_ambiguous(lambda: deps.shopify.get_cards(gids))
        receipts: list[Receipt] = []
        updates: list[CardUpdate] = []
        for first in group:
            again = decide(run.day, run.config, first.row, fresh.get(first.row.shopify_id or ""))
            if again.shopify is None or again.decision.expires_on != first.decision.expires_on:
                run.skipped.add(first.row.id)  # moved in Shopify meanwhile: the next run
                log.info("expiry date moved during the run", card=first.row.id)
                continue
            receipts += receipts_for(run, again)
            updates.append(update_for(run, again))
            expired = again.decision.step is rules.Step.EXPIRE
            done[first.row.id] = EXPIRED if expired else MIRRORED
        write_receipts(deps, receipts)
        refused = write_cards(deps, updates)
    for card_id, outcome in done.items():
        if card_id in refused:
            run.report.errors.append(failure_line(f"card {card_id}", refused[card_id]))
        else:
            run.report.record(outcome)


def receipts_for(run: ExpiryRun, due: Due) -> list[Receipt]:
    row, decision = due.row, due.decision
    found: list[Receipt] = []
    if decision.mirror and row.expires_on is not None:
        key = ActionKey.expire(row.id, row.expires_on)
        change = f"{row.expires_on} -> {decision.expires_on or 'never'}"
        found.append(
            ReceiptBase(key, ReceiptSource.SHOPIFY, run.now, row.id).make(
                ReceiptAction.EXPIRY_CHANGED,
                details=f"Expires On mirrored from Shopify, where it was changed: {change}",
            )
        )
    if decision.step is rules.Step.EXPIRE and decision.expires_on is not None:
        balance = required(decision.balance, "balance")
        key = ActionKey.expire(row.id, decision.expires_on)
        found.append(
            ReceiptBase(key, ReceiptSource.DAEMON, run.now, row.id).make(
                ReceiptAction.EXPIRED,
                amount=balance,
                balance_before=balance,
                balance_after=Money.zero(balance.currency),
                details=(
                    f"Expires On {decision.expires_on} passed on the shop's calendar "
                    f"({run.day.zone_name}); Shopify keeps {balance} on the card, "
                    "counted here as expired"
                ),
            )
        )
    return found


def update_for(run: ExpiryRun, due: Due) -> CardUpdate:
    decision = due.decision
    if decision.step is rules.Step.EXPIRE and decision.expires_on is not None:
        balance = required(decision.balance, "balance")
        return ExpireCard(due.row.id, decision.expires_on, balance, run.now)
    return ChangeExpiry(due.row.id, decision.expires_on, CardStatus.ACTIVE, run.now)
