"""An in-memory Airtable base implementing AirtablePort, strict like the real API.

Rows hold domain values keyed by field name. Unknown fields and unknown select options are
refused (as Airtable's 422s), empty values are omitted (as Airtable omits them), and every call
is counted and can be crashed or dropped through the shared Injector.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable, Sequence
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, TypeVar

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
from clients.airtable_batch import merge_updates
from clients.airtable_queries import bounded_chunks
from clients.errors import InvariantViolation, Permanent
from clients.records import (
    BalanceCheckRequest,
    CardActionRequest,
    CardRow,
    Changes,
    CreationRequest,
    OrderRow,
    Receipt,
    RedemptionRequest,
    StatusRow,
    Store,
)
from config.layout import (
    BalanceChecks,
    CardActions,
    CreationRequests,
    GiftCards,
    Receipts,
    ShopifyOrders,
    Status,
    StoreRedemptions,
    Stores,
    load_layout,
)
from tests.fakes.world import FakeClock, Injector

T = TypeVar("T")
Row = dict[str, Any]
REQUEST_TABLE_NAMES = frozenset(
    {StoreRedemptions.TABLE, CreationRequests.TABLE, BalanceChecks.TABLE, CardActions.TABLE}
)


def _enum(cls: type[StrEnum], value: Any) -> Any:
    return cls(value) if value is not None else None


class FakeAirtable:
    def __init__(self, clock: FakeClock, injector: Injector, currency: str = "USD") -> None:
        self.clock = clock
        self.injector = injector
        self.currency = currency
        self.tables: dict[str, dict[str, Row]] = {t.name: {} for t in load_layout()}
        self.created: dict[str, datetime] = {}
        self._specs = {t.name: t for t in load_layout()}
        self._ids = itertools.count(1)
        self.writes: list[tuple[str, str, dict[str, Any]]] = []  # (table, record id, changes)
        self.attachments: dict[str, bytes] = {}
        # record id -> a field Airtable refuses for it (a 422, e.g. a link to a deleted row)
        self.refuse: dict[str, str] = {}

    # --- test helpers -------------------------------------------------------------------
    def new_id(self) -> str:
        return f"rec{next(self._ids):014d}"

    def insert(self, table: str, fields: dict[str, Any]) -> str:
        """Add a row as a person (or a form) would: no injection, validated."""
        record_id = self.new_id()
        self.tables[table][record_id] = {}
        self.created[record_id] = self.clock.now()
        self._apply(table, record_id, fields)
        return record_id

    def row(self, table: str, record_id: str) -> Row:
        return dict(self.tables[table][record_id])

    def rows(self, table: str) -> list[Row]:
        return [dict(r, id=i) for i, r in self.tables[table].items()]

    # --- validation and storage ---------------------------------------------------------
    def _check(self, table: str, name: str, value: Any) -> None:
        try:
            spec = self._specs[table].field(name)
        except KeyError:
            raise Permanent(
                "airtable",
                "write",
                f"unknown field {name!r} in {table}",
                code="UNKNOWN_FIELD_NAME",
                status=422,
            ) from None
        if spec.choices and value is not None and str(value) not in spec.choices:
            raise Permanent(
                "airtable",
                "write",
                f"{value!r} is not an option of {name}",
                code="INVALID_MULTIPLE_CHOICE_OPTIONS",
                status=422,
            )
        if isinstance(value, float):
            raise AssertionError(f"a float reached the Airtable fake in {table}.{name}")
        if spec.type == "currency" and isinstance(value, Money) and value.currency != self.currency:
            raise AssertionError(f"{value} written to a {self.currency} base")

    def _apply(self, table: str, record_id: str, changes: Changes | dict[str, Any]) -> None:
        self._refuse_if_asked(record_id, changes)
        for name, value in changes.items():
            self._check(table, name, value)
        row = self.tables[table][record_id]
        for name, value in changes.items():
            if value is None or value == "" or value == () or value is False:
                row.pop(name, None)
            else:
                row[name] = tuple(value) if isinstance(value, list) else value
        self.writes.append((table, record_id, dict(changes)))

    def _call(self, operation: str, apply: Callable[[], T]) -> T:
        return self.injector.call(f"airtable.{operation}", apply)

    def _money(self, value: Any) -> Money | None:
        if value is None or isinstance(value, Money):
            return value
        return Money.of(Decimal(value), self.currency)

    def _pending(self, table: str, limit: int) -> list[tuple[str, Row]]:
        rows = [
            (i, r)
            for i, r in self.tables[table].items()
            if r.get("Status") in (None, RequestStatus.PROCESSING.value, RequestStatus.PROCESSING)
        ]
        rows.sort(key=lambda item: (self.created[item[0]], item[0]))
        return rows[:limit]

    # --- queues -------------------------------------------------------------------------
    def pending_redemptions(self, limit: int) -> list[RedemptionRequest]:
        return self._call(
            "list",
            lambda: [
                self._redemption(i, r) for i, r in self._pending(StoreRedemptions.TABLE, limit)
            ],
        )

    def pending_creations(self, limit: int) -> list[CreationRequest]:
        return self._call(
            "list",
            lambda: [self._creation(i, r) for i, r in self._pending(CreationRequests.TABLE, limit)],
        )

    def pending_balance_checks(self, limit: int) -> list[BalanceCheckRequest]:
        return self._call(
            "list",
            lambda: [self._balance(i, r) for i, r in self._pending(BalanceChecks.TABLE, limit)],
        )

    def pending_card_actions(self, limit: int) -> list[CardActionRequest]:
        return self._call(
            "list", lambda: [self._action(i, r) for i, r in self._pending(CardActions.TABLE, limit)]
        )

    def recent_balance_checks(self, since: datetime) -> list[BalanceCheckRequest]:
        def read() -> list[BalanceCheckRequest]:
            table = self.tables[BalanceChecks.TABLE]
            return [
                self._balance(i, r)
                for i, r in table.items()
                if r.get("Processed At") is not None and r["Processed At"] >= since
            ]

        return self._call("list", read)

    def update_request(self, table: str, record_id: str, changes: Changes) -> None:
        if table not in REQUEST_TABLE_NAMES:
            raise AssertionError(f"{table} is not a request table")
        self._call("update", lambda: self._apply(table, record_id, changes))

    def update_requests(
        self, table: str, updates: Sequence[tuple[str, Changes]]
    ) -> dict[str, Permanent]:
        if table not in REQUEST_TABLE_NAMES:
            raise AssertionError(f"{table} is not a request table")
        return self._update_in_tens(table, updates)

    def _update_in_tens(
        self, table: str, updates: Sequence[tuple[str, Changes]]
    ) -> dict[str, Permanent]:
        """As the adapter: 10 records a call, all or nothing; a refused chunk again one record
        at a time (one call each), the records still refused returned."""
        merged = list(merge_updates(updates))
        refused: dict[str, Permanent] = {}
        for start in range(0, len(merged), 10):
            chunk = merged[start : start + 10]
            try:
                self._call("update", functools.partial(self._apply_all, table, chunk))
            except Permanent as exc:
                if len(chunk) == 1:
                    refused[chunk[0][0]] = exc
                    continue
                for one in chunk:
                    try:
                        self._call("update", functools.partial(self._apply_all, table, [one]))
                    except Permanent as single:
                        refused[one[0]] = single
        return refused

    def _apply_all(self, table: str, updates: Sequence[tuple[str, Changes]]) -> None:
        """Validate every record first, then write them all (Airtable's all-or-nothing)."""
        for record_id, changes in updates:
            if record_id not in self.tables[table]:
                raise Permanent(
                    "airtable",
                    "update",
                    f"no record {record_id}",
                    code="MODEL_ID_NOT_FOUND",
                    status=404,
                )
            self._refuse_if_asked(record_id, changes)
            for name, value in changes.items():
                self._check(table, name, value)
        for record_id, changes in updates:
            self._apply(table, record_id, changes)

    def _refuse_if_asked(self, record_id: str, changes: Changes | dict[str, Any]) -> None:
        name = self.refuse.get(record_id)
        if name is not None and name in changes:
            raise Permanent(
                "airtable",
                "write",
                f"{name} of {record_id} refused (test)",
                code="INVALID_VALUE_FOR_COLUMN",
                status=422,
            )

    # --- cards --------------------------------------------------------------------------
    def get_card(self, record_id: str) -> CardRow | None:
        def read() -> CardRow | None:
            row = self.tables[GiftCards.TABLE].get(record_id)
            return self._card(record_id, row) if row is not None else None

        return self._call("get", read)

    def find_card(
        self,
        *,
        digest: str | None = None,
        origin_key: str | None = None,
        shopify_id: str | None = None,
    ) -> CardRow | None:
        given = [
            (GiftCards.CODE_DIGEST, digest),
            (GiftCards.ORIGIN_KEY, origin_key),
            (GiftCards.SHOPIFY_GIFT_CARD_ID, shopify_id),
        ]
        keys = [(f, v) for f, v in given if v is not None]
        assert len(keys) == 1, "find_card takes exactly one key"
        name, value = keys[0]

        def read() -> CardRow | None:
            hits = [(i, r) for i, r in self.tables[GiftCards.TABLE].items() if r.get(name) == value]
            if len(hits) > 1:
                raise InvariantViolation(f"{len(hits)} Gift Cards rows share one {name}")
            return self._card(*hits[0]) if hits else None

        return self._call("list", read)

    def search_cards(self, text: str, limit: int = 20) -> list[CardRow]:
        g = GiftCards
        fields = (
            g.LAST_CHARACTERS,
            g.RECIPIENT_EMAIL,
            g.RECIPIENT_NAME,
            g.PURCHASER_EMAIL,
            g.PURCHASER_NAME,
            g.SHOPIFY_ORDER,
            g.ORIGIN_KEY,
        )

        def read() -> list[CardRow]:
            hits = [
                (i, r)
                for i, r in self.tables[g.TABLE].items()
                if any(text.lower() in str(r.get(f, "")).lower() for f in fields)
                or str(r.get(g.STATUS, "")) == text.strip().title()
            ]
            return [self._card(i, r) for i, r in hits[:limit]]

        return self._call("list", read)

    def create_card(self, changes: Changes) -> CardRow:
        def create() -> CardRow:
            record_id = self.new_id()
            self.tables[GiftCards.TABLE][record_id] = {}
            self.created[record_id] = self.clock.now()
            self._apply(GiftCards.TABLE, record_id, changes)
            return self._card(record_id, self.tables[GiftCards.TABLE][record_id])

        return self._call("create", create)

    def update_card(self, record_id: str, changes: Changes) -> CardRow:
        def update() -> CardRow:
            if record_id not in self.tables[GiftCards.TABLE]:
                raise Permanent("airtable", "update", "no such record", code="MODEL_ID_NOT_FOUND")
            self._apply(GiftCards.TABLE, record_id, changes)
            return self._card(record_id, self.tables[GiftCards.TABLE][record_id])

        return self._call("update", update)

    def update_cards(self, updates: Sequence[tuple[str, Changes]]) -> dict[str, Permanent]:
        return self._update_in_tens(GiftCards.TABLE, updates)

    def find_cards_by_digests(self, digests: Sequence[str]) -> dict[str, list[CardRow]]:
        found: dict[str, list[CardRow]] = {}
        for chunk in bounded_chunks(digests):
            wanted = set(chunk)

            def read(wanted: set[str] = wanted) -> dict[str, list[CardRow]]:
                hits: dict[str, list[CardRow]] = {}
                for i, r in self.tables[GiftCards.TABLE].items():
                    if r.get(GiftCards.CODE_DIGEST) in wanted:
                        hits.setdefault(r[GiftCards.CODE_DIGEST], []).append(self._card(i, r))
                return hits

            found |= self._call("list", read)
        return found

    def known_card_ids_by_shopify_id(self, shopify_ids: Sequence[str]) -> dict[str, CardRow]:
        wanted = set(shopify_ids)

        def read() -> dict[str, CardRow]:
            return {
                r[GiftCards.SHOPIFY_GIFT_CARD_ID]: self._card(i, r)
                for i, r in self.tables[GiftCards.TABLE].items()
                if r.get(GiftCards.SHOPIFY_GIFT_CARD_ID) in wanted
            }

        return self._call("list", read)

    def attach_certificate(self, card_id: str, filename: str, content: bytes) -> None:
        def attach() -> None:
            assert content.startswith(b"%PDF"), "certificates are PDFs"
            self._apply(GiftCards.TABLE, card_id, {GiftCards.CERTIFICATE: (f"att-{filename}",)})
            self.attachments[card_id] = content

        self._call("upload", attach)

    def stores(self) -> list[Store]:
        return self._call(
            "list",
            lambda: [
                Store(
                    i,
                    r.get(Stores.NAME, ""),
                    r.get(Stores.EMAIL),
                    r.get(Stores.LOCATION_CODE),
                    bool(r.get(Stores.ACTIVE)),
                )
                for i, r in self.tables[Stores.TABLE].items()
            ],
        )

    # --- receipts and orders --------------------------------------------------------------
    def upsert_receipts(self, receipts: Sequence[Receipt]) -> None:
        for start in range(0, len(receipts), 10):
            chunk = receipts[start : start + 10]
            self._call("upsert", functools.partial(self._upsert_all, chunk))

    def _upsert_all(self, receipts: Sequence[Receipt]) -> None:
        for receipt in receipts:
            self._upsert_receipt(receipt)

    def _upsert_receipt(self, receipt: Receipt) -> None:
        table = self.tables[Receipts.TABLE]
        existing = [i for i, r in table.items() if r.get(Receipts.REFERENCE) == receipt.reference]
        if len(existing) > 1:
            raise Permanent(
                "airtable",
                "upsert",
                "several records match",
                code="INVALID_REQUEST_UNKNOWN",
                status=422,
            )
        record_id = existing[0] if existing else self.new_id()
        if not existing:
            table[record_id] = {}
            self.created[record_id] = self.clock.now()
        self._apply(
            Receipts.TABLE,
            record_id,
            {
                Receipts.REFERENCE: receipt.reference,
                Receipts.ACTION: receipt.action,
                Receipts.GIFT_CARD: (receipt.card_id,) if receipt.card_id else None,
                Receipts.STORE: (receipt.store_id,) if receipt.store_id else None,
                Receipts.AMOUNT: receipt.amount,
                Receipts.BALANCE_BEFORE: receipt.balance_before,
                Receipts.BALANCE_AFTER: receipt.balance_after,
                Receipts.SOURCE: receipt.source,
                Receipts.REQUEST: receipt.request,
                Receipts.SHOPIFY_REFERENCE: receipt.shopify_reference,
                Receipts.DETAILS: receipt.details,
                Receipts.AT: receipt.at,
            },
        )

    def receipt_references(self, references: Sequence[str]) -> set[str]:
        wanted = set(references)
        return self._call(
            "list",
            lambda: {
                r[Receipts.REFERENCE]
                for r in self.tables[Receipts.TABLE].values()
                if r.get(Receipts.REFERENCE) in wanted
            },
        )

    def receipts(self) -> list[Row]:
        return self.rows(Receipts.TABLE)

    def order_rows(self, order_id: str) -> list[OrderRow]:
        return self._call(
            "list",
            lambda: [
                self._order(i, r)
                for i, r in self.tables[ShopifyOrders.TABLE].items()
                if r.get(ShopifyOrders.ORDER_ID) == order_id
            ],
        )

    def record_order(
        self,
        *,
        order_id: str,
        order_name: str,
        kind: OrderKind,
        outcome: OrderOutcome,
        card_ids: Sequence[str],
        processed_at: datetime,
    ) -> OrderRow:
        def upsert() -> OrderRow:
            table = self.tables[ShopifyOrders.TABLE]
            hits = [
                i
                for i, r in table.items()
                if r.get(ShopifyOrders.ORDER_ID) == order_id and r.get(ShopifyOrders.KIND) == kind
            ]
            record_id = hits[0] if hits else self.new_id()
            if not hits:
                table[record_id] = {}
                self.created[record_id] = self.clock.now()
            self._apply(
                ShopifyOrders.TABLE,
                record_id,
                {
                    ShopifyOrders.ORDER_ID: order_id,
                    ShopifyOrders.ORDER_NAME: order_name,
                    ShopifyOrders.KIND: kind,
                    ShopifyOrders.OUTCOME: outcome,
                    ShopifyOrders.GIFT_CARDS: tuple(card_ids),
                    ShopifyOrders.PROCESSED_AT: processed_at,
                },
            )
            return self._order(record_id, table[record_id])

        return self._call("upsert", upsert)

    # --- status -------------------------------------------------------------------------
    def status_rows(self) -> list[StatusRow]:
        return self._call(
            "list", lambda: [self._status(i, r) for i, r in self.tables[Status.TABLE].items()]
        )

    def create_status_row(self, prong: str, changes: Changes) -> StatusRow:
        def create() -> StatusRow:
            record_id = self.insert(Status.TABLE, {Status.PRONG: prong, **changes})
            return self._status(record_id, self.tables[Status.TABLE][record_id])

        return self._call("create", create)

    def update_status_row(self, record_id: str, changes: Changes) -> None:
        self._call("update", lambda: self._apply(Status.TABLE, record_id, changes))

    # --- row -> record ------------------------------------------------------------------
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
