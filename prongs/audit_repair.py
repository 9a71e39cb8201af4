"""Acting on what the audit found: mirror repairs, Shopify transactions recorded, alerts.

Every receipt is upserted on its keyed Reference, so a replay adds nothing:
``drift:<card record id>:<field>:<Shopify updatedAt>:detected|repaired`` (:func:`drift_key`) and
``card-txn:<transaction number>:<action>``. Source is Shopify: Shopify is where it happened.

- **Fields** (balance, expiry, enabled): the repair is journaled (``AuditState.open``) before
  its first effect, then, holding the card's locks (shared with the store prong and the online
  prongs, so no debit and its mirror can interleave), Shopify's card and the row are read again
  and only what still differs is written: the audit never writes an older balance over a newer
  one. Drift Detected is written before the row, Drift Repaired after; the journal entry goes
  last. A drift the row cannot take (another currency; a status the table forbids) is Drift
  Detected alone, plus an alert: it needs a person.
- **Transactions** no receipt accounts for: one receipt each (Adjusted, Redeemed Online or
  Refunded Online), with the balance before and after when known.
- **Missing rows** and **missing cards**: :mod:`prongs.audit_restore`.

A repair that keeps failing (``MAX_ATTEMPTS`` runs) leaves the journal with an alert.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import structlog

from cards.drift import (
    DriftField,
    FieldDrift,
    Repair,
    Unrepairable,
    drift_key,
    field_drifts,
    plan_repair,
)
from cards.drift_txns import Unexplained
from cards.money import Money
from cards.vocab import ReceiptAction, ReceiptSource
from clients.commands import CardUpdate, ChangeExpiry, MirrorBalance, VoidCard
from clients.records import CardRow, CardState, Receipt, ShopifyCard
from prongs import audit_restore
from prongs.audit_compare import Findings
from prongs.audit_run import AuditRun
from prongs.audit_state import OpenRepair
from prongs.audit_tally import DriftClass, Result
from prongs.exactly_once import again_if_ambiguous, update_card
from prongs.notices import write_receipts

log = structlog.get_logger("giftbridge.prongs")

MAX_ATTEMPTS = 3
FIELD_CLASSES = {
    DriftField.BALANCE: DriftClass.BALANCE,
    DriftField.EXPIRY: DriftClass.EXPIRY,
    DriftField.ENABLED: DriftClass.ENABLED,
}


def stamp(card: CardState) -> str:
    return card.updated_at.strftime("%Y-%m-%dT%H:%M:%SZ")


def handle(run: AuditRun, findings: Findings) -> bool:
    """Act on every finding; False when the run may not write (the lease went elsewhere)."""
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
            stamp(card),
            row_id=row.id,
            details={d.field.value: d.details for d in drifts},
        )
        _journal(run, entry)
        settle_open(run, entry)
    for card in findings.restores:
        restore = audit_restore.restore_entry(card, stamp(card))
        if restore is not None and card.id not in journaled:
            _journal(run, restore)
            settle_open(run, restore)
    if findings.unexplained:
        _guarded(run, "recording Shopify transactions", partial(record_transactions, run, findings))
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
            _settle_fields(run, entry)
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


# --- fields -------------------------------------------------------------------------------------


def _settle_fields(run: AuditRun, entry: OpenRepair) -> None:
    deps, row_id = run.deps, entry.row_id
    if row_id is None:
        return
    with deps.card_locks.hold_all([row_id, entry.card_gid]):
        row = again_if_ambiguous(lambda: deps.airtable.get_card(row_id))
        live = again_if_ambiguous(lambda: deps.shopify.get_card(entry.card_gid))
        if row is None or live is None:
            return  # the row or the card went meanwhile: the next pass classifies that
        drifts = field_drifts(row, live)
        if not drifts:
            if entry.detected:  # our own write landed before the crash: say so
                _write_repaired(run, row, entry, {f: "in step" for f in entry.details})
            return
        plan = plan_repair(row, live, drifts, deps.clock.now().date())
        _write_detected(run, row, live, entry, drifts, plan)
        if isinstance(plan, Unrepairable):
            _needs_person(run, row, drifts, plan)
            return
        for update in _commands(run, row, live, plan):
            update_card(deps, update)
        done = {d.field.value: plan.describe(row) for d in drifts}
        _write_repaired(run, row, entry, done, before=row.balance, after=live.balance)
    for drift in drifts:
        run.tally.add(FIELD_CLASSES[drift.field], Result.REPAIRED)
        run.report.record(FIELD_CLASSES[drift.field].value)
    log.info("audit repaired drift", card=row.id, fields=[d.field.value for d in drifts])


def _commands(run: AuditRun, row: CardRow, live: ShopifyCard, plan: Repair) -> list[CardUpdate]:
    now = run.deps.clock.now()
    updates: list[CardUpdate] = []
    if plan.void_reason is not None:
        updates.append(VoidCard(row.id, plan.void_reason, live.balance, live.id, at=now))
    elif plan.balance is not None:
        status = plan.status if plan.status != row.status else None
        updates.append(MirrorBalance(row.id, plan.balance, synced_at=now, status=status))
    if plan.write_expiry:
        updates.append(ChangeExpiry(row.id, plan.expires_on, plan.status, at=now))
    return updates


def _write_detected(
    run: AuditRun,
    row: CardRow,
    live: ShopifyCard,
    entry: OpenRepair,
    drifts: list[FieldDrift],
    plan: Repair | Unrepairable,
) -> None:
    tail = f"; not repaired: {plan.reason}" if isinstance(plan, Unrepairable) else ""
    receipts = [
        _drift_receipt(
            run,
            row,
            entry,
            d.field,
            ReceiptAction.DRIFT_DETECTED,
            d.details + tail,
            before=row.balance if d.field is DriftField.BALANCE else None,
            after=live.balance if d.field is DriftField.BALANCE else None,
        )
        for d in drifts
    ]
    write_receipts(run.deps, receipts)
    entry.detected = True
    entry.details = {d.field.value: d.details for d in drifts}
    run.progress.save()


def _write_repaired(
    run: AuditRun,
    row: CardRow,
    entry: OpenRepair,
    done: dict[str, str],
    *,
    before: Money | None = None,
    after: Money | None = None,
) -> None:
    receipts = []
    for name, what in done.items():
        field = DriftField(name)
        balance = field is DriftField.BALANCE
        text = f"{entry.details.get(name, name)}; mirrored from Shopify: {what}"
        receipts.append(
            _drift_receipt(
                run,
                row,
                entry,
                field,
                ReceiptAction.DRIFT_REPAIRED,
                text,
                before=before if balance else None,
                after=after if balance else None,
            )
        )
    write_receipts(run.deps, receipts)


def _drift_receipt(
    run: AuditRun,
    row: CardRow,
    entry: OpenRepair,
    field: DriftField,
    action: ReceiptAction,
    details: str,
    *,
    before: Money | None,
    after: Money | None,
) -> Receipt:
    key = drift_key(row.id, field, entry.updated_at)
    if before is not None and after is not None and before.currency != after.currency:
        before = after = None  # a receipt's amounts are in its card's one currency
    return Receipt(
        reference=key.reference(action),
        action=action,
        at=run.deps.clock.now(),
        source=ReceiptSource.SHOPIFY,
        card_id=row.id,
        balance_before=before,
        balance_after=after,
        shopify_reference=entry.card_gid,
        details=details,
    )


def _needs_person(
    run: AuditRun, row: CardRow, drifts: list[FieldDrift], plan: Unrepairable
) -> None:
    what = "; ".join(d.details for d in drifts)
    line = f"{row.id} {row.masked_code or ''}: {what}; not repaired: {plan.reason}"
    for drift in drifts:
        run.tally.add(FIELD_CLASSES[drift.field], Result.NEEDS_PERSON, line)
        run.report.record(f"{FIELD_CLASSES[drift.field].value}: {Result.NEEDS_PERSON.value}")
    message = f"Gift Cards row {row.id} differs from Shopify ({what}) and was not repaired: "
    again_if_ambiguous(lambda: run.alerts.send("drift", row.id, message + plan.reason))


# --- transactions -----------------------------------------------------------------------------


def record_transactions(run: AuditRun, findings: Findings) -> None:
    receipts = [_transaction_receipt(row, found) for row, found in findings.unexplained]
    write_receipts(run.deps, receipts)
    run.progress.remember({found.txn_id for _, found in findings.unexplained})
    for _, found in findings.unexplained:
        run.tally.add(DriftClass.TRANSACTION, Result.REPAIRED)
        run.report.record(f"{DriftClass.TRANSACTION.value} ({found.action.value})")


def _transaction_receipt(row: CardRow, found: Unexplained) -> Receipt:
    why = (
        "with a note giftbridge did not write (an adjustment in Shopify's admin)"
        if found.has_note
        else "without a note (a sale or refund at a Shopify checkout or POS no order prong saw)"
    )
    return Receipt(
        reference=found.reference,
        action=found.action,
        at=found.processed_at,
        source=ReceiptSource.SHOPIFY,
        card_id=row.id,
        amount=found.amount,
        balance_before=found.balance_before,
        balance_after=found.balance_after,
        shopify_reference=found.txn_id,
        details=f"Found by the audit: a Shopify transaction {why} that no receipt accounted for",
    )


def _guarded(run: AuditRun, what: str, call: Callable[[], None]) -> None:
    try:
        call()
    except Exception as exc:  # one finding's failure never holds up the others
        run.report.errors.append(f"{what}: {type(exc).__name__}: {exc}")
        log.warning("audit step failed", what=what, error=str(exc))
