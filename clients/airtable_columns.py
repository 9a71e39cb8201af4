"""Typed writes -> Airtable cells: the one place a command becomes column names.

Both the real adapter (:mod:`clients.airtable`) and the test fake map every command through
these functions, so the columns a use case fills are written down once. ``Changes`` are field
name -> domain value (``Money``, ``date``, ``datetime``, enums, ``str``, ``bool``, ``int``, a tuple
of record ids for links); ``None`` clears the cell. :mod:`clients.airtable_codec` turns the values
into JSON at the HTTP boundary.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from cards.money import Money
from cards.vocab import CardStatus, OrderKind, OrderOutcome, ProngState, RequestStatus
from clients.commands import (
    AbandonPendingCard,
    ActivateCard,
    CardUpdate,
    ChangeExpiry,
    ClaimLease,
    CloseBalanceCheck,
    CloseCardAction,
    CloseCreation,
    CloseRedemption,
    CloseRedemptionMinimally,
    FillCodeDigest,
    MirrorBalance,
    NewCardRow,
    Queue,
    ReactivateCard,
    RecordIntent,
    RecordRedemptionRefusal,
    ReleaseLease,
    RenewLease,
    RequestWrite,
    StatusHeartbeat,
    StatusWrite,
    VoidCard,
)
from clients.records import Receipt
from config.layout import (
    BalanceChecks,
    CardActions,
    CreationRequests,
    GiftCards,
    Receipts,
    ShopifyOrders,
    Status,
    StoreRedemptions,
)

CellValue = str | bool | int | Decimal | Money | date | datetime | StrEnum | tuple[str, ...] | None
Changes = Mapping[str, CellValue]

REQUEST_TABLES: dict[Queue, str] = {
    Queue.REDEMPTIONS: StoreRedemptions.TABLE,
    Queue.CREATIONS: CreationRequests.TABLE,
    Queue.BALANCE_CHECKS: BalanceChecks.TABLE,
    Queue.CARD_ACTIONS: CardActions.TABLE,
}
_STATUS = {
    Queue.REDEMPTIONS: StoreRedemptions.STATUS,
    Queue.CREATIONS: CreationRequests.STATUS,
    Queue.BALANCE_CHECKS: BalanceChecks.STATUS,
    Queue.CARD_ACTIONS: CardActions.STATUS,
}
_CARD_LINK = {  # Balance Checks link no card
    Queue.REDEMPTIONS: StoreRedemptions.GIFT_CARD,
    Queue.CREATIONS: CreationRequests.GIFT_CARD,
    Queue.CARD_ACTIONS: CardActions.GIFT_CARD,
}
RECEIPT_KEY = [Receipts.REFERENCE]  # receipts are upserted on it
ORDER_KEY = [ShopifyOrders.ORDER_ID, ShopifyOrders.KIND]  # one Shopify Orders row per both


def _link(record_id: str | None) -> tuple[str, ...] | None:
    return (record_id,) if record_id else None


# --- request rows -----------------------------------------------------------------------------


def request_columns(write: RequestWrite) -> tuple[str, str, Changes]:
    """The request table, the record id and the cells one request write fills."""
    return REQUEST_TABLES[write.queue], write.request_id, _request_cells(write)


def _request_cells(write: RequestWrite) -> Changes:
    s, c, b, a = StoreRedemptions, CreationRequests, BalanceChecks, CardActions
    match write:
        case RecordIntent():
            cells: dict[str, CellValue] = {_STATUS[write.queue]: RequestStatus.PROCESSING}
            if write.card_id:
                cells[_CARD_LINK[write.queue]] = (write.card_id,)
            return cells
        case RecordRedemptionRefusal():
            return {s.OUTCOME: write.outcome, s.RESULT_MESSAGE: write.message}
        case CloseRedemption():
            return {
                s.STATUS: write.status,
                s.OUTCOME: write.outcome,
                s.RESULT_MESSAGE: write.message,
                s.GIFT_CARD: _link(write.card_id),
                s.BALANCE_AFTER: write.balance_after,
                s.SHOPIFY_TRANSACTION_ID: write.transaction_id,
                s.PROCESSED_AT: write.processed_at,
                s.CODE: write.masked_code or None,
            }
        case CloseRedemptionMinimally():
            return {
                s.STATUS: RequestStatus.NEEDS_ATTENTION,
                s.OUTCOME: write.outcome,
                s.RESULT_MESSAGE: write.message,
                s.PROCESSED_AT: write.processed_at,
                s.CODE: write.masked_code or None,
            }
        case CloseCreation():
            cells = {c.STATUS: write.status, c.OUTCOME: write.outcome}
            if write.card_id:
                cells[c.GIFT_CARD] = (write.card_id,)
            return {**cells, c.RESULT_MESSAGE: write.message, c.PROCESSED_AT: write.processed_at}
        case CloseBalanceCheck():
            return {
                b.STATUS: write.status,
                b.OUTCOME: write.outcome,
                b.PROCESSED_AT: write.processed_at,
                b.CODE: write.masked_code or None,
            }
        case CloseCardAction():
            return {
                a.STATUS: write.status,
                a.OUTCOME: write.outcome,
                a.RESULT_MESSAGE: write.message,
                a.PROCESSED_AT: write.processed_at,
            }


def grouped_by_table(writes: Sequence[RequestWrite]) -> dict[str, list[tuple[str, Changes]]]:
    """Request writes as (record id, cells) per table, in the order given."""
    tables: dict[str, list[tuple[str, Changes]]] = {}
    for write in writes:
        table, record_id, cells = request_columns(write)
        tables.setdefault(table, []).append((record_id, cells))
    return tables


# --- Gift Cards rows --------------------------------------------------------------------------


def new_card_cells(card: NewCardRow) -> Changes:
    """The cells of a new Gift Cards row (empty ones left out: a new row has nothing to clear)."""
    g = GiftCards
    cells: dict[str, CellValue] = {
        g.ORIGIN_KEY: card.origin_key,
        g.SHOPIFY_GIFT_CARD_ID: card.shopify_id,
        g.CODE_DIGEST: card.code_digest,
        g.CODE_SEALED: card.code_sealed,
        g.MASKED_CODE: card.masked_code,
        g.LAST_CHARACTERS: card.last_characters,
        g.STATUS: card.status,
        g.KIND: card.kind,
        g.CURRENCY: card.currency,
        g.INITIAL_VALUE: card.initial_value,
        g.BALANCE: card.balance,
        g.SOURCE: card.source,
        g.STORE: _link(card.store_id),
        g.ISSUED_AT: card.issued_at,
        g.EXPIRES_ON: card.expires_on,
        g.PURCHASER_NAME: card.purchaser_name,
        g.PURCHASER_EMAIL: card.purchaser_email,
        g.RECIPIENT_NAME: card.recipient_name,
        g.RECIPIENT_EMAIL: card.recipient_email,
        g.MESSAGE: card.message,
        g.THEME: card.theme,
        g.SHOPIFY_ORDER: card.shopify_order,
        g.LAST_SYNCED_AT: card.last_synced_at,
    }
    return {name: value for name, value in cells.items() if value is not None}


def card_columns(update: CardUpdate) -> tuple[str, Changes]:
    """The card's record id and the cells one update fills."""
    return update.card_id, _card_cells(update)


def _touched(at: datetime) -> dict[str, CellValue]:
    """A change giftbridge made or saw, mirrored from Shopify just now."""
    return {GiftCards.LAST_ACTIVITY_AT: at, GiftCards.LAST_SYNCED_AT: at}


def _card_cells(update: CardUpdate) -> Changes:
    g = GiftCards
    match update:
        case ActivateCard():
            return {
                g.SHOPIFY_GIFT_CARD_ID: update.shopify_id,
                g.STATUS: CardStatus.ACTIVE,
                g.ISSUED_AT: update.at,
                g.EXPIRES_ON: update.expires_on,
                g.BALANCE: update.balance,
                **_touched(update.at),
            }
        case AbandonPendingCard():
            return {
                g.STATUS: CardStatus.VOIDED,
                g.VOID_REASON: update.reason,
                g.CODE_DIGEST: None,
                g.CODE_SEALED: None,
            }
        case FillCodeDigest():
            return {
                g.CODE_DIGEST: update.code_digest,
                g.MASKED_CODE: update.masked_code,
                g.LAST_CHARACTERS: update.last_characters,
            }
        case MirrorBalance():
            cells: dict[str, CellValue] = {g.BALANCE: update.balance}
            if update.status is not None:
                cells[g.STATUS] = update.status
            if update.activity_at is not None:
                cells[g.LAST_ACTIVITY_AT] = update.activity_at
            return {**cells, g.LAST_SYNCED_AT: update.synced_at}
        case VoidCard():
            return {
                g.STATUS: CardStatus.VOIDED,
                g.VOID_REASON: update.void_reason,
                g.BALANCE: update.balance,
                g.SHOPIFY_GIFT_CARD_ID: update.shopify_id,
                **_touched(update.at),
            }
        case ReactivateCard():
            return {
                g.STATUS: CardStatus.ACTIVE,
                g.VOID_REASON: None,
                g.BALANCE: update.balance,
                **_touched(update.at),
            }
        case ChangeExpiry():
            return {g.EXPIRES_ON: update.expires_on, g.STATUS: update.status, **_touched(update.at)}


# --- receipts and orders ----------------------------------------------------------------------


def receipt_cells(receipt: Receipt) -> Changes:
    r = Receipts
    return {
        r.REFERENCE: receipt.reference,
        r.ACTION: receipt.action,
        r.AT: receipt.at,
        r.SOURCE: receipt.source,
        r.GIFT_CARD: _link(receipt.card_id),
        r.STORE: _link(receipt.store_id),
        r.AMOUNT: receipt.amount,
        r.BALANCE_BEFORE: receipt.balance_before,
        r.BALANCE_AFTER: receipt.balance_after,
        r.REQUEST: receipt.request,
        r.SHOPIFY_REFERENCE: receipt.shopify_reference,
        r.DETAILS: receipt.details,
    }


def order_cells(
    *,
    order_id: str,
    order_name: str,
    kind: OrderKind,
    outcome: OrderOutcome,
    card_ids: Sequence[str],
    processed_at: datetime,
) -> Changes:
    o = ShopifyOrders
    return {
        o.ORDER_ID: order_id,
        o.ORDER_NAME: order_name,
        o.KIND: kind,
        o.OUTCOME: outcome,
        o.GIFT_CARDS: tuple(card_ids),
        o.PROCESSED_AT: processed_at,
    }


# --- Status rows ------------------------------------------------------------------------------


def new_status_cells(prong: str, state: ProngState) -> Changes:
    return {Status.PRONG: prong, Status.STATE: state}


def status_cells(write: StatusWrite) -> Changes:
    s = Status
    match write:
        case ClaimLease():
            return {
                s.STATE: ProngState.EXECUTING,
                s.OWNER: write.owner,
                s.LEASE_EXPIRES_AT: write.expires_at,
                s.HEARTBEAT_AT: write.at,
                s.LAST_STARTED_AT: write.at,
            }
        case RenewLease():
            return {s.LEASE_EXPIRES_AT: write.expires_at, s.HEARTBEAT_AT: write.at}
        case StatusHeartbeat():
            return {s.HEARTBEAT_AT: write.at}
        case ReleaseLease():
            cells: dict[str, CellValue] = {
                s.LEASE_EXPIRES_AT: None,
                s.HEARTBEAT_AT: write.at,
                s.LAST_FINISHED_AT: write.at,
                s.LAST_RUN_PROCESSED: write.processed,
                s.LAST_ERROR: write.error,
            }
            if write.error is None:
                cells[s.LAST_SUCCESS_AT] = write.at
            if write.offline:
                cells[s.STATE] = ProngState.OFFLINE
            return cells
