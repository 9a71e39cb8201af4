"""Acting on what the audit found: mirror repairs, Shopify transactions recorded, alerts.

Every receipt is upserted on its keyed Reference, so a replay adds nothing:
``drift:<card record id>:<field>:<Shopify updatedAt>:detected|repaired`` (:func:`drift_key`) and
``card-txn:<transaction number>:<action>``. Source is Shopify: Shopify is where it happened.

- **Fields** (balance, expiry, enabled): the repair is journaled (``AuditState.open``) before
  its first effect and removed after its last receipt; the repair itself is
  :mod:`prongs.audit_fields`.
- **Transactions** no receipt accounts for: one receipt each (Adjusted, Redeemed Online or
  Refunded Online), with the balance before and after when known; an order's gift card payment
  or refund under the order prong's own reference (:mod:`prongs.audit_orders`).
- **Missing rows** and **missing cards**: :mod:`prongs.audit_restore`.

A repair that keeps failing (``MAX_ATTEMPTS`` runs) leaves the journal with an alert.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import structlog

from cards.drift import stamp
from cards.drift_txns import Unexplained
from cards.vocab import ReceiptAction, ReceiptSource
from clients.errors import AmbiguousOutcome, ClientError, Retryable
from clients.records import CardRow, Receipt
from prongs import audit_fields, audit_orders, audit_restore
from prongs.audit_compare import Findings
from prongs.audit_run import AuditRun
from prongs.audit_state import OpenRepair
from prongs.audit_tally import DriftClass, Result
from prongs.exactly_once import again_if_ambiguous
from prongs.notices import write_receipts

log = structlog.get_logger("giftbridge.prongs")

MAX_ATTEMPTS = 3


def handle(run: AuditRun, findings: Findings) -> bool:
    """Act on every finding; False when the caller must stop where it is, its cursor kept: the
    run may not write (the lease went elsewhere), or the transactions' receipts could not be
    written for now (the next run reads the same cards again)."""
    for _ in findings.pending:
        run.tally.add(DriftClass.PENDING, Result.WAITING)
    if not findings.writes:
        return True
    if not run.claim():
        return False
    run.report.found_work = True
    journaled = {e.card_gid for e in run.state.open}  # finish_open tries those each run
    for row, card, drifts in findings.drifts:
        if card.id in journaled:
            continue
        entry = OpenRepair(
            "fields",
            card.id,
            stamp(card.updated_at),
            row_id=row.id,
            details={d.field.value: d.details for d in drifts},
        )
        _journal(run, entry)
        settle_open(run, entry)
    for card in findings.restores:
        restore = audit_restore.restore_entry(card, stamp(card.updated_at))
        if restore is not None and card.id not in journaled:
            _journal(run, restore)
            settle_open(run, restore)
    if findings.unexplained and not _record_or_read_again(run, findings):
        return False
    for row in findings.gone:
        _guarded(run, f"card {row.id}", partial(audit_restore.report_gone, run, row))
    if findings.many_gone:
        _guarded(run, "cards gone", partial(audit_restore.report_many_gone, run, findings))
    return True


def finish_open(run: AuditRun) -> None:
    """The journal's repairs left by a crash or a failure, before anything new."""
    for entry in list(run.state.open):
        if run.should_stop() or not run.claim():
            return
        settle_open(run, entry)


def settle_open(run: AuditRun, entry: OpenRepair) -> None:
    """Bring one journaled repair to its end (safe to repeat)."""
    try:
        if entry.kind == "restore":
            audit_restore.settle_restore(run, entry)
        else:
            audit_fields.settle_fields(run, entry)
    except Exception as exc:  # one card's failure never holds up the others
        entry.attempts += 1
        line = f"repairing {entry.row_id or entry.card_gid}: {type(exc).__name__}: {exc}"
        run.report.errors.append(line)
        log.warning("audit repair failed", card=entry.card_gid, error=str(exc))
        if entry.attempts >= MAX_ATTEMPTS:
            _give_up(run, entry, line)
        run.progress.save()
        return
    _close(run, entry)


def _journal(run: AuditRun, entry: OpenRepair) -> None:
    run.state.open.append(entry)
    run.progress.save()


def _close(run: AuditRun, entry: OpenRepair) -> None:
    if entry in run.state.open:
        run.state.open.remove(entry)
    run.progress.save()


def _give_up(run: AuditRun, entry: OpenRepair, line: str) -> None:
    kind = DriftClass.MISSING_ROW if entry.kind == "restore" else DriftClass.BALANCE
    run.tally.add(kind, Result.NEEDS_PERSON, line)
    subject = entry.row_id or entry.card_gid.rsplit("/", 1)[-1]
    message = f"The audit could not repair {subject} after {MAX_ATTEMPTS} runs: {line}"
    again_if_ambiguous(lambda: run.alerts.send("drift", subject, message))
    _close(run, entry)


# --- transactions -----------------------------------------------------------------------------


def record_transactions(run: AuditRun, findings: Findings) -> None:
    """One receipt per unexplained transaction; a checkout's payment or refund the Shopify
    redemptions prong has not recorded yet goes under that prong's own reference
    (:mod:`prongs.audit_orders`), so its later receipt lands on the same row."""
    unexplained = findings.unexplained
    try:
        orders = audit_orders.order_movements_of(run, unexplained, findings.matched)
    except ClientError as exc:  # note-less ones wait: a guess could count them twice
        log.warning("audit: the orders of note-less transactions were not read", error=str(exc))
        orders = {}
        findings.pending += [found.processed_at for _, found in unexplained if not found.has_note]
        unexplained = [(row, found) for row, found in unexplained if found.has_note]
    receipts = [
        audit_orders.movement_receipt(row, found, orders[found.txn_id])
        if found.txn_id in orders
        else _transaction_receipt(row, found)
        for row, found in unexplained
    ]
    write_receipts(run.deps, receipts)
    run.progress.remember({found.txn_id for _, found in unexplained})
    for _, found in unexplained:
        run.tally.add(DriftClass.TRANSACTION, Result.REPAIRED)
        run.report.record(f"{DriftClass.TRANSACTION.value} ({found.action.value})")


def _transaction_receipt(row: CardRow, found: Unexplained) -> Receipt:
    if found.own_reference:
        flow = "store redemption" if found.action == ReceiptAction.REDEEMED else "card action"
        why = f"of a {flow} whose request was deleted before its receipt"
    elif found.has_note:
        why = "with a note giftbridge did not write (an adjustment in Shopify's admin)"
    else:
        why = "without a note (a sale or refund at a Shopify checkout or POS no order prong saw)"
    return Receipt(
        reference=found.reference,
        action=found.action,
        at=found.processed_at,
        source=ReceiptSource.SHOPIFY,
        card_id=row.id,
        amount=found.amount,
        balance_before=found.balance_before,
        balance_after=found.balance_after,
        request=found.own_reference.split(":")[1] if found.own_reference else None,
        shopify_reference=found.txn_id,
        details=f"Found by the audit: a Shopify transaction {why} that no receipt accounted for",
    )


def _record_or_read_again(run: AuditRun, findings: Findings) -> bool:
    """Record the unexplained transactions; False after a transient failure, with their cards
    forgotten as read: moving the cursor on would lose them, since no later pass reads a card's
    transactions again until Shopify changes it (sim seed 9220). A permanent failure is
    reported and the audit goes on: one bad receipt must not stop it for good."""
    try:
        record_transactions(run, findings)
    except (Retryable, AmbiguousOutcome) as exc:
        run.report.errors.append(f"recording Shopify transactions: {type(exc).__name__}: {exc}")
        log.warning("audit: transactions left for the next run", error=str(exc))
        for row, _ in findings.unexplained:
            run.progress.checked.pop(row.shopify_id or "", None)
        return False
    except Exception as exc:
        run.report.errors.append(f"recording Shopify transactions: {type(exc).__name__}: {exc}")
        log.warning("audit step failed", what="recording Shopify transactions", error=str(exc))
    return True


def _guarded(run: AuditRun, what: str, call: Callable[[], None]) -> None:
    try:
        call()
    except Exception as exc:  # one finding's failure never holds up the others
        run.report.errors.append(f"{what}: {type(exc).__name__}: {exc}")
        log.warning("audit step failed", what=what, error=str(exc))
