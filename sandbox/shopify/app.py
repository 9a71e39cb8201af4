"""The HTTP face of the Shopify sandbox: ``POST /admin/api/{version}/graphql.json`` and the
client credentials grant, ``POST /admin/oauth/access_token`` (``oauth.py``).

Authentication is the ``X-Shopify-Access-Token`` header: the static token, or a live token from
the grant (401 with Shopify's JSON body otherwise, also for an expired one).
Fault rules (``sandbox/faults.py``) are looked up as ``shopify.<first root field>`` of the
operation, e.g. ``shopify.giftCardDebit``:
- ``fail_before``: HTTP 502 (an HTML gateway page), nothing executed;
- ``drop_after``: executed, then the connection is closed without an answer;
- ``delay``: sleep ``seconds``, then answer normally;
- ``throttle``: the THROTTLED answer (HTTP 200), nothing executed.
The ``/_sandbox/`` admin routes are in ``admin.py``.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from aiohttp import web

from sandbox.faults import FaultKind
from sandbox.httpkit import OPERATION_KEY, drop_connection, logging_middleware
from sandbox.shopify import executor
from sandbox.shopify.admin import add_admin_routes
from sandbox.shopify.sandbox import ShopifySandbox

SANDBOX_KEY: web.AppKey[ShopifySandbox] = web.AppKey("shopify_sandbox", ShopifySandbox)
INVALID_TOKEN = "[API] Invalid API key or access token (unrecognized login or wrong password)"
BAD_GATEWAY = "<html><body><h1>502 Bad Gateway</h1></body></html>"


def make_shopify_app(shop: ShopifySandbox) -> web.Application:
    app = web.Application(middlewares=[logging_middleware(shop.log)])
    app[SANDBOX_KEY] = shop
    app.router.add_post("/admin/api/{version}/graphql.json", _graphql)
    app.router.add_post("/admin/oauth/access_token", _access_token)
    add_admin_routes(app, shop)
    return app


def _bad_request() -> web.Response:
    return web.json_response({"errors": {"query": "Required parameter missing or invalid"}},
                             status=400)


async def _read_body(request: web.Request) -> dict[str, Any] | None:
    try:
        body = await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None
    if not isinstance(body, dict) or not isinstance(body.get("query"), str):
        return None
    variables, name = body.get("variables"), body.get("operationName")
    if (variables is not None and not isinstance(variables, dict)) or (
            name is not None and not isinstance(name, str)):
        return None
    return body


async def _graphql(request: web.Request) -> web.StreamResponse:
    shop = request.app[SANDBOX_KEY]
    started = time.perf_counter()
    if not shop.authorized(request.headers.get("X-Shopify-Access-Token")):
        shop.record(None, None, "unauthorized", 0, None, started)
        return web.json_response({"errors": INVALID_TOKEN}, status=401)
    body = await _read_body(request)
    if body is None:
        return _bad_request()
    query, variables, name = body["query"], body.get("variables"), body.get("operationName")
    request[OPERATION_KEY] = "graphql"
    prepared = executor.prepare(query, name)
    root_field = prepared.root_field
    if root_field:
        request[OPERATION_KEY] = f"shopify.{root_field}"
    rule = shop.faults.take(f"shopify.{root_field}") if root_field else None
    kind = rule.kind.value if rule is not None else None
    if rule is not None and rule.kind == FaultKind.DELAY:
        await asyncio.sleep(rule.seconds)
    elif rule is not None and rule.kind == FaultKind.FAIL_BEFORE:
        shop.record(prepared, name, "fault", 0, None, started, kind)
        return web.Response(status=502, text=BAD_GATEWAY, content_type="text/html")
    elif rule is not None and rule.kind == FaultKind.THROTTLE:
        shop.record(prepared, name, "throttled", 0, None, started, kind)
        return web.json_response(shop.throttled(query, variables, name))
    answer = shop.graphql(query, variables, name, fault=kind)
    if rule is not None and rule.kind == FaultKind.DROP_AFTER:
        return drop_connection(request)
    return web.json_response(answer)


async def _access_token(request: web.Request) -> web.StreamResponse:
    shop = request.app[SANDBOX_KEY]
    request[OPERATION_KEY] = "shopify.access_token"
    rule = shop.faults.take("shopify.access_token")
    if rule is not None and rule.kind == FaultKind.DELAY:
        await asyncio.sleep(rule.seconds)
    elif rule is not None and rule.kind == FaultKind.FAIL_BEFORE:
        return web.Response(status=502, text=BAD_GATEWAY, content_type="text/html")
    elif rule is not None and rule.kind == FaultKind.THROTTLE:
        return web.json_response({"errors": "Exceeded 2 calls per second for api client."},
                                 status=429, headers={"Retry-After": "1"})
    status, answer = shop.tokens.grant(await _token_form(request))
    if rule is not None and rule.kind == FaultKind.DROP_AFTER:
        return drop_connection(request)
    return web.json_response(answer, status=status)


async def _token_form(request: web.Request) -> dict[str, Any]:
    """The grant's fields from a form body (giftbridge, RFC 6749) or a JSON one (Shopify's Node
    library)."""
    if request.content_type == "application/json":
        try:
            body = await request.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            return {}
        return body if isinstance(body, dict) else {}
    return {k: v for k, v in (await request.post()).items() if isinstance(v, str)}
