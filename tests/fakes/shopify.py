"""An in-memory Shopify implementing ShopifyPort: cards with atomic debits, notes, orders.

Behaves like the real Admin API where giftbridge depends on it: INSUFFICIENT_FUNDS is atomic,
codes are unique case-insensitively (TAKEN), deactivated or expired cards refuse debits
(INVALID), transactions carry their note and are listed newest first.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import TypeVar

from cards.codes import Code
from cards.money import Money
from clients.errors import CodeTaken, Permanent
from clients.records import (
    CardTransaction,
    LineItem,
    OrderPage,
    OrderTransaction,
    ShopifyCard,
    ShopifyOrder,
    TransactionKind,
    TransactionResult,
)
from tests.fakes.world import FakeClock, Injector

T = TypeVar("T")


@dataclass
class _Card:
    card: ShopifyCard
    code: str
    transactions: list[CardTransaction] = field(default_factory=list)  # oldest first


class FakeShopify:
    def __init__(self, clock: FakeClock, injector: Injector, currency: str = "USD") -> None:
        self.clock = clock
        self.injector = injector
        self.currency = currency
        self.cards: dict[str, _Card] = {}
        self.orders: dict[str, ShopifyOrder] = {}
        self.order_cards: dict[str, list[str]] = {}
        self.scopes = {
            "read_gift_cards",
            "write_gift_cards",
            "read_gift_card_transactions",
            "write_gift_card_transactions",
            "read_orders",
            "write_orders",
        }
        self._ids = itertools.count(1001)

    # --- test helpers -------------------------------------------------------------------
    def issue_native(
        self, code: str, value: Money, order_id: str | None = None, note: str | None = None
    ) -> ShopifyCard:
        """A card Shopify issued itself (no giftbridge note), e.g. for a native product."""
        gid = f"gid://shopify/GiftCard/{next(self._ids)}"
        card = ShopifyCard(
            id=gid,
            last_characters=code[-4:].lower(),
            balance=value,
            initial_value=value,
            enabled=True,
            note=note,
            created_at=self.clock.now(),
            order_id=order_id,
        )
        self.cards[gid] = _Card(card, code.upper())
        if order_id:
            self.order_cards.setdefault(order_id, []).append(gid)
        return card

    def balance(self, card_id: str) -> Money:
        return self.cards[card_id].card.balance

    def notes(self, card_id: str) -> list[str | None]:
        return [t.note for t in self.cards[card_id].transactions]

    def deactivate(self, card_id: str) -> None:
        entry = self.cards[card_id]
        entry.card = replace(entry.card, enabled=False, deactivated_at=self.clock.now())

    def add_order(self, order: ShopifyOrder) -> None:
        self.orders[order.id] = order

    # --- order helpers (added for the Shopify order prongs; none goes through the injector) --
    def new_gid(self, kind: str) -> str:
        return f"gid://shopify/{kind}/{next(self._ids)}"

    def line_item(
        self,
        price: Money,
        *,
        quantity: int = 1,
        sku: str | None = None,
        is_gift_card: bool = False,
        attributes: dict[str, str] | None = None,
        name: str | None = None,
    ) -> LineItem:
        return LineItem(
            id=self.new_gid("LineItem"),
            quantity=quantity,
            is_gift_card=is_gift_card,
            unit_price=price,
            sku=sku,
            name=name or (f"Gift card {sku}" if sku else "Item"),
            attributes=dict(attributes or {}),
        )

    def place_order(
        self,
        *line_items: LineItem,
        customer_email: str | None = "buyer@example.com",
        customer_name: str | None = "Bea Buyer",
        financial_status: str = "PAID",
        currency: str | None = None,
        created_at: datetime | None = None,
        tags: Sequence[str] = (),
    ) -> ShopifyOrder:
        """A new order as checkout leaves it (no transactions yet: add them with pay_*)."""
        number = next(self._ids)
        when = created_at or self.clock.now()
        order = ShopifyOrder(
            id=f"gid://shopify/Order/{number}",
            name=f"#{number}",
            created_at=when,
            currency=currency or self.currency,
            tags=frozenset(tags),
            financial_status=financial_status,
            customer_email=customer_email,
            customer_name=customer_name,
            line_items=tuple(line_items),
            updated_at=when,
        )
        self.orders[order.id] = order
        return order

    def _add_transaction(self, order_id: str, txn: OrderTransaction) -> OrderTransaction:
        order = self.orders[order_id]
        self.orders[order_id] = replace(
            order, transactions=(*order.transactions, txn), updated_at=self.clock.now()
        )
        return txn

    def pay_with_card(
        self,
        order_id: str,
        card_id: str,
        amount: Money,
        *,
        kind: str = "SALE",
        status: str = "SUCCESS",
    ) -> OrderTransaction:
        """Checkout spends ``amount`` of the card (when ``status`` is SUCCESS)."""
        if status == "SUCCESS":
            entry = self.cards[card_id]
            assert entry.card.enabled, "checkout refuses a deactivated card"
            after = entry.card.balance - amount
            assert not after.is_negative, "checkout never overdraws a card"
            self._checkout_move(entry, amount, TransactionKind.DEBIT, after)
        txn = OrderTransaction(
            id=self.new_gid("OrderTransaction"),
            gateway="gift_card",
            kind=kind,
            status=status,
            amount=amount,
            processed_at=self.clock.now(),
            gift_card_id=card_id,
        )
        return self._add_transaction(order_id, txn)

    def pay_other(self, order_id: str, amount: Money, gateway: str = "shopify_payments") -> None:
        self._add_transaction(
            order_id,
            OrderTransaction(
                id=self.new_gid("OrderTransaction"),
                gateway=gateway,
                kind="SALE",
                status="SUCCESS",
                amount=amount,
                processed_at=self.clock.now(),
            ),
        )

    def refund_to_card(self, order_id: str, card_id: str, amount: Money) -> OrderTransaction:
        """A merchant refunds ``amount`` back onto the card (the order's updated_at moves)."""
        entry = self.cards[card_id]
        self._checkout_move(entry, amount, TransactionKind.CREDIT, entry.card.balance + amount)
        txn = OrderTransaction(
            id=self.new_gid("OrderTransaction"),
            gateway="gift_card",
            kind="REFUND",
            status="SUCCESS",
            amount=amount,
            processed_at=self.clock.now(),
            gift_card_id=card_id,
        )
        return self._add_transaction(order_id, txn)

    def _checkout_move(
        self, entry: _Card, amount: Money, kind: TransactionKind, after: Money
    ) -> None:
        entry.transactions.append(
            CardTransaction(
                id=self.new_gid(f"Gift{kind.value.title()}Transaction"),
                kind=kind,
                amount=amount,
                processed_at=self.clock.now(),
            )
        )
        entry.card = replace(entry.card, balance=after)

    def _call(self, operation: str, apply: Callable[[], T]) -> T:
        return self.injector.call(f"shopify.{operation}", apply)

    # --- cards --------------------------------------------------------------------------
    def get_card(self, card_id: str) -> ShopifyCard | None:
        return self._call(
            "get_card", lambda: self.cards[card_id].card if card_id in self.cards else None
        )

    def find_cards_by_code(self, code: Code) -> list[ShopifyCard]:
        return self._call(
            "find_cards_by_code",
            lambda: [c.card for c in self.cards.values() if c.code == code.reveal()],
        )

    def create_card(
        self, code: Code, initial_value: Money, note: str, expires_on: date | None
    ) -> ShopifyCard:
        def create() -> ShopifyCard:
            if any(c.code == code.reveal() for c in self.cards.values()):
                raise CodeTaken()
            if not initial_value.is_positive:
                raise Permanent("shopify", "giftCardCreate", "must be > 0", code="GREATER_THAN")
            gid = f"gid://shopify/GiftCard/{next(self._ids)}"
            card = ShopifyCard(
                id=gid,
                last_characters=code.last4.lower(),
                balance=initial_value,
                initial_value=initial_value,
                enabled=True,
                expires_on=expires_on,
                note=note,
                created_at=self.clock.now(),
            )
            self.cards[gid] = _Card(card, code.reveal())
            return card

        return self._call("create_card", create)

    def _move(
        self, card_id: str, amount: Money, note: str, kind: TransactionKind, operation: str
    ) -> TransactionResult:
        entry = self.cards.get(card_id)
        if entry is None:
            raise Permanent("shopify", operation, "no card", code="GIFT_CARD_NOT_FOUND")
        if amount.currency != entry.card.balance.currency:
            raise Permanent("shopify", operation, "currency", code="MISMATCHING_CURRENCY")
        if not amount.is_positive:
            raise Permanent("shopify", operation, "amount", code="NEGATIVE_OR_ZERO_AMOUNT")
        expired = (
            entry.card.expires_on is not None and self.clock.now().date() > entry.card.expires_on
        )
        if not entry.card.enabled or expired:
            raise Permanent("shopify", operation, "card not usable", code="INVALID")
        sign = amount if kind == TransactionKind.CREDIT else -amount
        after = entry.card.balance + sign
        if after.is_negative:
            raise Permanent("shopify", operation, "insufficient", code="INSUFFICIENT_FUNDS")
        txn = CardTransaction(
            id=f"gid://shopify/Gift{kind.value.title()}Transaction/{next(self._ids)}",
            kind=kind,
            amount=amount,
            processed_at=self.clock.now(),
            note=note,
        )
        entry.transactions.append(txn)
        entry.card = replace(entry.card, balance=after)
        return TransactionResult(txn, after)

    def debit(self, card_id: str, amount: Money, note: str) -> TransactionResult:
        return self._call(
            "debit",
            lambda: self._move(card_id, amount, note, TransactionKind.DEBIT, "giftCardDebit"),
        )

    def credit(self, card_id: str, amount: Money, note: str) -> TransactionResult:
        return self._call(
            "credit",
            lambda: self._move(card_id, amount, note, TransactionKind.CREDIT, "giftCardCredit"),
        )

    def find_transaction_by_note(
        self, card_id: str, note: str, since: datetime | None = None
    ) -> CardTransaction | None:
        def read() -> CardTransaction | None:
            for txn in reversed(self.cards[card_id].transactions):
                if since is not None and txn.processed_at < since:
                    return None
                if txn.note == note:
                    return txn
            return None

        return self._call("find_transaction_by_note", read)

    def transactions(self, card_id: str, limit: int = 50) -> list[CardTransaction]:
        return self._call(
            "transactions",
            lambda: list(reversed(self.cards[card_id].transactions))[:limit],
        )

    def set_expiry(self, card_id: str, expires_on: date | None) -> ShopifyCard:
        def update() -> ShopifyCard:
            entry = self.cards[card_id]
            entry.card = replace(entry.card, expires_on=expires_on)
            return entry.card

        return self._call("set_expiry", update)

    # --- orders -------------------------------------------------------------------------
    def search_orders(
        self,
        *,
        created_since: datetime | None = None,
        updated_since: datetime | None = None,
        without_tag: str | None = None,
        paid_by_gift_card: bool = False,
        financial_status: str | None = None,
        after: str | None = None,
        page_size: int = 10,
    ) -> OrderPage:
        def search() -> OrderPage:
            hits = [
                o
                for o in sorted(self.orders.values(), key=lambda o: o.created_at)
                if (created_since is None or o.created_at >= created_since)
                and (updated_since is None or (o.updated_at or o.created_at) >= updated_since)
                and (without_tag is None or without_tag not in o.tags)
                and (financial_status is None or o.financial_status == financial_status)
                and (not paid_by_gift_card or any(t.gateway == "gift_card" for t in o.transactions))
            ]
            start = int(after) if after else 0
            page = hits[start : start + page_size]
            more = start + page_size < len(hits)
            return OrderPage(tuple(page), str(start + page_size) if more else None, more)

        return self._call("search_orders", search)

    def get_order(self, order_id: str) -> ShopifyOrder | None:
        return self._call("get_order", lambda: self.orders.get(order_id))

    def cards_for_order(self, order_id: str) -> list[ShopifyCard]:
        return self._call(
            "cards_for_order",
            lambda: [self.cards[g].card for g in self.order_cards.get(order_id, [])],
        )

    def add_tags(self, order_id: str, tags: Sequence[str]) -> None:
        def tag() -> None:
            order = self.orders[order_id]
            self.orders[order_id] = replace(order, tags=order.tags | set(tags))

        self._call("add_tags", tag)

    def access_scopes(self) -> set[str]:
        return self._call("access_scopes", lambda: set(self.scopes))
