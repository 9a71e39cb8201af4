"""Plumbing shared by the Airtable and Klaviyo stand-ins: request log, dropped connections,
fault admin bodies, the common ``/_sandbox/`` routes and atomic JSON snapshots."""

from __future__ import annotations

import json
import os
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from aiohttp import web

from sandbox.faults import FaultKind, FaultPlan

#: Key under which a handler tells the logging middleware what it did.
OPERATION_KEY = web.RequestKey("sandbox_operation", str)
TABLE_KEY = web.RequestKey("sandbox_table", str)
DROPPED_KEY = web.RequestKey("sandbox_dropped", bool)

#: A dropped connection has no HTTP status; the log records it as 0.
DROPPED_STATUS = 0


@dataclass(frozen=True, slots=True)
class RequestLogEntry:
    time: float  # seconds since the epoch, when the request arrived
    method: str
    path: str
    operation: str | None
    table: str | None
    status: int  # 0 when the connection was dropped without a response


class RequestLog:
    """Thread-safe, bounded list of the requests a service answered (oldest dropped first)."""

    def __init__(self, limit: int = 20_000) -> None:
        self._entries: deque[RequestLogEntry] = deque(maxlen=limit)
        self._lock = threading.Lock()

    def add(self, entry: RequestLogEntry) -> None:
        with self._lock:
            self._entries.append(entry)

    def entries(self) -> list[RequestLogEntry]:
        with self._lock:
            return list(self._entries)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


def logging_middleware(log: RequestLog) -> Any:
    """Record every non-admin request with the status the client saw."""

    @web.middleware
    async def middleware(request: web.Request, handler: Any) -> web.StreamResponse:
        started = time.time()
        status = 500
        try:
            response: web.StreamResponse = await handler(request)
            status = response.status
            return response
        except web.HTTPException as exc:
            status = exc.status
            raise
        finally:
            if not request.path.startswith("/_sandbox/"):
                dropped = request.get(DROPPED_KEY, False)
                log.add(RequestLogEntry(
                    started, request.method, request.path, request.get(OPERATION_KEY),
                    request.get(TABLE_KEY), DROPPED_STATUS if dropped else status,
                ))

    return middleware


def drop_connection(request: web.Request) -> web.Response:
    """Close the client's connection with no response; the returned object is never sent."""
    transport = request.transport
    request[DROPPED_KEY] = True
    request.protocol.force_close()
    if transport is not None:
        transport.abort()
    return web.Response(status=204)


def add_fault(plan: FaultPlan, body: Any) -> str | None:
    """Arm a fault from an admin JSON body; return an error message, or None when armed."""
    if not isinstance(body, dict) or not isinstance(body.get("operation"), str):
        return "body must be an object with a string 'operation'"
    try:
        kind = FaultKind(str(body.get("kind")))
    except ValueError:
        return f"kind must be one of {[k.value for k in FaultKind]}"
    times, seconds = body.get("times", 1), body.get("seconds", 0.0)
    if isinstance(times, bool) or not isinstance(times, int) or times < 1:
        return "times must be an integer >= 1"
    if isinstance(seconds, bool) or not isinstance(seconds, int | float) or seconds < 0:
        return "seconds must be a number >= 0"
    plan.add(body["operation"], kind, times=times, seconds=float(seconds))
    return None


def add_admin_routes(
    app: web.Application,
    *,
    faults: FaultPlan,
    log: RequestLog,
    state: Callable[[], Any],
    reset: Callable[[], None],
) -> None:
    """The ``/_sandbox/`` routes every stand-in serves (no auth: loopback test hooks)."""

    async def get_state(request: web.Request) -> web.Response:
        return web.json_response(state())

    async def post_reset(request: web.Request) -> web.Response:
        reset()
        return web.json_response({"reset": True})

    async def get_requests(request: web.Request) -> web.Response:
        return web.json_response({"requests": [asdict(e) for e in log.entries()]})

    async def get_faults(request: web.Request) -> web.Response:
        pending = [
            {"operation": r.operation, "kind": r.kind.value, "times": r.times,
             "seconds": r.seconds}
            for r in faults.pending()
        ]
        return web.json_response({"faults": pending})

    async def post_fault(request: web.Request) -> web.Response:
        try:
            body = await request.json()
        except ValueError:
            body = None
        problem = add_fault(faults, body)
        if problem is not None:
            return web.json_response({"error": problem}, status=400)
        return web.json_response({"armed": body}, status=201)

    async def delete_faults(request: web.Request) -> web.Response:
        faults.clear()
        return web.json_response({"cleared": True})

    app.router.add_get("/_sandbox/state", get_state)
    app.router.add_post("/_sandbox/reset", post_reset)
    app.router.add_get("/_sandbox/requests", get_requests)
    app.router.add_get("/_sandbox/faults", get_faults)
    app.router.add_post("/_sandbox/faults", post_fault)
    app.router.add_delete("/_sandbox/faults", delete_faults)


def write_json_atomically(path: Path, data: Any) -> None:
    """Write ``data`` as JSON so that a reader sees the old file or the new one, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle, separators=(",", ":"))
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
