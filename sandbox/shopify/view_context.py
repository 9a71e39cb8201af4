"""What every GraphQL view shares: the request's context, scopes, money and customers.

``views.py`` (gift cards) and ``order_views.py`` (orders) both build on this module, so neither
imports the other's helpers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from graphql import GraphQLError

from sandbox.shopify.giftcards import CardRules
from sandbox.shopify.schema import format_datetime, format_decimal
from sandbox.shopify.state import Customer, ShopState, gid


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
    timezone: str = "Etc/UTC"  # shop.ianaTimezone
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


def optional_time(value: datetime | None) -> str | None:
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
