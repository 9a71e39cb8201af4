"""The two drifts where one record is gone: a card's Gift Cards row, or a row's Shopify card.

- **A row deleted** (a card giftbridge created: its Shopify note is ``giftbridge <key>``): the
  row is restored from Shopify, never issued again. The journal entry comes first; then, only
  when no row carries the card's Origin Key (a creation in flight has one, Pending, before its
  card exists), a row is created with that Origin Key (``create_card_once``: found again by key
  after a lost response), the Shopify card's GID, masked code and last characters, balance,
  initial value, expiry, status (``status_from_shopify``), issue time and order; then Drift
  Detected and Drift Repaired under the new row's id. A row that has the card's GID and no Code
  Digest is one this restore made (a giftbridge card's own row always has a digest), so a
  resumed restore writes only the receipts. What Shopify does not know stays blank for a person
  (Kind, holder, Store), and the code cannot be sent again: it was sealed in the deleted row.
- **A card gone** from Shopify while a row names it: Drift Detected
  (``drift:<row>:card:gone``) and an alert; nothing is changed.
"""

from __future__ import annotations

import structlog

from cards.codes import mask_last4
from cards.drift import DriftField, drift_key, show_money, show_status
from cards.keys import KeyKind, key_from_note
from cards.status import status_from_shopify
from cards.vocab import CardSource, ReceiptAction, ReceiptSource
from clients.commands import NewCardRow
from clients.records import CardRow, CardState, Receipt, ShopifyCard
from prongs.audit_compare import Findings
from prongs.audit_run import AuditRun
from prongs.audit_state import OpenRepair
from prongs.audit_tally import DriftClass, Result
from prongs.exactly_once import again_if_ambiguous, create_card_once
from prongs.notices import write_receipts

log = structlog.get_logger("giftbridge.prongs")

GONE = "gone"


def restore_entry(card: CardState, updated_at: str) -> OpenRepair | None:
    """The journal entry of a missing row's restore (None: the note carries no key)."""
    key = key_from_note(card.note)
    if key is None:
        return None
    return OpenRepair("restore", card.id, updated_at, origin_key=str(key))


def settle_restore(run: AuditRun, entry: OpenRepair) -> None:
    deps, origin = run.deps, entry.origin_key
    if origin is None:
        return
    row = again_if_ambiguous(lambda: deps.airtable.find_card(origin_key=origin))
    if row is not None and not _restored_by_us(row, entry):
        return  # not missing: a creation in flight (or the row is back)
    live = again_if_ambiguous(lambda: deps.shopify.get_card(entry.card_gid))
    if live is None:
        return  # the card went too: nothing to restore
    if row is None:
        row = create_card_once(deps, _restored_row(run, live, origin))
        log.info("audit restored a gift cards row", card=row.id, origin_key=origin)
    entry.row_id = row.id
    run.progress.save()
    _write_restore_receipts(run, row, live, entry)
    run.tally.add(DriftClass.MISSING_ROW, Result.REPAIRED)
    run.report.record(DriftClass.MISSING_ROW.value)


def _restored_by_us(row: CardRow, entry: OpenRepair) -> bool:
    return row.shopify_id == entry.card_gid and row.code_digest is None


def _restored_row(run: AuditRun, live: ShopifyCard, origin: str) -> NewCardRow:
    now = run.deps.clock.now()
    last = live.last_characters.upper()
    key = key_from_note(live.note)
    return NewCardRow(
        origin_key=origin,
        shopify_id=live.id,
        masked_code=mask_last4(last),
        last_characters=last,
        status=status_from_shopify(
            enabled=live.enabled,
            expires_on=live.expires_on,
            balance_is_zero=live.balance.is_zero,
            today=now.date(),
        ),
        currency=live.balance.currency,
        initial_value=live.initial_value,
        balance=live.balance,
        source=CardSource.ONLINE if key is not None and key.kind is KeyKind.ORDER else None,
        issued_at=live.created_at,
        expires_on=live.expires_on,
        shopify_order=live.order_name,
        last_synced_at=now,
    )


def _write_restore_receipts(
    run: AuditRun, row: CardRow, live: ShopifyCard, entry: OpenRepair
) -> None:
    key = drift_key(row.id, DriftField.ROW, entry.updated_at)
    detected = (
        f"row: Airtable none (the Gift Cards row of {entry.origin_key} was deleted), "
        f"Shopify {live.id} {mask_last4(live.last_characters)} {live.balance}"
    )
    repaired = (
        f"row: restored as {row.id} from Shopify (masked code, balance, expiry, status, Origin "
        f"Key {entry.origin_key}); the card was not issued again. Fill in Kind, holder and Store "
        "by hand; its code cannot be re-sent (it was sealed in the deleted row)"
    )
    now = run.deps.clock.now()
    receipts = [
        Receipt(
            reference=key.reference(action),
            action=action,
            at=now,
            source=ReceiptSource.SHOPIFY,
            card_id=row.id,
            balance_after=live.balance,
            shopify_reference=live.id,
            details=text,
        )
        for action, text in (
            (ReceiptAction.DRIFT_DETECTED, detected),
            (ReceiptAction.DRIFT_REPAIRED, repaired),
        )
    ]
    write_receipts(run.deps, receipts)


def report_gone(run: AuditRun, row: CardRow) -> None:
    """Drift Detected and an alert for a row whose Shopify card no longer exists."""
    key = drift_key(row.id, DriftField.CARD, GONE)
    what = (
        f"card: Airtable {row.shopify_id} (balance {show_money(row.balance)}, status "
        f"{show_status(row.status)}), Shopify none: the card no longer exists; nothing changed"
    )
    receipt = Receipt(
        reference=key.reference(ReceiptAction.DRIFT_DETECTED),
        action=ReceiptAction.DRIFT_DETECTED,
        at=run.deps.clock.now(),
        source=ReceiptSource.SHOPIFY,
        card_id=row.id,
        balance_before=row.balance,
        shopify_reference=row.shopify_id,
        details=what,
    )
    write_receipts(run.deps, [receipt])
    line = f"{row.id} {row.masked_code or ''}: Shopify card {row.shopify_id} is gone"
    run.tally.add(DriftClass.MISSING_CARD, Result.NEEDS_PERSON, line)
    run.report.record(f"{DriftClass.MISSING_CARD.value}: {Result.NEEDS_PERSON.value}")
    message = (
        f"Gift Cards row {row.id} ({row.masked_code or 'no masked code'}) names Shopify card "
        f"{row.shopify_id}, which no longer exists. Nothing was changed: look the card up in "
        "Shopify's admin, then fix or void the row."
    )
    again_if_ambiguous(lambda: run.alerts.send("drift", row.id, message))


def report_many_gone(run: AuditRun, findings: Findings) -> None:
    """Rows by the dozen whose Shopify cards are gone: one alert, no receipt per row."""
    line = (
        f"{findings.many_gone} Gift Cards rows in one range name Shopify cards that do not exist: "
        "is SHOPIFY_SHOP (or SHOPIFY_GRAPHQL_URL) the shop these cards were issued in?"
    )
    run.tally.add(DriftClass.MISSING_CARD, Result.NEEDS_PERSON, line)
    run.report.record(f"{DriftClass.MISSING_CARD.value}: {Result.NEEDS_PERSON.value}")
    message = line + " Nothing was changed and no receipt written."
    again_if_ambiguous(lambda: run.alerts.send("drift", "many-cards-gone", message))
