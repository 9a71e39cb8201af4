"""``make_airtable_app``: the aiohttp application serving one :class:`AirtableSandbox`.

The same app answers the REST API (``/v0/...``), the content host's upload route (so
``AIRTABLE_CONTENT_URL`` can point at it), attachment downloads and the ``/_sandbox/`` hooks.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from aiohttp import web

from sandbox.airtable.errors import AirtableError, not_found_route
from sandbox.airtable.gate import SANDBOX_KEY, RateLimited, rate_limited_response
from sandbox.airtable.routes_meta import add_meta_routes
from sandbox.airtable.routes_records import add_record_routes
from sandbox.airtable.routes_webhooks import add_webhook_routes
from sandbox.airtable.service import AirtableSandbox
from sandbox.httpkit import add_admin_routes, logging_middleware

#: Uploads are at most 5 MB, i.e. about 6.7 MB of base64 plus the JSON around it.
CLIENT_MAX_SIZE = 8 * 1024 * 1024
#: Airtable takes URLs of up to 16,000 characters (aiohttp's default request line is 8 KB).
MAX_URL_LENGTH = 16_000
SNAPSHOT_INTERVAL_SECONDS = 1.0


@web.middleware
async def _errors(request: web.Request, handler: object) -> web.StreamResponse:
    try:
        if len(request.raw_path) > MAX_URL_LENGTH:
            raise AirtableError(414, "INVALID_REQUEST_UNKNOWN", "The URL is too long; use POST")
        response: web.StreamResponse = await handler(request)  # type: ignore[operator]
        return response
    except AirtableError as exc:
        return exc.response()
    except RateLimited:
        return rate_limited_response(request.app[SANDBOX_KEY].limiter.penalty_seconds)
    except web.HTTPNotFound:
        if request.path.startswith("/_sandbox/"):
            raise
        return not_found_route().response()
    except web.HTTPMethodNotAllowed:
        if request.path.startswith("/_sandbox/"):
            raise
        return not_found_route().response()


async def _rate_limit(request: web.Request) -> web.Response:
    """``GET /_sandbox/rate-limit``: the 429s the base's limit answered, and its penalties."""
    return web.json_response({"bases": request.app[SANDBOX_KEY].limiter.counts()})


async def _attachment(request: web.Request) -> web.Response:
    sandbox = request.app[SANDBOX_KEY]
    with sandbox.lock:
        base = sandbox.find_base(request.match_info["base_id"])
        found = base.attachments.get(request.match_info["attachment_id"]) if base else None
    if found is None:
        raise web.HTTPNotFound()
    return web.Response(body=found.content, content_type=found.type)


async def _snapshots(app: web.Application) -> AsyncIterator[None]:
    """Save the state at most once a second while running, and once more on shutdown."""
    sandbox = app[SANDBOX_KEY]
    if sandbox.snapshot_path is None:
        yield
        return

    async def loop() -> None:
        while True:
            await asyncio.sleep(SNAPSHOT_INTERVAL_SECONDS)
            await asyncio.to_thread(sandbox.save_snapshot)

    task = asyncio.create_task(loop())
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    sandbox.save_snapshot()


async def _stop_pings(app: web.Application) -> None:
    await asyncio.to_thread(app[SANDBOX_KEY].webhooks.close)


def make_airtable_app(sandbox: AirtableSandbox) -> web.Application:
    app = web.Application(
        client_max_size=CLIENT_MAX_SIZE,
        handler_args={"max_line_size": MAX_URL_LENGTH + 1024},
        middlewares=[logging_middleware(sandbox.log), _errors],
    )
    app[SANDBOX_KEY] = sandbox
    add_meta_routes(app)  # before the record routes: "/v0/meta/..." must not read as a base id
    add_webhook_routes(app)  # the same for "/v0/bases/..."
    add_record_routes(app)
    app.router.add_get(
        "/_sandbox/attachments/{base_id}/{attachment_id}/{filename}", _attachment
    )
    app.router.add_get("/_sandbox/rate-limit", _rate_limit)
    add_admin_routes(app, faults=sandbox.faults, log=sandbox.log, state=sandbox.state,
                     reset=sandbox.reset)
    app.cleanup_ctx.append(_snapshots)
    app.on_cleanup.append(_stop_pings)
    return app
