"""The local HTTP endpoint (``HTTP_HOST``:``HTTP_PORT``): ``/healthz``, ``/metrics``, ``/``.

The standard library's threading server on a daemon thread: no event loop to manage, nothing to
install. It binds loopback by default; put it behind a reverse proxy with authentication before
exposing it anywhere else (the page names prongs and errors, never codes or customers).

- ``/healthz``: 200 with JSON details, or 503 when a prong is hung (or stalled) or has failed
  every run for 10 minutes (see :mod:`daemon.health`). Paused prongs do not count.
- ``/metrics``: the Prometheus text format of :class:`daemon.metrics.Metrics`.
- ``/``: :mod:`daemon.statuspage`.
- ``/report``: the newest ``report.html`` under ``STATE_DIR/reports`` (``giftbridge report``
  writes it; the daemon only serves the file).
- ``POST /airtable/notify`` (push in ``notify`` mode only): Airtable's webhook pings, handed to
  ``notify(body, headers)`` which checks the MAC and answers 204 or 401 (:mod:`daemon.push`).
  Only this path should be reachable from the internet (deploy/README.md shows a proxy rule).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Mapping
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import BufferedIOBase
from pathlib import Path
from typing import Any, ClassVar

import structlog
from prometheus_client import CONTENT_TYPE_LATEST

from clients.records import StatusRow
from daemon import statuspage
from daemon.health import HealthBook, ProngView
from daemon.metrics import Metrics

log = structlog.get_logger(__name__)
NOTIFY_PATH = "/airtable/notify"
MAX_NOTIFY_BODY = 64 * 1024  # Airtable's ping is about 150 bytes


def health_document(health: HealthBook) -> tuple[int, dict[str, Any]]:
    """(HTTP status, JSON body) of ``/healthz``."""
    healthy, problems = health.healthy()
    return (200 if healthy else 503), {
        "status": "ok" if healthy else "unhealthy",
        "problems": problems,
        "prongs": {v.name: _prong_json(v) for v in health.views()},
    }


def _prong_json(view: ProngView) -> dict[str, Any]:
    return {
        "state": view.state,
        "paused": view.paused,
        "running_for_seconds": _round(view.running_for),
        "last_finished_seconds_ago": _round(view.since_finished),
        "last_success_at": view.last_ok_at.isoformat() if view.last_ok_at else None,
        "consecutive_failures": view.consecutive_failures,
        "failing_for_seconds": _round(view.failing_for),
        "runs": view.runs,
    }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def notification_status(
    notify: Callable[[bytes, Mapping[str, str]], int], headers: Message, body: BufferedIOBase
) -> int:
    """Read one notification's body (bounded) and let ``notify`` judge it; headers are handed
    over by lower-case name."""
    try:
        length = int(headers.get("Content-Length", ""))
    except ValueError:
        return 411
    if not 0 <= length <= MAX_NOTIFY_BODY:
        return 413
    try:
        return notify(body.read(length), {k.lower(): v for k, v in headers.items()})
    except Exception as exc:  # a broken handler must not take the endpoint down
        log.error("http.error", path=NOTIFY_PATH, error=str(exc), exc_info=True)
        return 500


class EndpointError(RuntimeError):
    """The endpoint could not bind its address."""


class HttpEndpoint:
    def __init__(
        self,
        host: str,
        port: int,
        *,
        health: HealthBook,
        metrics: Metrics,
        status_rows: Callable[[], Mapping[str, StatusRow | None]],
        about: Callable[[], Mapping[str, str]],
        business: Callable[[], str] | None = None,
        latest_report: Callable[[], Path | None] | None = None,
        notify: Callable[[bytes, Mapping[str, str]], int] | None = None,
    ) -> None:
        self._address = (host, port)
        self.notify = notify
        self.health = health
        self.metrics = metrics
        self.status_rows = status_rows
        self.about = about
        self.business = business  # the status page's business sections (daemon.summary)
        self.latest_report = latest_report  # the newest report.html, served at /report
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        if self._server is None:
            return self._address[1]
        return int(self._server.server_address[1])

    def start(self) -> HttpEndpoint:
        """Bind and serve on a daemon thread; a taken port is a one-line error naming the knob."""
        try:
            server = ThreadingHTTPServer(self._address, _handler_for(self))
        except OSError as exc:
            host, port = self._address
            raise EndpointError(
                f"cannot listen on {host}:{port} ({exc.strerror}): set GIFTBRIDGE_HTTP_PORT "
                "(or GIFTBRIDGE_HTTP_HOST) to a free address"
            ) from exc
        server.daemon_threads = True
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.25}, daemon=True, name="http"
        )
        self._thread.start()
        log.info("http.listening", host=self._address[0], port=self.port)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = self._thread = None

    def page(self) -> str:
        healthy, _ = self.health.healthy()
        return statuspage.render(
            self.health.views(),
            self.status_rows(),
            self.metrics.queue_depths(),
            self.about(),
            healthy,
            self.business() if self.business else "",
        )


class _Handler(BaseHTTPRequestHandler):
    """The endpoint's routes; :func:`_handler_for` binds one to its :class:`HttpEndpoint`."""

    endpoint: ClassVar[HttpEndpoint]
    server_version = "giftbridge"
    sys_version = ""

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        routes = {
            "/healthz": self._send_health,
            "/metrics": self._send_metrics,
            "/": self._send_page,
            "/report": self._send_report,
        }
        try:
            route = routes.get(path)
            if route is None:
                self._send(404, "text/plain; charset=utf-8", b"not found\n")
            else:
                route()
        except Exception as exc:  # a broken page must not take the endpoint down
            log.error("http.error", path=path, error=str(exc), exc_info=True)
            self._send(500, "text/plain; charset=utf-8", b"internal error\n")

    def _send_health(self) -> None:
        status, body = health_document(self.endpoint.health)
        self._send(status, "application/json", json.dumps(body, indent=1).encode())

    def _send_metrics(self) -> None:
        self._send(200, CONTENT_TYPE_LATEST, self.endpoint.metrics.exposition())

    def _send_page(self) -> None:
        self._send(200, "text/html; charset=utf-8", self.endpoint.page().encode())

    def _send_report(self) -> None:
        """The newest report.html (written by ``giftbridge report``), read from disk."""
        found = self.endpoint.latest_report() if self.endpoint.latest_report else None
        if found is None:
            text = b"no report yet: run `giftbridge report`\n"
            self._send(404, "text/plain; charset=utf-8", text)
            return
        self._send(200, "text/html; charset=utf-8", found.read_bytes())

    def do_POST(self) -> None:
        path = self.path.split("?", 1)[0]
        if path != NOTIFY_PATH or self.endpoint.notify is None:
            self._send(404, "text/plain; charset=utf-8", b"not found\n")
            return
        status = notification_status(self.endpoint.notify, self.headers, self.rfile)
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _send(self, status: int, content_type: str, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("http.request", line=format % args)


def _handler_for(endpoint: HttpEndpoint) -> type[BaseHTTPRequestHandler]:
    return type("Handler", (_Handler,), {"endpoint": endpoint})
