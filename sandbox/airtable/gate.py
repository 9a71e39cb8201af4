"""What every Airtable request goes through before its handler runs, in Airtable's order:
token (401), base (403), the base's rate limit (429), table (404), then an armed fault."""

from __future__ import annotations

import asyncio
import hmac
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from sandbox.airtable.errors import AirtableError, rate_limited_body, server_error
from sandbox.airtable.service import AirtableSandbox
from sandbox.airtable.store import Base, Table
from sandbox.faults import FaultKind
from sandbox.httpkit import OPERATION_KEY, TABLE_KEY, drop_connection

SANDBOX_KEY = web.AppKey("airtable_sandbox", AirtableSandbox)
_DROP_KEY = web.RequestKey("airtable_drop_after", bool)


class RateLimited(Exception):
    """Answered with the 429 ``errors[]`` body."""


def rate_limited_response(retry_after: float | None = None) -> web.Response:
    """The 429; with ``retry_after`` (the base's penalty) a ``Retry-After`` header too: Airtable
    sends none, giftbridge honours it only to wait less, and tests with short penalties stay
    quick."""
    headers = {"Retry-After": f"{retry_after:g}"} if retry_after is not None else None
    return web.json_response(rate_limited_body(), status=429, headers=headers)


@dataclass
class Gate:
    sandbox: AirtableSandbox
    base: Base
    table: Table | None
    origin: str  # scheme://host the client used, for attachment URLs

    def need_table(self) -> Table:
        if self.table is None:
            raise AirtableError(404, "NOT_FOUND", bare=True)
        return self.table


def authenticate(request: web.Request, sandbox: AirtableSandbox) -> None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme != "Bearer" or not hmac.compare_digest(token.encode(), sandbox.token.encode()):
        raise AirtableError(401, "AUTHENTICATION_REQUIRED", "Authentication required")


async def gate(
    request: web.Request,
    operation: str,
    resolve: Callable[[Base], Table | None] | None = None,
) -> Gate:
    """Check the request, arm a ``drop_after`` for :func:`respond`, sleep a ``delay``."""
    sandbox = request.app[SANDBOX_KEY]
    request[OPERATION_KEY] = operation
    authenticate(request, sandbox)
    base_id = request.match_info["base_id"]
    # Counted on arrival, before waiting for the store's lock (a long listing may hold it):
    # Airtable counts a request when it comes, whatever else the base is doing.
    if not sandbox.limiter.allow(base_id):
        raise RateLimited()
    with sandbox.lock:
        base = sandbox.find_base(base_id)
        if base is None:
            raise AirtableError(
                403, "INVALID_PERMISSIONS_OR_MODEL_NOT_FOUND",
                "Invalid permissions, or the requested model was not found. Check that both "
                "your user and your token have the required permissions, and that the model "
                "names and/or ids are correct.",
            )
        table = resolve(base) if resolve is not None else None
    if table is not None:
        request[TABLE_KEY] = table.name
    rule = sandbox.faults.take(operation, table.name if table is not None else None)
    if rule is not None:
        if rule.kind is FaultKind.FAIL_BEFORE:
            raise server_error()
        if rule.kind is FaultKind.THROTTLE:
            raise RateLimited()
        if rule.kind is FaultKind.DELAY:
            await asyncio.sleep(rule.seconds)
        if rule.kind is FaultKind.DROP_AFTER:
            request[_DROP_KEY] = True
    return Gate(sandbox, base, table, f"{request.scheme}://{request.host}")


def table_resolver(key: str) -> Callable[[Base], Table]:
    def resolve(base: Base) -> Table:
        table = base.table(key)
        if table is None:
            raise AirtableError(
                404, "TABLE_NOT_FOUND", f"Could not find table {key} in application {base.id}"
            )
        return table
    return resolve


def respond(request: web.Request, data: Any, status: int = 200) -> web.Response:
    """The JSON answer, or no answer at all when a ``drop_after`` fault is armed."""
    if request.get(_DROP_KEY, False):
        return drop_connection(request)
    return web.json_response(data, status=status)


async def json_body(request: web.Request) -> Any:
    if request.content_type != "application/json":
        raise AirtableError(
            415, "INVALID_REQUEST_UNKNOWN", "Send the body as JSON (Content-Type: application/json)"
        )
    try:
        return await request.json()
    except ValueError:
        raise AirtableError(
            400, "INVALID_REQUEST_BODY", "Could not parse the request body as JSON"
        ) from None
