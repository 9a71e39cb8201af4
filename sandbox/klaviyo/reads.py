"""``GET /api/events``: the events the account holds, newest first, as Klaviyo lists them.

giftbridge reads one (``page[size]=1``, ``fields[event]=datetime``) to prove an API key without
sending an email (``giftbridge check``). Auth, revision and rate limit are checked as for Create
Event; ``page[size]`` is 1 to 1000 (default 200) and ``fields[event]`` keeps only the named
attributes (sparse fieldsets). There is no next page: the sandbox holds few events.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aiohttp import web

from sandbox.klaviyo.service import AcceptedEvent, KlaviyoSandbox
from sandbox.klaviyo.validation import JSON_API, KlaviyoError

EVENT_FIELDS = ("timestamp", "event_properties", "datetime", "uuid")


def page_size(request: web.Request) -> int:
    raw = request.query.get("page[size]", "200")
    try:
        size = int(raw)
    except ValueError:
        size = 0
    if not 1 <= size <= 1000:
        raise KlaviyoError.single(
            400,
            "invalid",
            "Invalid input.",
            "page[size] must be an integer from 1 to 1000.",
            parameter="page[size]",
        )
    return size


def wanted_fields(request: web.Request) -> tuple[str, ...]:
    raw = request.query.get("fields[event]")
    if raw is None:
        return EVENT_FIELDS
    names = tuple(n.strip() for n in raw.split(",") if n.strip())
    unknown = [n for n in names if n not in EVENT_FIELDS]
    if unknown:
        raise KlaviyoError.single(
            400,
            "invalid",
            "Invalid input.",
            f"'{unknown[0]}' is not a valid field for the resource 'event'.",
            parameter="fields[event]",
        )
    return names


def event_resource(
    number: int, event: AcceptedEvent, fields: tuple[str, ...], base: str
) -> dict[str, Any]:
    moment = datetime.fromisoformat(event.time)
    every = {
        "timestamp": int(moment.timestamp()),
        "event_properties": dict(event.properties),
        "datetime": moment.isoformat(),
        "uuid": f"00000000-0000-4000-8000-{number:012d}",
    }
    event_id = f"sbx{number:08d}"
    return {
        "type": "event",
        "id": event_id,
        "attributes": {k: v for k, v in every.items() if k in fields},
        "links": {"self": f"{base}/api/events/{event_id}/"},
    }


def events_page(sandbox: KlaviyoSandbox, request: web.Request) -> web.Response:
    size, fields = page_size(request), wanted_fields(request)
    base = f"{request.scheme}://{request.host}"
    events = list(enumerate(sandbox.events, start=1))[::-1][:size]
    body = {
        "data": [event_resource(n, e, fields, base) for n, e in events],
        "links": {"self": str(request.url), "next": None, "prev": None},
    }
    return web.json_response(body, content_type=JSON_API)
