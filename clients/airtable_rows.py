"""Airtable records (``{"id", "createdTime", "fields"}``) -> the typed rows of clients.records."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cards.vocab import (
    CardActionType,
    CardSource,
    CardStatus,
    Channel,
    Kind,
    OrderKind,
    OrderOutcome,
    ProngState,
    RequestStatus,
    Theme,
)
from clients.airtable_codec import (
    created_time,
    day,
    decimal,
    flag,
    integer,
    links,
    money,
    option,
    text,
    timestamp,
)
from clients.errors import InvariantViolation
from clients.records import (
    BalanceCheckRequest,
    CardActionRequest,
    CardRow,
    CreationRequest,
    OrderRow,
    RedemptionRequest,
    StatusRow,
    Store,
)
from config.layout import (
    BalanceChecks,
    CardActions,
    CreationRequests,
    GiftCards,
    ShopifyOrders,
    Status,
    StoreRedemptions,
    Stores,
)

Record = Mapping[str, Any]


def _fields(record: Record) -> Mapping[str, Any]:
    fields = record.get("fields")
    return fields if isinstance(fields, dict) else {}


def store(record: Record) -> Store:
    f = _fields(record)
    return Store(
        id=record["id"],
        name=text(f, Stores.NAME) or "",
        email=text(f, Stores.EMAIL),
        location_code=text(f, Stores.LOCATION_CODE),
        active=flag(f, Stores.ACTIVE),
    )


def card(record: Record, currency: str) -> CardRow:
    f, g, rid = _fields(record), GiftCards, record["id"]
    # A card row carries its own currency; amounts are read in it (the base's by default).
    row_currency = text(f, g.CURRENCY) or currency
    return CardRow(
        id=rid,
        masked_code=text(f, g.MASKED_CODE),
        last_characters=text(f, g.LAST_CHARACTERS),
        code_digest=text(f, g.CODE_DIGEST),
        code_sealed=text(f, g.CODE_SEALED),
        shopify_id=text(f, g.SHOPIFY_GIFT_CARD_ID),
        origin_key=text(f, g.ORIGIN_KEY),
        status=option(f, g.STATUS, CardStatus),
        kind=option(f, g.KIND, Kind),
        currency=text(f, g.CURRENCY),
        initial_value=money(f, g.INITIAL_VALUE, row_currency, record_id=rid),
        balance=money(f, g.BALANCE, row_currency, record_id=rid),
        source=option(f, g.SOURCE, CardSource),
        store_ids=links(f, g.STORE),
        issued_at=timestamp(f, g.ISSUED_AT),
        expires_on=day(f, g.EXPIRES_ON),
        last_activity_at=timestamp(f, g.LAST_ACTIVITY_AT),
        purchaser_name=text(f, g.PURCHASER_NAME),
        purchaser_email=text(f, g.PURCHASER_EMAIL),
        recipient_name=text(f, g.RECIPIENT_NAME),
        recipient_email=text(f, g.RECIPIENT_EMAIL),
        message=text(f, g.MESSAGE),
        theme=option(f, g.THEME, Theme),
        shopify_order=text(f, g.SHOPIFY_ORDER),
        certificate_ids=links(f, g.CERTIFICATE),
        void_reason=text(f, g.VOID_REASON),
        last_synced_at=timestamp(f, g.LAST_SYNCED_AT),
    )


def redemption(record: Record) -> RedemptionRequest:
    f, s = _fields(record), StoreRedemptions
    return RedemptionRequest(
        id=record["id"],
        created_time=created_time(record),
        code_text=text(f, s.CODE),
        store_ids=links(f, s.STORE),
        amount=decimal(f, s.AMOUNT),
        order_total=decimal(f, s.ORDER_TOTAL),
        staff_name=text(f, s.STAFF_NAME),
        status=option(f, s.STATUS, RequestStatus),
        outcome=text(f, s.OUTCOME),
        card_ids=links(f, s.GIFT_CARD),
        balance_after=decimal(f, s.BALANCE_AFTER),
        shopify_transaction_id=text(f, s.SHOPIFY_TRANSACTION_ID),
        result_message=text(f, s.RESULT_MESSAGE),
        processed_at=timestamp(f, s.PROCESSED_AT),
    )


def creation(record: Record) -> CreationRequest:
    f, c = _fields(record), CreationRequests
    return CreationRequest(
        id=record["id"],
        created_time=created_time(record),
        purchaser_name=text(f, c.PURCHASER_NAME),
        purchaser_email=text(f, c.PURCHASER_EMAIL),
        recipient_name=text(f, c.RECIPIENT_NAME),
        recipient_email=text(f, c.RECIPIENT_EMAIL),
        is_gift=flag(f, c.IS_GIFT),
        message=text(f, c.MESSAGE),
        amount=decimal(f, c.AMOUNT),
        kind=option(f, c.KIND, Kind),
        store_ids=links(f, c.STORE),
        theme=option(f, c.THEME, Theme),
        channel=option(f, c.CHANNEL, Channel),
        status=option(f, c.STATUS, RequestStatus),
        outcome=text(f, c.OUTCOME),
        card_ids=links(f, c.GIFT_CARD),
        result_message=text(f, c.RESULT_MESSAGE),
        processed_at=timestamp(f, c.PROCESSED_AT),
        batch=text(f, c.BATCH),
        import_key=text(f, c.IMPORT_KEY),
    )


def balance_check(record: Record) -> BalanceCheckRequest:
    f, b = _fields(record), BalanceChecks
    return BalanceCheckRequest(
        id=record["id"],
        created_time=created_time(record),
        code_text=text(f, b.CODE),
        email=text(f, b.EMAIL),
        status=option(f, b.STATUS, RequestStatus),
        outcome=text(f, b.OUTCOME),
        processed_at=timestamp(f, b.PROCESSED_AT),
        code_digest=text(f, b.CODE_DIGEST),
    )


def card_action(record: Record) -> CardActionRequest:
    f, a = _fields(record), CardActions
    return CardActionRequest(
        id=record["id"],
        created_time=created_time(record),
        requested_by=text(f, a.REQUESTED_BY),
        card_ids=links(f, a.GIFT_CARD),
        action=option(f, a.ACTION, CardActionType),
        reason=text(f, a.REASON),
        amount=decimal(f, a.AMOUNT),
        new_expiry=day(f, a.NEW_EXPIRY),
        status=option(f, a.STATUS, RequestStatus),
        outcome=text(f, a.OUTCOME),
        result_message=text(f, a.RESULT_MESSAGE),
        processed_at=timestamp(f, a.PROCESSED_AT),
    )


def order(record: Record) -> OrderRow:
    f, o = _fields(record), ShopifyOrders
    kind = option(f, o.KIND, OrderKind)
    if kind is None:
        raise InvariantViolation(f"Shopify Orders row {record['id']} has no known Kind")
    return OrderRow(
        id=record["id"],
        order_id=text(f, o.ORDER_ID) or "",
        kind=kind,
        order_name=text(f, o.ORDER_NAME),
        card_ids=links(f, o.GIFT_CARDS),
        outcome=option(f, o.OUTCOME, OrderOutcome),
        processed_at=timestamp(f, o.PROCESSED_AT),
    )


def status(record: Record) -> StatusRow:
    f, s = _fields(record), Status
    return StatusRow(
        id=record["id"],
        prong=text(f, s.PRONG) or "",
        state=option(f, s.STATE, ProngState),
        owner=text(f, s.OWNER),
        lease_expires_at=timestamp(f, s.LEASE_EXPIRES_AT),
        heartbeat_at=timestamp(f, s.HEARTBEAT_AT),
        last_started_at=timestamp(f, s.LAST_STARTED_AT),
        last_finished_at=timestamp(f, s.LAST_FINISHED_AT),
        last_success_at=timestamp(f, s.LAST_SUCCESS_AT),
        last_run_processed=integer(f, s.LAST_RUN_PROCESSED),
        last_error=text(f, s.LAST_ERROR),
    )
