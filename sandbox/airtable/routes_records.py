"""Record routes: list, get, create, update, upsert, delete, upload an attachment."""

from __future__ import annotations

import asyncio
import base64
import binascii
from typing import Any

from aiohttp import web

from sandbox.airtable.errors import (
    AirtableError,
    invalid_request,
    invalid_value,
    not_found_route,
    record_not_found,
    unknown_field,
)
from sandbox.airtable.gate import Gate, gate, json_body, respond, table_resolver
from sandbox.airtable.listing import ListQuery, list_records, query_from_body, query_from_params
from sandbox.airtable.records import Writer, check_record_owner, delete_records, write_cells
from sandbox.airtable.render import render_cell, render_record
from sandbox.airtable.store import Attachment, Base, Table, is_id, iso_millis, new_id, utc_now

MAX_UPLOAD_BYTES = 5 * 1024 * 1024
#: Every write through the REST API is, to a webhook, a change from the public API.
PUBLIC_API = "publicApi"
_GET_ONE_PARAMS = frozenset({"returnFieldsByFieldId", "cellFormat", "timeZone", "userLocale"})


def _table(request: web.Request) -> str:
    return request.match_info["table"]


def _listing(g: Gate, query: ListQuery) -> dict[str, Any]:
    with g.sandbox.lock:
        return list_records(
            g.base, g.need_table(), query, g.sandbox.iterators, g.origin, utc_now()
        )


async def list_get(request: web.Request) -> web.Response:
    g = await gate(request, "airtable.list", table_resolver(_table(request)))
    query = query_from_params(request.query)
    # In a worker thread: a formula over a big table must not stall the event loop, or other
    # clients' requests would be counted by the rate limiter late and all at once.
    return respond(request, await asyncio.to_thread(_listing, g, query))


async def list_post(request: web.Request) -> web.Response:
    g = await gate(request, "airtable.list", table_resolver(_table(request)))
    query = query_from_body(await json_body(request))
    return respond(request, await asyncio.to_thread(_listing, g, query))


async def get_one(request: web.Request) -> web.Response:
    record_id = request.match_info["record_id"]
    g = await gate(request, "airtable.get", table_resolver(_table(request)))
    if not is_id(record_id, "rec"):
        raise not_found_route()
    extra = set(request.query) - _GET_ONE_PARAMS
    if extra:
        raise invalid_request(f"unknown parameter(s) {sorted(extra)}")
    by_id = request.query.get("returnFieldsByFieldId", "0") in ("1", "true")
    with g.sandbox.lock:
        table = g.need_table()
        record = check_record_owner(table, record_id)
        data = render_record(g.origin, g.base, table, record, by_field_id=by_id)
    return respond(request, data)


async def create(request: web.Request) -> web.Response:
    g = await gate(request, "airtable.create", table_resolver(_table(request)))
    body = await json_body(request)
    with g.sandbox.lock, g.sandbox.webhooks.transaction(g.base, PUBLIC_API):
        data = Writer(g.base, g.need_table(), body, g.origin, utc_now()).create()
        g.sandbox.dirty = True
    return respond(request, data)


async def update_many(request: web.Request) -> web.Response:
    body = await _peek_body(request)
    upsert = isinstance(body, dict) and "performUpsert" in body
    operation = "airtable.upsert" if upsert else "airtable.update"
    g = await gate(request, operation, table_resolver(_table(request)))
    with g.sandbox.lock, g.sandbox.webhooks.transaction(g.base, PUBLIC_API):
        writer = Writer(g.base, g.need_table(), body, g.origin, utc_now())
        data = writer.update_many(replace=request.method == "PUT")
        g.sandbox.dirty = True
    return respond(request, data)


async def _peek_body(request: web.Request) -> Any:
    """The body, read before the gate only to name the operation (update or upsert)."""
    try:
        return await json_body(request)
    except AirtableError:
        await gate(request, "airtable.update", table_resolver(_table(request)))
        raise


async def update_one(request: web.Request) -> web.Response:
    record_id = request.match_info["record_id"]
    g = await gate(request, "airtable.update", table_resolver(_table(request)))
    if not is_id(record_id, "rec"):
        raise not_found_route()
    body = await json_body(request)
    with g.sandbox.lock, g.sandbox.webhooks.transaction(g.base, PUBLIC_API):
        writer = Writer(g.base, g.need_table(), body, g.origin, utc_now())
        data = writer.update_one(record_id, replace=request.method == "PUT")
        g.sandbox.dirty = True
    return respond(request, data)


async def delete_many(request: web.Request) -> web.Response:
    g = await gate(request, "airtable.delete", table_resolver(_table(request)))
    extra = set(request.query) - {"records[]"}
    if extra:
        raise invalid_request(f"unknown parameter(s) {sorted(extra)}")
    ids = list(request.query.getall("records[]", []))
    with g.sandbox.lock, g.sandbox.webhooks.transaction(g.base, PUBLIC_API):
        deleted = delete_records(g.base, g.need_table(), ids, utc_now())
        g.sandbox.dirty = True
    return respond(request, {"records": [{"id": i, "deleted": True} for i in deleted]})


async def delete_one(request: web.Request) -> web.Response:
    record_id = request.match_info["record_id"]
    g = await gate(request, "airtable.delete", table_resolver(_table(request)))
    if not is_id(record_id, "rec"):
        raise not_found_route()
    with g.sandbox.lock, g.sandbox.webhooks.transaction(g.base, PUBLIC_API):
        delete_records(g.base, g.need_table(), [record_id], utc_now())
        g.sandbox.dirty = True
    return respond(request, {"id": record_id, "deleted": True})


def _record_table(record_id: str) -> Any:
    def resolve(base: Base) -> Table:
        located = base.locate(record_id)
        if located is None:
            raise record_not_found(record_id)
        return located[0]
    return resolve


def _decode_upload(body: Any) -> tuple[str, str, bytes]:
    if not isinstance(body, dict) or body.keys() != {"contentType", "file", "filename"} or not all(
        isinstance(v, str) for v in body.values()
    ):
        raise invalid_request("the body must be {contentType, file (base64), filename}")
    try:
        content = base64.b64decode(body["file"])
    except (binascii.Error, ValueError):
        raise invalid_request("file is not valid base64") from None
    if len(content) > MAX_UPLOAD_BYTES:
        raise AirtableError(413, "PAYLOAD_TOO_LARGE", "Attachments are limited to 5 MB")
    return body["contentType"], body["filename"], content


async def upload_attachment(request: web.Request) -> web.Response:
    record_id = request.match_info["record_id"]
    g = await gate(request, "airtable.upload", _record_table(record_id))
    content_type, filename, content = _decode_upload(await json_body(request))
    with g.sandbox.lock, g.sandbox.webhooks.transaction(g.base, PUBLIC_API):
        table = g.need_table()
        record = check_record_owner(table, record_id)
        target = table.field(request.match_info["field"])
        if target is None:
            raise unknown_field(request.match_info["field"])
        if target.type != "multipleAttachments":
            raise invalid_value(target.name, "not an attachment field")
        attachment = Attachment(new_id("att"), filename, content_type, content)
        g.base.attachments[attachment.id] = attachment
        stored = {"id": attachment.id, "filename": filename, "size": len(content),
                  "type": content_type}
        cells = {target.id: [*record.cells.get(target.id, []), stored]}
        write_cells(g.base, table, record, cells, utc_now(), replace=False)
        g.sandbox.dirty = True
        cell = render_cell(g.origin, g.base, record.cells[target.id])
        data = {"id": record.id, "createdTime": iso_millis(record.created),
                "fields": {target.id: cell}}
    return respond(request, data)


def add_record_routes(app: web.Application) -> None:
    prefix = "/v0/{base_id}"
    app.router.add_post(prefix + "/{record_id}/{field}/uploadAttachment", upload_attachment)
    app.router.add_get(prefix + "/{table}", list_get)
    app.router.add_post(prefix + "/{table}/listRecords", list_post)
    app.router.add_post(prefix + "/{table}", create)
    app.router.add_patch(prefix + "/{table}", update_many)
    app.router.add_put(prefix + "/{table}", update_many)
    app.router.add_delete(prefix + "/{table}", delete_many)
    app.router.add_get(prefix + "/{table}/{record_id}", get_one)
    app.router.add_patch(prefix + "/{table}/{record_id}", update_one)
    app.router.add_put(prefix + "/{table}/{record_id}", update_one)
    app.router.add_delete(prefix + "/{table}/{record_id}", delete_one)
