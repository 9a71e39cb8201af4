"""The Shopify fake's orders: checkout as a test stages it (none of it goes through the
injector) and the order calls of ShopifyPort."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from cards.money import Money
from clients.records import (
    CardTransaction,
    LineItem,
    OrderPage,
    OrderTransaction,
    ShopifyCard,
    ShopifyOrder,
    TransactionKind,
)
from tests.fakes.shopify_store import ShopifyStore, StoredCard


class ShopifyOrderBook(ShopifyStore):
    """Orders as checkout, payments and refunds leave them, and the order calls of the port."""

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
        self, entry: StoredCard, amount: Money, kind: TransactionKind, after: Money
    ) -> None:
        entry.transactions.append(
            CardTransaction(
                id=self.new_gid(f"Gift{kind.value.title()}Transaction"),
                kind=kind,
                amount=amount,
                processed_at=self.clock.now(),
            )
        )
        entry.changed(replace(entry.card, balance=after), self.clock.now())

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
