"""Webhook routes (``/v0/bases/{base_id}/webhooks…``, rate limited like every API call) and the
sandbox's own controls: submit a record as a form, list webhooks with their internals, expire
one now.

Admin routes (no auth, not rate limited, not logged; loopback test hooks):

- ``POST /_sandbox/forms/{table}`` with ``{"fields": {...}}``: a form
  submission on the default base (webhook source ``formSubmission``; a real form does not spend
  the API's rate limit either). Answers the record.
- ``GET /_sandbox/webhooks``: every webhook as listed, plus ``baseId`` and ``payloadCount``.
- ``POST /_sandbox/webhooks/{webhook_id}/expire``: the webhook expires now.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from sandbox.airtable.errors import AirtableError, invalid_request
from sandbox.airtable.gate import SANDBOX_KEY, gate, json_body, respond

PREFIX = "/v0/bases/{base_id}/webhooks"


def _no_query(request: web.Request, allowed: frozenset[str] = frozenset()) -> None:
    extra = set(request.query) - allowed
    if extra:
        raise invalid_request(f"unknown parameter(s) {sorted(extra)}")


async def list_webhooks(request: web.Request) -> web.Response:
    g = await gate(request, "airtable.webhooks")
    _no_query(request)
    with g.sandbox.lock:
        data = g.sandbox.webhooks.listing(g.base)
    return respond(request, data)


async def create_webhook(request: web.Request) -> web.Response:
    g = await gate(request, "airtable.webhooks")
    body = await json_body(request)
    with g.sandbox.lock:
        data = g.sandbox.webhooks.create(g.base, body)
    return respond(request, data)


async def delete_webhook(request: web.Request) -> web.Response:
    g = await gate(request, "airtable.webhooks")
    with g.sandbox.lock:
        data = g.sandbox.webhooks.delete(g.base, request.match_info["webhook_id"])
    return respond(request, data)


async def refresh_webhook(request: web.Request) -> web.Response:
    g = await gate(request, "airtable.webhooks")
    with g.sandbox.lock:
        data = g.sandbox.webhooks.refresh(g.base, request.match_info["webhook_id"])
    return respond(request, data)


async def enable_notifications(request: web.Request) -> web.Response:
    g = await gate(request, "airtable.webhooks")
    body = await json_body(request)
    with g.sandbox.lock:
        data = g.sandbox.webhooks.enable_notifications(
            g.base, request.match_info["webhook_id"], body
        )
    return respond(request, data)


async def list_payloads(request: web.Request) -> web.Response:
    g = await gate(request, "airtable.payloads")
    _no_query(request, frozenset({"cursor", "limit"}))
    with g.sandbox.lock:
        data = g.sandbox.webhooks.payloads(
            g.base,
            request.match_info["webhook_id"],
            request.query.get("cursor"),
            request.query.get("limit"),
        )
    return respond(request, data)


# --- sandbox controls ------------------------------------------------------------------------
async def submit_form(request: web.Request) -> web.Response:
    sandbox = request.app[SANDBOX_KEY]
    body: Any = await json_body(request)
    if not isinstance(body, dict) or body.keys() != {"fields"}:
        raise invalid_request('the body must be {"fields": {...}}')
    table = request.match_info["table"]
    try:
        data = sandbox.base().submit_form(table, body["fields"])
    except KeyError:
        raise AirtableError(404, "TABLE_NOT_FOUND", f"Could not find table {table}") from None
    return web.json_response(data)


async def describe_webhooks(request: web.Request) -> web.Response:
    sandbox = request.app[SANDBOX_KEY]
    with sandbox.lock:
        return web.json_response({"webhooks": sandbox.webhooks.describe()})


async def expire_webhook(request: web.Request) -> web.Response:
    sandbox = request.app[SANDBOX_KEY]
    with sandbox.lock:
        try:
            sandbox.webhooks.expire(request.match_info["webhook_id"])
        except KeyError:
            raise web.HTTPNotFound() from None
    return web.json_response({"expired": request.match_info["webhook_id"]})


def add_webhook_routes(app: web.Application) -> None:
    """Before the record routes: ``/v0/bases/…`` must not read as base "bases"."""
    app.router.add_get(PREFIX, list_webhooks)
    app.router.add_post(PREFIX, create_webhook)
    app.router.add_delete(PREFIX + "/{webhook_id}", delete_webhook)
    app.router.add_post(PREFIX + "/{webhook_id}/refresh", refresh_webhook)
    app.router.add_post(PREFIX + "/{webhook_id}/enableNotifications", enable_notifications)
    app.router.add_get(PREFIX + "/{webhook_id}/payloads", list_payloads)
    app.router.add_post("/_sandbox/forms/{table}", submit_form)
    app.router.add_get("/_sandbox/webhooks", describe_webhooks)
    app.router.add_post("/_sandbox/webhooks/{webhook_id}/expire", expire_webhook)
