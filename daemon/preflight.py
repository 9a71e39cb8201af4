"""The start checks, before READY=1 and in ``giftbridge check``: the base layout and the Shopify
token's scopes, over built adapters. One line per problem, naming what to fix."""

from __future__ import annotations

from typing import Protocol

from clients.errors import ClientError, GiftbridgeError
from clients.ports import ShopifyPort

# Shopify access scopes the prongs use (reference: shopify-admin-api.md section 8).
SHOPIFY_SCOPES = (
    "read_gift_cards",
    "write_gift_cards",
    "read_gift_card_transactions",
    "write_gift_card_transactions",
    "read_orders",
    "write_orders",
)


class PreflightFailed(GiftbridgeError):
    """The start checks found problems; ``problems`` names each."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("; ".join(problems))


class BaseAdminPort(Protocol):
    """What ``check`` and ``base init`` need from the Metadata API adapter."""

    def check(self) -> list[str]:
        """One line per missing or mistyped table, field or select option."""
        ...

    def init(self) -> object:
        """Create missing tables and fields; the result's ``str()`` is shown to the operator."""
        ...


def start_problems(base_admin: BaseAdminPort | None, shopify: ShopifyPort | None) -> list[str]:
    """Reads the base's schema and the token's scopes (``shopify`` None: the caller checks
    Shopify itself, see ``daemon/check.py``); one line per problem."""
    problems: list[str] = []
    if base_admin is None:
        problems.append("airtable: no Metadata API adapter to check the base layout")
    else:
        try:
            problems += [f"airtable base: {p}" for p in base_admin.check()]
        except ClientError as exc:
            problems.append(f"airtable: cannot read the base schema ({exc})")
    if shopify is None:
        return problems
    try:
        granted = shopify.access_scopes()
    except ClientError as exc:
        problems.append(f"shopify: cannot read the token's access scopes ({exc})")
    else:
        problems += [
            f"shopify: the access token lacks the scope {scope}"
            for scope in SHOPIFY_SCOPES
            if scope not in granted and scope.replace("read_", "write_", 1) not in granted
        ]
    return problems
