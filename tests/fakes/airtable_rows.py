"""Airtable rows (domain values keyed by field name) -> the records the AirtablePort returns."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from cards.money import Money
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
from clients.records import (
    BalanceCheckRequest,
    CardActionRequest,
    CardRow,
    CreationRequest,
    OrderRow,
    RedemptionRequest,
    StatusRow,
)
from config.layout import (
    BalanceChecks,
    CardActions,
    CreationRequests,
    GiftCards,
    ShopifyOrders,
    Status,
    StoreRedemptions,
)

Row = dict[str, Any]


def _enum(cls: type[StrEnum], value: Any) -> Any:
    return cls(value) if value is not None else None


class RowConverters:
    """Mixin of the fake: needs the base's currency and each record's created time."""

    currency: str
    created: dict[str, datetime]

    def _money(self, value: Any) -> Money | None:
        if value is None or isinstance(value, Money):
            return value
        return Money.of(Decimal(value), self.currency)

    def _card(self, i: str, r: Row) -> CardRow:
        g = GiftCards
        return CardRow(
            id=i,
            masked_code=r.get(g.MASKED_CODE),
            last_characters=r.get(g.LAST_CHARACTERS),
            code_digest=r.get(g.CODE_DIGEST),
            code_sealed=r.get(g.CODE_SEALED),
            shopify_id=r.get(g.SHOPIFY_GIFT_CARD_ID),
            origin_key=r.get(g.ORIGIN_KEY),
            status=_enum(CardStatus, r.get(g.STATUS)),
            kind=_enum(Kind, r.get(g.KIND)),
            currency=r.get(g.CURRENCY),
            initial_value=self._money(r.get(g.INITIAL_VALUE)),
            balance=self._money(r.get(g.BALANCE)),
            source=_enum(CardSource, r.get(g.SOURCE)),
            store_ids=tuple(r.get(g.STORE, ())),
            issued_at=r.get(g.ISSUED_AT),
            expires_on=r.get(g.EXPIRES_ON),
            last_activity_at=r.get(g.LAST_ACTIVITY_AT),
            purchaser_name=r.get(g.PURCHASER_NAME),
            purchaser_email=r.get(g.PURCHASER_EMAIL),
            recipient_name=r.get(g.RECIPIENT_NAME),
            recipient_email=r.get(g.RECIPIENT_EMAIL),
            message=r.get(g.MESSAGE),
            theme=_enum(Theme, r.get(g.THEME)),
            shopify_order=r.get(g.SHOPIFY_ORDER),
            certificate_ids=tuple(r.get(g.CERTIFICATE, ())),
            void_reason=r.get(g.VOID_REASON),
            last_synced_at=r.get(g.LAST_SYNCED_AT),
        )

    @staticmethod
    def _decimal(value: Any) -> Decimal | None:
        if value is None or isinstance(value, Decimal):
            return value
        if isinstance(value, Money):
            return value.amount
        return Decimal(str(value))

    def _redemption(self, i: str, r: Row) -> RedemptionRequest:
        s = StoreRedemptions
        return RedemptionRequest(
            id=i,
            created_time=self.created[i],
            code_text=r.get(s.CODE),
            store_ids=tuple(r.get(s.STORE, ())),
            amount=self._decimal(r.get(s.AMOUNT)),
            order_total=self._decimal(r.get(s.ORDER_TOTAL)),
            staff_name=r.get(s.STAFF_NAME),
            status=_enum(RequestStatus, r.get(s.STATUS)),
            outcome=r.get(s.OUTCOME),
            card_ids=tuple(r.get(s.GIFT_CARD, ())),
            balance_after=self._decimal(r.get(s.BALANCE_AFTER)),
            shopify_transaction_id=r.get(s.SHOPIFY_TRANSACTION_ID),
            result_message=r.get(s.RESULT_MESSAGE),
            processed_at=r.get(s.PROCESSED_AT),
        )

    def _creation(self, i: str, r: Row) -> CreationRequest:
        c = CreationRequests
        return CreationRequest(
            id=i,
            created_time=self.created[i],
            purchaser_name=r.get(c.PURCHASER_NAME),
            purchaser_email=r.get(c.PURCHASER_EMAIL),
            recipient_name=r.get(c.RECIPIENT_NAME),
            recipient_email=r.get(c.RECIPIENT_EMAIL),
            is_gift=bool(r.get(c.IS_GIFT)),
            message=r.get(c.MESSAGE),
            amount=self._decimal(r.get(c.AMOUNT)),
            kind=_enum(Kind, r.get(c.KIND)),
            store_ids=tuple(r.get(c.STORE, ())),
            theme=_enum(Theme, r.get(c.THEME)),
            channel=_enum(Channel, r.get(c.CHANNEL)),
            status=_enum(RequestStatus, r.get(c.STATUS)),
            outcome=r.get(c.OUTCOME),
            card_ids=tuple(r.get(c.GIFT_CARD, ())),
            result_message=r.get(c.RESULT_MESSAGE),
            processed_at=r.get(c.PROCESSED_AT),
            batch=r.get(c.BATCH),
            import_key=r.get(c.IMPORT_KEY),
        )

    def _balance(self, i: str, r: Row) -> BalanceCheckRequest:
        b = BalanceChecks
        return BalanceCheckRequest(
            id=i,
            created_time=self.created[i],
            code_text=r.get(b.CODE),
            email=r.get(b.EMAIL),
            status=_enum(RequestStatus, r.get(b.STATUS)),
            outcome=r.get(b.OUTCOME),
            processed_at=r.get(b.PROCESSED_AT),
            code_digest=r.get(b.CODE_DIGEST),
        )

    def _action(self, i: str, r: Row) -> CardActionRequest:
        a = CardActions
        return CardActionRequest(
            id=i,
            created_time=self.created[i],
            requested_by=r.get(a.REQUESTED_BY),
            card_ids=tuple(r.get(a.GIFT_CARD, ())),
            action=_enum(CardActionType, r.get(a.ACTION)),
            reason=r.get(a.REASON),
            amount=self._decimal(r.get(a.AMOUNT)),
            new_expiry=r.get(a.NEW_EXPIRY),
            status=_enum(RequestStatus, r.get(a.STATUS)),
            outcome=r.get(a.OUTCOME),
            result_message=r.get(a.RESULT_MESSAGE),
            processed_at=r.get(a.PROCESSED_AT),
        )

    def _order(self, i: str, r: Row) -> OrderRow:
        o = ShopifyOrders
        return OrderRow(
            id=i,
            order_id=r[o.ORDER_ID],
            kind=OrderKind(r[o.KIND]),
            order_name=r.get(o.ORDER_NAME),
            card_ids=tuple(r.get(o.GIFT_CARDS, ())),
            outcome=_enum(OrderOutcome, r.get(o.OUTCOME)),
            processed_at=r.get(o.PROCESSED_AT),
        )

    def _status(self, i: str, r: Row) -> StatusRow:
        s = Status
        return StatusRow(
            id=i,
            prong=r.get(s.PRONG, ""),
            state=_enum(ProngState, r.get(s.STATE)),
            owner=r.get(s.OWNER),
            lease_expires_at=r.get(s.LEASE_EXPIRES_AT),
            heartbeat_at=r.get(s.HEARTBEAT_AT),
            last_started_at=r.get(s.LAST_STARTED_AT),
            last_finished_at=r.get(s.LAST_FINISHED_AT),
            last_success_at=r.get(s.LAST_SUCCESS_AT),
            last_run_processed=r.get(s.LAST_RUN_PROCESSED),
            last_error=r.get(s.LAST_ERROR),
        )
