"""A local stand-in for Shopify's Admin GraphQL API (gift cards, orders, tags, rate limits).

Start it with ``ServiceThread(lambda: make_shopify_app(shop))`` (``sandbox/server.py``) and point
giftbridge's ``GIFTBRIDGE_SHOPIFY_GRAPHQL_URL`` at ``<url>/admin/api/2025-10/graphql.json``.
Behaviour and the choices made where Shopify's documentation is silent: ``README.md`` here.
"""

from __future__ import annotations

from sandbox.shopify.app import make_shopify_app
from sandbox.shopify.checkout import CheckoutError, CustomerSpec, LineItemSpec, OrderSpec
from sandbox.shopify.sandbox import DEFAULT_SCOPES, OperationRecord, ShopifySandbox
from sandbox.shopify.schema import admin_schema

__all__ = [
    "DEFAULT_SCOPES",
    "CheckoutError",
    "CustomerSpec",
    "LineItemSpec",
    "OperationRecord",
    "OrderSpec",
    "ShopifySandbox",
    "admin_schema",
    "make_shopify_app",
]
