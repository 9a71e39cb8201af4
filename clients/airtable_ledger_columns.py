"""Receipts, Shopify Orders and Status rows -> Airtable cells (the request and Gift Cards writes
are in :mod:`clients.airtable_columns`); used by the real adapter and the test fake alike."""

from __future__ import annotations

from cards.vocab import ProngState
from clients.airtable_columns import CellValue, Changes, link
from clients.commands import RecordOrder
from clients.records import Receipt
from clients.status_commands import (
    ClaimLease,
    EndRun,
    ReleaseLease,
    RenewLease,
    StartRun,
    StatusHeartbeat,
    StatusWrite,
)
from config.layout import Receipts, ShopifyOrders, Status

RECEIPT_KEY = [Receipts.REFERENCE]  # receipts are upserted on it
ORDER_KEY = [ShopifyOrders.ORDER_ID, ShopifyOrders.KIND]  # one Shopify Orders row per both


# --- receipts and orders ----------------------------------------------------------------------


def receipt_cells(receipt: Receipt) -> Changes:
    return {
        Receipts.REFERENCE: receipt.reference,
        Receipts.ACTION: receipt.action,
        Receipts.AT: receipt.at,
        Receipts.SOURCE: receipt.source,
        Receipts.GIFT_CARD: link(receipt.card_id),
        Receipts.STORE: link(receipt.store_id),
        Receipts.AMOUNT: receipt.amount,
        Receipts.BALANCE_BEFORE: receipt.balance_before,
        Receipts.BALANCE_AFTER: receipt.balance_after,
        Receipts.REQUEST: receipt.request,
        Receipts.SHOPIFY_REFERENCE: receipt.shopify_reference,
        Receipts.DETAILS: receipt.details,
    }


def order_cells(order: RecordOrder) -> Changes:
    return {
        ShopifyOrders.ORDER_ID: order.order_id,
        ShopifyOrders.ORDER_NAME: order.order_name,
        ShopifyOrders.KIND: order.kind,
        ShopifyOrders.OUTCOME: order.outcome,
        ShopifyOrders.GIFT_CARDS: order.card_ids,
        ShopifyOrders.PROCESSED_AT: order.processed_at,
    }


# --- Status rows ------------------------------------------------------------------------------


def new_status_cells(prong: str, state: ProngState) -> Changes:
    return {Status.PRONG: prong, Status.STATE: state}


def status_cells(write: StatusWrite) -> Changes:
    match write:
        case ClaimLease():
            return {
                Status.OWNER: write.owner,
                Status.LEASE_EXPIRES_AT: write.expires_at,
                Status.HEARTBEAT_AT: write.at,
            }
        case StartRun():
            return {
                Status.STATE: ProngState.EXECUTING,
                Status.LEASE_EXPIRES_AT: write.expires_at,
                Status.HEARTBEAT_AT: write.at,
                Status.LAST_STARTED_AT: write.at,
            }
        case RenewLease():
            return {Status.LEASE_EXPIRES_AT: write.expires_at, Status.HEARTBEAT_AT: write.at}
        case StatusHeartbeat():
            return {Status.HEARTBEAT_AT: write.at}
        case EndRun():
            cells: dict[str, CellValue] = {
                Status.LEASE_EXPIRES_AT: write.expires_at,
                Status.HEARTBEAT_AT: write.at,
                Status.LAST_FINISHED_AT: write.at,
                Status.LAST_RUN_PROCESSED: write.processed,
                Status.LAST_ERROR: write.error,
            }
            if write.error is None:
                cells[Status.LAST_SUCCESS_AT] = write.at
            if write.offline:
                cells[Status.STATE] = ProngState.OFFLINE
            return cells
        case ReleaseLease():
            released: dict[str, CellValue] = {
                Status.LEASE_EXPIRES_AT: None,
                Status.HEARTBEAT_AT: write.at,
            }
            if write.offline:
                released[Status.STATE] = ProngState.OFFLINE
            return released
