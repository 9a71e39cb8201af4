"""GraphQL views of gift cards (orders: ``order_views.py``), read by ``resolvers.resolve_field``.

A field ``fooBar`` resolves to the view's attribute ``foo_bar`` (a property, or a method called
with the field's arguments as snake_case keywords). Money goes out as ``{"amount", "currencyCode"}``
with Shopify's decimal style, times as ``YYYY-MM-DDTHH:MM:SSZ``. Debit transactions report a
**negative** amount (``"-12.5"``); credits a positive one. What views share (the context,
scopes, money, customers) is in ``view_context.py``.
"""

from __future__ import annotations

from typing import Any

from sandbox.shopify.giftcards import masked
from sandbox.shopify.order_views import OrderView
from sandbox.shopify.pagination import connection
from sandbox.shopify.schema import format_datetime
from sandbox.shopify.state import CardTransaction, GiftCard, gid
from sandbox.shopify.view_context import (
    Context,
    CustomerView,
    customer_view,
    money,
    optional_time,
    require_scope,
)


class GiftCardView:
    typename = "GiftCard"

    def __init__(self, ctx: Context, card: GiftCard) -> None:
        self.ctx, self.card = ctx, card
        self.id = gid("GiftCard", card.number)
        self.balance = money(card.balance, card.currency)
        self.initial_value = money(card.initial_value, card.currency)
        self.created_at = format_datetime(card.created_at)
        self.updated_at = format_datetime(card.updated_at)
        self.deactivated_at = optional_time(card.deactivated_at)
        self.disabled_at = self.deactivated_at
        self.enabled = card.enabled
        self.expires_on = card.expires_on.isoformat() if card.expires_on else None
        self.last_characters = card.code[-4:]
        self.masked_code = masked(card.code)
        self.note = card.note
        self.notify = card.notify
        self.template_suffix = card.template_suffix
        self.recipient_attributes = None

    @property
    def customer(self) -> CustomerView | None:
        return customer_view(self.ctx, self.card.customer_number)

    @property
    def order(self) -> OrderView | None:
        order = self.ctx.state.orders.get(self.card.order_number or 0)
        return OrderView(self.ctx, order) if order is not None else None

    def transactions(self, info: Any, first: int | None = None, after: str | None = None,
                     last: int | None = None, before: str | None = None,
                     reverse: bool = False) -> dict[str, Any]:
        require_scope(self.ctx, "read_gift_card_transactions", "transactions")
        # oldest first by creation (id); reverse: true gives newest first
        return connection(self.ctx.state.transactions_of(self.card.number),
                          lambda t: (t.number,), lambda t: TransactionView(self.ctx, t),
                          first=first, after=after, last=last, before=before, reverse=reverse)


class TransactionView:
    def __init__(self, ctx: Context, txn: CardTransaction) -> None:
        self.ctx, self.txn = ctx, txn
        self.typename = ("GiftCardCreditTransaction" if txn.kind == "credit"
                         else "GiftCardDebitTransaction")
        self.id = gid(self.typename, txn.number)
        card = ctx.state.cards[txn.card_number]
        self.amount = money(txn.amount if txn.kind == "credit" else -txn.amount, card.currency)
        self.note = txn.note
        self.processed_at = format_datetime(txn.processed_at)
        self.metafield = None
        self.metafields_by_identifiers: list[Any] = []

    @property
    def gift_card(self) -> GiftCardView:
        return GiftCardView(self.ctx, self.ctx.state.cards[self.txn.card_number])
