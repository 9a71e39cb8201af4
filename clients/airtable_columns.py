"""Typed writes -> Airtable cells: where a command becomes column names, for adapter and fake.

Both the real adapter (:mod:`clients.airtable`) and the test fake map every command through
these functions, so the columns a use case fills are written down once: request and Gift Cards
rows here, Receipts, Shopify Orders and Status rows in :mod:`clients.airtable_ledger_columns`.
``Changes`` are field name -> domain value (``Money``, ``date``, ``datetime``, enums, ``str``,
``bool``, ``int``, a tuple of record ids for links); ``None`` clears the cell.
:mod:`clients.airtable_codec` turns the values into JSON at the HTTP boundary.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from cards.money import Money
from cards.vocab import CardStatus, RequestStatus
from clients.commands import (
    AbandonPendingCard,
    ActivateCard,
    CardUpdate,
    ChangeExpiry,
    CloseBalanceCheck,
    CloseCardAction,
    CloseCreation,
    CloseRedemption,
    CloseRedemptionMinimally,
    ExpireCard,
    FillCodeDigest,
    MirrorBalance,
    NewCardRow,
    Queue,
    ReactivateCard,
    RecordIntent,
    RecordRedemptionRefusal,
    RequestWrite,
    VoidCard,
)
from config.layout import (
    BalanceChecks,
    CardActions,
    CreationRequests,
    GiftCards,
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


def link(record_id: str | None) -> tuple[str, ...] | None:
    return (record_id,) if record_id else None


# --- request rows -----------------------------------------------------------------------------


def request_columns(write: RequestWrite) -> tuple[str, str, Changes]:
    """The request table, the record id and the cells one request write fills."""
    return REQUEST_TABLES[write.queue], write.request_id, _request_cells(write)


def _request_cells(write: RequestWrite) -> Changes:
    match write:
        case RecordIntent():
            cells: dict[str, CellValue] = {_STATUS[write.queue]: RequestStatus.PROCESSING}
            if write.card_id:
                cells[_CARD_LINK[write.queue]] = (write.card_id,)
            return cells
        case RecordRedemptionRefusal():
            return {
                StoreRedemptions.OUTCOME: write.outcome,
                StoreRedemptions.RESULT_MESSAGE: write.message,
            }
        case CloseRedemption():
            return {
                StoreRedemptions.STATUS: write.status,
                StoreRedemptions.OUTCOME: write.outcome,
                StoreRedemptions.RESULT_MESSAGE: write.message,
                StoreRedemptions.GIFT_CARD: link(write.card_id),
                StoreRedemptions.BALANCE_AFTER: write.balance_after,
                StoreRedemptions.SHOPIFY_TRANSACTION_ID: write.transaction_id,
                StoreRedemptions.PROCESSED_AT: write.processed_at,
                StoreRedemptions.CODE: write.masked_code or None,
            }
        case CloseRedemptionMinimally():
            return {
                StoreRedemptions.STATUS: RequestStatus.NEEDS_ATTENTION,
                StoreRedemptions.OUTCOME: write.outcome,
                StoreRedemptions.RESULT_MESSAGE: write.message,
                StoreRedemptions.PROCESSED_AT: write.processed_at,
                StoreRedemptions.CODE: write.masked_code or None,
            }
        case CloseCreation():
            cells = {CreationRequests.STATUS: write.status, CreationRequests.OUTCOME: write.outcome}
            if write.card_id:
                cells[CreationRequests.GIFT_CARD] = (write.card_id,)
            return {
                **cells,
                CreationRequests.RESULT_MESSAGE: write.message,
                CreationRequests.PROCESSED_AT: write.processed_at,
            }
        case CloseBalanceCheck():
            check: dict[str, CellValue] = {
                BalanceChecks.STATUS: write.status,
                BalanceChecks.OUTCOME: write.outcome,
                BalanceChecks.PROCESSED_AT: write.processed_at,
                BalanceChecks.CODE: write.masked_code or None,
                BalanceChecks.RESULT_MESSAGE: write.message,
            }
            if write.code_digest:
                check[BalanceChecks.CODE_DIGEST] = write.code_digest
            return check
        case CloseCardAction():
            return {
                CardActions.STATUS: write.status,
                CardActions.OUTCOME: write.outcome,
                CardActions.RESULT_MESSAGE: write.message,
                CardActions.PROCESSED_AT: write.processed_at,
            }


# --- Gift Cards rows --------------------------------------------------------------------------


def new_card_cells(card: NewCardRow) -> Changes:
    """The cells of a new Gift Cards row (empty ones left out: a new row has nothing to clear)."""
    cells: dict[str, CellValue] = {
        GiftCards.ORIGIN_KEY: card.origin_key,
        GiftCards.SHOPIFY_GIFT_CARD_ID: card.shopify_id,
        GiftCards.CODE_DIGEST: card.code_digest,
        GiftCards.CODE_SEALED: card.code_sealed,
        GiftCards.MASKED_CODE: card.masked_code,
        GiftCards.LAST_CHARACTERS: card.last_characters,
        GiftCards.STATUS: card.status,
        GiftCards.KIND: card.kind,
        GiftCards.CURRENCY: card.currency,
        GiftCards.INITIAL_VALUE: card.initial_value,
        GiftCards.BALANCE: card.balance,
        GiftCards.SOURCE: card.source,
        GiftCards.STORE: link(card.store_id),
        GiftCards.ISSUED_AT: card.issued_at,
        GiftCards.EXPIRES_ON: card.expires_on,
        GiftCards.PURCHASER_NAME: card.purchaser_name,
        GiftCards.PURCHASER_EMAIL: card.purchaser_email,
        GiftCards.RECIPIENT_NAME: card.recipient_name,
        GiftCards.RECIPIENT_EMAIL: card.recipient_email,
        GiftCards.MESSAGE: card.message,
        GiftCards.THEME: card.theme,
        GiftCards.SHOPIFY_ORDER: card.shopify_order,
        GiftCards.LAST_SYNCED_AT: card.last_synced_at,
    }
    return {name: value for name, value in cells.items() if value is not None}


def card_columns(update: CardUpdate) -> tuple[str, Changes]:
    """The card's record id and the cells one update fills."""
    return update.card_id, _card_cells(update)


def _touched(at: datetime) -> dict[str, CellValue]:
    """A change giftbridge made or saw, mirrored from Shopify just now."""
    return {GiftCards.LAST_ACTIVITY_AT: at, GiftCards.LAST_SYNCED_AT: at}


def _card_cells(update: CardUpdate) -> Changes:
    match update:
        case ActivateCard():
            return {
                GiftCards.SHOPIFY_GIFT_CARD_ID: update.shopify_id,
                GiftCards.STATUS: CardStatus.ACTIVE,
                GiftCards.ISSUED_AT: update.at,
                GiftCards.EXPIRES_ON: update.expires_on,
                GiftCards.BALANCE: update.balance,
                **_touched(update.at),
            }
        case AbandonPendingCard():
            return {
                GiftCards.STATUS: CardStatus.VOIDED,
                GiftCards.VOID_REASON: update.reason,
                GiftCards.CODE_DIGEST: None,
                GiftCards.CODE_SEALED: None,
            }
        case FillCodeDigest():
            return {
                GiftCards.CODE_DIGEST: update.code_digest,
                GiftCards.MASKED_CODE: update.masked_code,
                GiftCards.LAST_CHARACTERS: update.last_characters,
            }
        case MirrorBalance():
            cells: dict[str, CellValue] = {GiftCards.BALANCE: update.balance}
            if update.status is not None:
                cells[GiftCards.STATUS] = update.status
            if update.activity_at is not None:
                cells[GiftCards.LAST_ACTIVITY_AT] = update.activity_at
            return {**cells, GiftCards.LAST_SYNCED_AT: update.synced_at}
        case VoidCard():
            return {
                GiftCards.STATUS: CardStatus.VOIDED,
                GiftCards.VOID_REASON: update.void_reason,
                GiftCards.BALANCE: update.balance,
                GiftCards.SHOPIFY_GIFT_CARD_ID: update.shopify_id,
                **_touched(update.at),
            }
        case ReactivateCard():
            return {
                GiftCards.STATUS: CardStatus.ACTIVE,
                GiftCards.VOID_REASON: None,
                GiftCards.BALANCE: update.balance,
                **_touched(update.at),
            }
        case ChangeExpiry():
            return {
                GiftCards.EXPIRES_ON: update.expires_on,
                GiftCards.STATUS: update.status,
                **_touched(update.at),
            }
        case ExpireCard():
            return {
                GiftCards.STATUS: CardStatus.EXPIRED,
                GiftCards.EXPIRES_ON: update.expires_on,
                GiftCards.BALANCE: update.balance,
                **_touched(update.at),
            }
