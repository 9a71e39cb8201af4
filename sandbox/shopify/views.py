"""GraphQL views of gift cards (orders: ``order_views.py``), read by ``resolvers.resolve_field``.

A field ``fooBar`` resolves to the view's attribute ``foo_bar`` (a property, or a method called
with the field's arguments as snake_case keywords). Money goes out as ``{"amount", "currencyCode"}``
with Shopify's decimal style, times as ``YYYY-MM-DDTHH:MM:SSZ``. Debit transactions report a
**negative** amount (``"-12.5"``); credits a positive one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from graphql import GraphQLError

from sandbox.shopify.giftcards import CardRules, masked
from sandbox.shopify.pagination import connection
from sandbox.shopify.schema import format_datetime, format_decimal
from sandbox.shopify.state import CardTransaction, Customer, GiftCard, ShopState, gid


@dataclass
class Context:
    """What every resolver may read; one per request."""

    state: ShopState
    rules: CardRules
    now: datetime
    scopes: frozenset[str]
    shop_name: str
    shop_domain: str
    receipt_as_string: bool = True
    search_warnings: list[dict[str, Any]] = field(default_factory=list)
    changed: bool = False  # set by mutations, so the sandbox knows to persist


def require_scope(ctx: Context, scope: str, field_name: str) -> None:
    """Shopify's ACCESS_DENIED for a field the app's scopes do not cover."""
    # a write scope implies the read scope of the same resource
    if scope in ctx.scopes or scope.replace("read_", "write_", 1) in ctx.scopes:
        return
    raise GraphQLError(
        f"Access denied for {field_name} field. Required access: `{scope}` access scope.",
        extensions={"code": "ACCESS_DENIED",
                    "documentation": "https://shopify.dev/api/usage/access-scopes",
                    "requiredAccess": f"`{scope}` access scope."})


def money(amount: Decimal, currency: str) -> dict[str, str]:
    return {"amount": format_decimal(amount), "currencyCode": currency}


def money_bag(amount: Decimal, currency: str) -> dict[str, dict[str, str]]:
    return {"shopMoney": money(amount, currency), "presentmentMoney": money(amount, currency)}


def _time(value: datetime | None) -> str | None:
    return format_datetime(value) if value is not None else None


class CustomerView:
    typename = "Customer"

    def __init__(self, customer: Customer) -> None:
        self.c = customer
        self.id = gid("Customer", customer.number)
        self.legacy_resource_id = str(customer.number)
        self.email = customer.email
        self.first_name = customer.first_name
        self.last_name = customer.last_name
        self.created_at = self.updated_at = format_datetime(customer.created_at)
        self.tags: list[str] = []

    @property
    def default_email_address(self) -> dict[str, Any] | None:
        if self.c.email is None:
            return None
        return {"emailAddress": self.c.email, "validFormat": True,
                "marketingState": "NOT_SUBSCRIBED", "openTrackingLevel": "UNKNOWN"}

    @property
    def display_name(self) -> str:
        name = " ".join(p for p in (self.c.first_name, self.c.last_name) if p)
        return name or self.c.email or ""


def customer_view(ctx: Context, number: int | None) -> CustomerView | None:
    customer = ctx.state.customers.get(number) if number is not None else None
    return CustomerView(customer) if customer is not None else None


class GiftCardView:
    typename = "GiftCard"

    def __init__(self, ctx: Context, card: GiftCard) -> None:
        self.ctx, self.card = ctx, card
        self.id = gid("GiftCard", card.number)
        self.balance = money(card.balance, card.currency)
        self.initial_value = money(card.initial_value, card.currency)
        self.created_at = format_datetime(card.created_at)
        self.updated_at = format_datetime(card.updated_at)
        self.deactivated_at = _time(card.deactivated_at)
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
    def order(self) -> Any:
        from sandbox.shopify.order_views import OrderView  # order views import this module

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
