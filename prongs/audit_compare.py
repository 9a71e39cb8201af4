"""Comparing a batch of Shopify cards with their Gift Cards rows: what drifted (no writes here).

The decisions are the domain's (:mod:`cards.drift`, :mod:`cards.drift_txns`); this module reads
what they need: each suspect card's recent transactions (one Shopify read a card) and, once for
the whole batch, the receipts that may account for them (Airtable, windows around their times).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from functools import partial

from cards.drift import FieldDrift, field_drifts
from cards.drift_txns import (
    ACCOUNTING_ACTIONS,
    Rules,
    Unexplained,
    account_for,
    flow_references,
    is_ours,
    windows,
)
from cards.keys import key_from_note
from clients.records import CardRow, CardState, CardTransaction, Receipt
from prongs.audit_run import AuditRun
from prongs.exactly_once import again_if_ambiguous


@dataclass(frozen=True, slots=True)
class Look:
    """One card to compare. With ``transactions``, its transactions at or after ``since`` are
    judged (an incremental run); without, only when the card turns out a suspect."""

    card: CardState
    row: CardRow | None
    transactions: bool = False
    since: datetime | None = None


@dataclass
class Findings:
    drifts: list[tuple[CardRow, CardState, list[FieldDrift]]] = field(default_factory=list)
    restores: list[CardState] = field(default_factory=list)  # our card, no row in the join
    unexplained: list[tuple[CardRow, Unexplained]] = field(default_factory=list)
    pending: list[datetime] = field(default_factory=list)
    # Online receipts that accounted for a transaction (their order movements are taken).
    matched: set[str] = field(default_factory=set)
    gone: list[CardRow] = field(default_factory=list)
    many_gone: int = 0  # rows whose cards are gone, too many to be drift: the wrong shop?

    @property
    def writes(self) -> bool:
        return bool(self.drifts or self.restores or self.unexplained or self.gone or self.many_gone)


def synced_at(row: CardRow) -> datetime | None:
    """When giftbridge last brought the row in step with Shopify (issue time for old rows)."""
    return row.last_synced_at or row.issued_at


def suspect(run: AuditRun, row: CardRow, card: CardState) -> bool:
    """Shopify changed the card after giftbridge last synced the row (beyond clock skew), and
    this process has not read its transactions at that ``updatedAt`` yet."""
    synced = synced_at(row)
    if synced is None or card.updated_at <= synced + run.config.sync_margin:
        return False
    return run.progress.checked.get(card.id) != card.updated_at


def compare(run: AuditRun, looks: list[Look]) -> Findings:
    findings = Findings()
    checks: list[tuple[CardRow, CardState, datetime | None]] = []
    for look in looks:
        card, row = look.card, look.row
        run.tally.cards_compared += 1
        if row is None:
            if is_ours(card.note) and key_from_note(card.note) is not None:
                findings.restores.append(card)
            continue
        drifts = field_drifts(row, card)
        if drifts:
            findings.drifts.append((row, card, drifts))
        if look.transactions:
            checks.append((row, card, look.since))
        elif drifts or suspect(run, row, card):
            synced = synced_at(row)
            checks.append((row, card, synced - run.config.overlap if synced else None))
    if checks:
        _account_for_transactions(run, checks, findings)
    return findings


def _account_for_transactions(
    run: AuditRun, checks: list[tuple[CardRow, CardState, datetime | None]], findings: Findings
) -> None:
    shopify, limit = run.deps.shopify, run.config.transactions_per_card
    listed: list[tuple[CardRow, CardState, datetime | None, list[CardTransaction]]] = []
    for row, card, since in checks:
        txns = again_if_ambiguous(partial(shopify.transactions, card.id, limit))
        listed.append((row, card, since, txns))
    known = run.progress.accounted
    asked = [
        t.processed_at
        for _, _, since, txns in listed
        for t in txns
        if (since is None or t.processed_at >= since) and not is_ours(t.note) and t.id not in known
    ]
    receipts: list[Receipt] = []
    if asked:
        spans = windows(asked, run.config.match_window)
        receipts = again_if_ambiguous(
            lambda: run.deps.airtable.receipts_in_windows(ACCOUNTING_ACTIONS, spans)
        )
    unreceipted = _unreceipted_movements(run, listed)
    rules = Rules(
        now=run.deps.clock.now(),
        settle_after=run.config.settle_transactions,
        match_window=run.config.match_window,
    )
    for row, card, since, txns in listed:
        # The listed balance is after the newest transaction only if Shopify listed the card
        # after it; otherwise the balances on the receipts are left blank.
        fresh = not txns or txns[0].processed_at <= card.updated_at
        verdicts = account_for(
            row.id,
            txns,
            card.balance if fresh else None,
            receipts,
            rules,
            since=since,
            known=known,
            unreceipted=unreceipted,
        )
        run.progress.remember(set(verdicts.accounted))
        run.progress.looked_at(card)
        findings.unexplained += [(row, u) for u in verdicts.unexplained]
        findings.pending += verdicts.pending
        findings.matched |= verdicts.matched


def _unreceipted_movements(
    run: AuditRun, listed: list[tuple[CardRow, CardState, datetime | None, list[CardTransaction]]]
) -> set[str]:
    """giftbridge's own movements (store redemptions, card actions) to judge whose flow's
    receipt is missing (one read for the batch)."""
    known = run.progress.accounted
    references = {
        t.id: refs
        for _, _, since, txns in listed
        for t in txns
        if (since is None or t.processed_at >= since)
        and t.id not in known
        and (refs := flow_references(t.note))
    }
    if not references:
        return set()
    wanted = sorted({r for refs in references.values() for r in refs})
    written = again_if_ambiguous(partial(run.deps.airtable.receipt_references, wanted))
    return {txn_id for txn_id, refs in references.items() if not set(refs) & written}
