"""``make_klaviyo_app``: ``POST /api/events`` as Klaviyo answers it, ``GET /api/events``
(``reads.py``: what ``giftbridge check`` reads to prove a key), plus ``/_sandbox/`` hooks.

Checks run in this order: API key (401), ``revision`` header (400), rate limit (429), armed
fault, content type (415), size (413), JSON (400), schema and prose rules (400); then the event
is kept (or dropped as a duplicate, which the client cannot tell) and the answer is a 202 with
an empty body.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import re
from datetime import date
from typing import Any

from aiohttp import web

from sandbox.faults import FaultKind
from sandbox.httpkit import OPERATION_KEY, add_admin_routes, drop_connection, logging_middleware
from sandbox.klaviyo.reads import events_page
from sandbox.klaviyo.service import KlaviyoSandbox
from sandbox.klaviyo.validation import KlaviyoError, validate_event

KLAVIYO_KEY = web.AppKey("klaviyo_sandbox", KlaviyoSandbox)
MAX_BODY_BYTES = 5 * 1024 * 1024
_REVISION = re.compile(r"(\d{4}-\d{2}-\d{2})(\.[A-Za-z0-9_-]+)?")
_JSON_TYPES = frozenset({"application/json", "application/vnd.api+json"})


def _authenticate(request: web.Request, sandbox: KlaviyoSandbox) -> None:
    header = request.headers.get("Authorization")
    if not header:
        raise KlaviyoError.single(401, "not_authenticated", "Authentication credentials were "
                                  "not provided.", "Missing the Authorization header.")
    scheme, _, key = header.partition(" ")
    if scheme != "Klaviyo-API-Key" or not hmac.compare_digest(
        key.encode(), sandbox.api_key.encode()
    ):
        raise KlaviyoError.single(401, "not_authenticated", "Incorrect authentication "
                                  "credentials.", "The private API key is not valid.")


def _check_revision(request: web.Request) -> None:
    revision = request.headers.get("revision", "")
    match = _REVISION.fullmatch(revision)
    try:
        valid = match is not None and date.fromisoformat(match[1]) is not None
    except ValueError:
        valid = False
    if not valid:
        raise KlaviyoError.single(
            400, "invalid", "Invalid input.",
            "A valid revision header (YYYY-MM-DD, optionally .suffix) is required.",
            header="revision",
        )


def _throttled(retry_after: int) -> web.Response:
    error = KlaviyoError.single(
        429, "throttled", "Request was throttled.",
        f"Request was throttled. Expected available in {retry_after} second"
        f"{'' if retry_after == 1 else 's'}.",
    )
    response = error.response()
    response.headers["Retry-After"] = str(retry_after)
    return response


async def _read_body(request: web.Request) -> Any:
    if request.content_type not in _JSON_TYPES:
        raise KlaviyoError.single(415, "unsupported_media_type", "Unsupported media type.",
                                  f"Unsupported content type {request.content_type!r}.")
    raw = await request.read()
    if len(raw) > MAX_BODY_BYTES:
        raise KlaviyoError.single(413, "request_too_large", "Request too large.",
                                  "The payload must not exceed 5 MB.")
    try:
        return json.loads(raw)
    except ValueError:
        raise KlaviyoError.single(400, "parse_error", "Malformed request.",
                                  "The request body is not valid JSON.") from None


async def create_event(request: web.Request) -> web.Response:
    sandbox = request.app[KLAVIYO_KEY]
    request[OPERATION_KEY] = "klaviyo.create_event"
    _authenticate(request, sandbox)
    _check_revision(request)
    decision = sandbox.limiter.check()
    if not decision.allowed:
        return _throttled(decision.retry_after)
    headers = decision.headers or {}
    rule = sandbox.faults.take("klaviyo.create_event")
    if rule is not None and rule.kind is FaultKind.FAIL_BEFORE:
        raise KlaviyoError.single(502, "server_error", "Bad gateway.",
                                  "Injected by the sandbox: nothing was recorded.")
    if rule is not None and rule.kind is FaultKind.THROTTLE:
        return _throttled(1)
    if rule is not None and rule.kind is FaultKind.DELAY:
        await asyncio.sleep(rule.seconds)
    try:
        body = await _read_body(request)
        validate_event(body)
    except KlaviyoError as exc:
        return exc.response(headers)
    sandbox.record(body)
    if rule is not None and rule.kind is FaultKind.DROP_AFTER:
        return drop_connection(request)
    return web.Response(status=202, headers=headers)


async def get_events(request: web.Request) -> web.Response:
    sandbox = request.app[KLAVIYO_KEY]
    request[OPERATION_KEY] = "klaviyo.get_events"
    _authenticate(request, sandbox)
    _check_revision(request)
    decision = sandbox.limiter.check()
    if not decision.allowed:
        return _throttled(decision.retry_after)
    rule = sandbox.faults.take("klaviyo.get_events")
    if rule is not None and rule.kind is FaultKind.FAIL_BEFORE:
        raise KlaviyoError.single(502, "server_error", "Bad gateway.", "Injected by the sandbox.")
    return events_page(sandbox, request)


@web.middleware
async def _errors(request: web.Request, handler: Any) -> web.StreamResponse:
    try:
        response: web.StreamResponse = await handler(request)
        return response
    except KlaviyoError as exc:
        return exc.response()
    except web.HTTPException as exc:
        if request.path.startswith("/_sandbox/") or exc.status < 400:
            raise
        return KlaviyoError.single(exc.status, "error", exc.reason, exc.reason).response()


def make_klaviyo_app(sandbox: KlaviyoSandbox) -> web.Application:
    app = web.Application(client_max_size=MAX_BODY_BYTES + 1024 * 1024,
                          middlewares=[logging_middleware(sandbox.log), _errors])
    app[KLAVIYO_KEY] = sandbox
    app.router.add_post("/api/events", create_event)
    app.router.add_get("/api/events", get_events)
    app.router.add_get("/api/events/", get_events)
    add_admin_routes(app, faults=sandbox.faults, log=sandbox.log, state=sandbox.state,
                     reset=sandbox.reset)
    return app
