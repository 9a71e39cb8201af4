"""Metadata routes: whoami, list bases, read the schema, create tables and fields."""

from __future__ import annotations

from aiohttp import web

from sandbox.airtable.errors import invalid_request
from sandbox.airtable.gate import (
    SANDBOX_KEY,
    authenticate,
    gate,
    json_body,
    respond,
    table_resolver,
)
from sandbox.airtable.metadata import create_field, create_table, render_field, render_table
from sandbox.airtable.service import DEFAULT_USER_ID

_INCLUDE_KEYS = ("include", "include[]")


async def whoami(request: web.Request) -> web.Response:
    sandbox = request.app[SANDBOX_KEY]
    authenticate(request, sandbox)
    return web.json_response({"id": DEFAULT_USER_ID, "scopes": sandbox.scopes})


async def list_bases(request: web.Request) -> web.Response:
    sandbox = request.app[SANDBOX_KEY]
    authenticate(request, sandbox)
    with sandbox.lock:
        bases = [{"id": b.id, "name": b.name, "permissionLevel": "create"}
                 for b in sandbox.bases()]
    return web.json_response({"bases": bases})


async def get_tables(request: web.Request) -> web.Response:
    g = await gate(request, "airtable.meta")
    extra = set(request.query) - set(_INCLUDE_KEYS)
    include = [v for key in _INCLUDE_KEYS for v in request.query.getall(key, [])]
    if extra or not set(include) <= {"visibleFieldIds"}:
        raise invalid_request("the only parameter is include[]=visibleFieldIds")
    with g.sandbox.lock:
        tables = [render_table(t, visible_field_ids=bool(include)) for t in g.base.tables]
    return respond(request, {"tables": tables})


async def post_table(request: web.Request) -> web.Response:
    g = await gate(request, "airtable.meta")
    body = await json_body(request)
    with g.sandbox.lock:
        table = create_table(g.base, body)
        g.sandbox.dirty = True
        data = render_table(table)
    return respond(request, data)


async def post_field(request: web.Request) -> web.Response:
    # The docs name a table id; pyairtable sends the name until it knows the id: take both.
    g = await gate(request, "airtable.meta", table_resolver(request.match_info["table"]))
    body = await json_body(request)
    with g.sandbox.lock:
        created = create_field(g.base, g.need_table(), body)
        g.sandbox.dirty = True
        data = render_field(created)
    return respond(request, data)


def add_meta_routes(app: web.Application) -> None:
    app.router.add_get("/v0/meta/whoami", whoami)
    app.router.add_get("/v0/meta/bases", list_bases)
    app.router.add_get("/v0/meta/bases/{base_id}/tables", get_tables)
    app.router.add_post("/v0/meta/bases/{base_id}/tables", post_table)
    app.router.add_post("/v0/meta/bases/{base_id}/tables/{table}/fields", post_field)
