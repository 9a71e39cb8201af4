"""``/_sandbox/`` routes: simulate shop activity and inspect the shop over HTTP (no auth: the
sandbox only listens on loopback).

- as every stand-in (``sandbox/httpkit.py``): ``GET /_sandbox/state`` (cards, their
  transactions, orders), ``POST /_sandbox/reset``, ``GET /_sandbox/requests`` (HTTP log),
  ``GET|POST|DELETE /_sandbox/faults`` (``{"operation", "kind", "times"?, "seconds"?}``)
- ``GET  /_sandbox/operations``: GraphQL requests with operation name, root field, outcome,
  requested/actual cost, duration, fault applied
- ``POST /_sandbox/cards`` ``{"value", "code"?, "source"?, "note"?}``: a card made in the admin
- ``POST /_sandbox/cards/{card}/adjustments`` ``{"amount", "note"?}``: a balance adjustment in
  the admin (negative: a debit), or with no note a POS sale; ``PATCH /_sandbox/cards/{card}``
  ``{"expires_on"?: "YYYY-MM-DD" | null, "enabled"?: false}``; ``DELETE /_sandbox/cards/{card}``:
  the card no longer exists for the app. ``{card}`` is the card number or its code
- ``POST /_sandbox/orders`` an order spec (below); ``POST /_sandbox/orders/{id}/fulfill``
  ``{"line_item_ids"?}`` (answers the cards issued, with their codes)
- ``POST /_sandbox/checkouts`` ``{"codes": [...], "order": spec, "pay_remainder"?}``
- ``POST /_sandbox/orders/{id}/refunds`` ``{"amount"?, "code"?}``: refund to a gift card

An order spec: ``{"line_items": [{"name", "sku", "quantity", "price", "is_gift_card",
"custom_attributes": {k: v}}], "customer": {"email", "first_name", "last_name"},
"financial_status", "tags", "test", "gateway", "source_name"}``. ``{id}`` is the order number or
its GID. Answers carry codes in full: this is the shop's own view, never a log.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import asdict
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from aiohttp import web

from sandbox import httpkit
from sandbox.shopify.checkout import CheckoutError, CustomerSpec, LineItemSpec, OrderSpec
from sandbox.shopify.sandbox import ShopifySandbox
from sandbox.shopify.summaries import (
    card_json,
    card_transaction_json,
    order_json,
    transaction_json,
)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def order_spec(raw: dict[str, Any]) -> OrderSpec:
    items = [LineItemSpec(name=i.get("name", "T-shirt"), sku=i.get("sku"),
                          quantity=int(i.get("quantity", 1)), price=Decimal(str(i["price"])),
                          is_gift_card=bool(i.get("is_gift_card", False)),
                          custom_attributes=i.get("custom_attributes") or {})
             for i in raw.get("line_items") or [{"price": "10.00"}]]
    customer = raw.get("customer")
    created = raw.get("created_at")
    return OrderSpec(line_items=items, customer=CustomerSpec(**customer) if customer else None,
                     financial_status=raw.get("financial_status", "PAID"),
                     tags=list(raw.get("tags") or []), test=bool(raw.get("test", False)),
                     gateway=raw.get("gateway", "shopify_payments"),
                     source_name=raw.get("source_name", "web"),
                     created_at=datetime.fromisoformat(created) if created else None)


def _guarded(handler: Handler) -> Handler:
    async def run(request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request)
        except (CheckoutError, KeyError, ValueError, TypeError) as exc:
            return web.json_response({"error": str(exc)}, status=400)

    return run


def _order_ref(request: web.Request) -> str | int:
    ref = request.match_info["order"]
    return int(ref) if ref.isdigit() else ref


def _card_ref(request: web.Request) -> str | int:
    ref = request.match_info["card"]
    return int(ref) if ref.isdigit() else ref


def add_admin_routes(app: web.Application, shop: ShopifySandbox) -> None:
    httpkit.add_admin_routes(app, faults=shop.faults, log=shop.log, state=shop.state,
                             reset=shop.reset)

    async def operations(_: web.Request) -> web.StreamResponse:
        with shop.lock:
            records = [{**asdict(r), "at": r.at.isoformat()} for r in shop.operations]
        return web.json_response({"operations": records})

    app.router.add_get("/_sandbox/operations", operations)
    _add_simulation_routes(app, shop)


def _add_simulation_routes(app: web.Application, shop: ShopifySandbox) -> None:
    async def issue(request: web.Request) -> web.StreamResponse:
        raw = await request.json()
        card = shop.issue_card(str(raw["value"]), raw.get("code"),
                               source=raw.get("source", "manual"), note=raw.get("note"))
        return web.json_response(card_json(card), status=201)

    async def create(request: web.Request) -> web.StreamResponse:
        return web.json_response(order_json(shop.create_order(order_spec(await request.json()))),
                                 status=201)

    async def fulfill(request: web.Request) -> web.StreamResponse:
        raw = await request.json() if request.can_read_body else {}
        issued = shop.fulfill_order(_order_ref(request), raw.get("line_item_ids"))
        return web.json_response({"issued": [card_json(c) for c in issued]})

    async def checkout(request: web.Request) -> web.StreamResponse:
        raw = await request.json()
        order = shop.checkout_with_gift_cards(raw["codes"], order_spec(raw.get("order") or {}),
                                              pay_remainder=raw.get("pay_remainder", True))
        return web.json_response(order_json(order), status=201)

    async def refund(request: web.Request) -> web.StreamResponse:
        raw = await request.json() if request.can_read_body else {}
        txn = shop.refund_to_gift_card(_order_ref(request), raw.get("amount"), raw.get("code"))
        return web.json_response(transaction_json(txn), status=201)

    async def adjust(request: web.Request) -> web.StreamResponse:
        raw = await request.json()
        txn = shop.adjust_card(_card_ref(request), str(raw["amount"]), raw.get("note"))
        return web.json_response(card_transaction_json(txn), status=201)

    async def change(request: web.Request) -> web.StreamResponse:
        raw = await request.json()
        ref = _card_ref(request)
        if "expires_on" in raw:
            expires = raw["expires_on"]
            shop.set_card_expiry(ref, date.fromisoformat(expires) if expires else None)
        if raw.get("enabled") is False:
            shop.deactivate_card(ref)
        return web.json_response(card_json(shop.card(ref)))

    async def remove(request: web.Request) -> web.StreamResponse:
        shop.remove_card(_card_ref(request))
        return web.json_response({}, status=200)

    router = app.router
    router.add_post("/_sandbox/cards/{card}/adjustments", _guarded(adjust))
    router.add_patch("/_sandbox/cards/{card}", _guarded(change))
    router.add_delete("/_sandbox/cards/{card}", _guarded(remove))
    router.add_post("/_sandbox/cards", _guarded(issue))
    router.add_post("/_sandbox/orders", _guarded(create))
    router.add_post("/_sandbox/orders/{order}/fulfill", _guarded(fulfill))
    router.add_post("/_sandbox/orders/{order}/refunds", _guarded(refund))
    router.add_post("/_sandbox/checkouts", _guarded(checkout))
