"""Repairing a row's fields from Shopify: balance, expiry, enabled state.

Holding the card's locks (shared with the store prong and the online prongs, so no debit and its
mirror can interleave), Shopify's card and the row are read again and only what still differs is
written: the audit never writes an older balance over a newer one. Drift Detected is written
before the row, Drift Repaired after (keys :func:`cards.drift.drift_key`). A drift the row cannot
take (another currency; a status the transition table forbids) is Drift Detected alone, plus an
alert: it needs a person. Run from the repair journal (:mod:`prongs.audit_repair`), so it is safe
to repeat: a re-read that finds the row in step after our own write (a crash before the receipt)
writes only Drift Repaired.
"""

from __future__ import annotations

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
from cards.money import Money
from cards.vocab import ReceiptAction, ReceiptSource
from clients.commands import CardUpdate, ChangeExpiry, MirrorBalance, VoidCard
from clients.records import CardRow, Receipt, ShopifyCard
from prongs.audit_run import AuditRun
from prongs.audit_state import OpenRepair
from prongs.audit_tally import DriftClass, Result
from prongs.exactly_once import again_if_ambiguous, update_card
from prongs.notices import write_receipts

log = structlog.get_logger("giftbridge.prongs")

FIELD_CLASSES = {
    DriftField.BALANCE: DriftClass.BALANCE,
    DriftField.EXPIRY: DriftClass.EXPIRY,
    DriftField.ENABLED: DriftClass.ENABLED,
}


def settle_fields(run: AuditRun, entry: OpenRepair) -> None:
    """Bring one journaled field repair to its end."""
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
