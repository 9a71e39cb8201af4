"""Airtable's notification pings: ``POST notificationUrl`` with the MAC header, from a thread.

Body: ``{"base": {"id": "app…"}, "webhook": {"id": "ach…"}, "timestamp": "…Z"}``; header
``X-Airtable-Content-MAC: hmac-sha256=<hex>``, the HMAC-SHA256 of the raw body keyed with the
webhook's secret (the bytes behind ``macSecretBase64``). A 2xx answer is a success; anything
else (or no answer within the timeout) is retried after each of ``retry_delays``, then given up.
While a first ping for a webhook waits to be sent, further changes do not queue another (the
receiver reads every payload since its cursor anyway).
"""

from __future__ import annotations

import hashlib
import heapq
import hmac
import itertools
import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sandbox.airtable.store import iso_millis

MAC_HEADER = "X-Airtable-Content-MAC"
RETRY_DELAYS = (1.0, 10.0)
_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


@dataclass(frozen=True, slots=True)
class Ping:
    base_id: str
    webhook_id: str
    url: str
    secret: bytes


def mac_header(secret: bytes, body: bytes) -> str:
    return "hmac-sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


def ping_body(ping: Ping, now: datetime) -> bytes:
    document = {"base": {"id": ping.base_id}, "webhook": {"id": ping.webhook_id},
                "timestamp": iso_millis(now)}
    return json.dumps(document, separators=(",", ":")).encode()


class NotificationSender:
    """Sends pings on a daemon thread (started on the first ping) and reports each result."""

    def __init__(
        self,
        on_result: Callable[[str, dict[str, Any]], None],
        *,
        timeout: float = 5.0,
        retry_delays: Sequence[float] = RETRY_DELAYS,
    ) -> None:
        self._on_result = on_result
        self._timeout = timeout
        self._retry_delays = tuple(retry_delays)
        self._queue: list[tuple[float, int, Ping, int]] = []  # (due, order, ping, retry number)
        self._waiting: set[str] = set()  # webhooks with a first ping not sent yet
        self._order = itertools.count()
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None
        self._closed = False

    def send(self, ping: Ping) -> None:
        with self._cond:
            if self._closed or ping.webhook_id in self._waiting:
                return
            self._waiting.add(ping.webhook_id)
            heapq.heappush(self._queue, (time.monotonic(), next(self._order), ping, 0))
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._loop, name="sandbox-webhook-pings", daemon=True
                )
                self._thread.start()
            self._cond.notify_all()

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._queue.clear()
            self._cond.notify_all()
            thread = self._thread
        if thread is not None:
            thread.join(timeout=self._timeout + 1)

    def _loop(self) -> None:
        while True:
            with self._cond:
                while not self._closed and (
                    not self._queue or self._queue[0][0] > time.monotonic()
                ):
                    delay = self._queue[0][0] - time.monotonic() if self._queue else None
                    self._cond.wait(delay)
                if self._closed:
                    return
                _, _, ping, retry = heapq.heappop(self._queue)
                if retry == 0:
                    self._waiting.discard(ping.webhook_id)
            self._deliver(ping, retry)

    def _deliver(self, ping: Ping, retry: int) -> None:
        body = ping_body(ping, datetime.now(UTC))
        request = urllib.request.Request(  # noqa: S310 - http(s) only, checked at create
            ping.url,
            data=body,
            method="POST",
            headers={"Content-Type": "application/json", MAC_HEADER: mac_header(ping.secret, body)},
        )
        started = time.monotonic()
        error: str | None = None
        try:
            with _NO_PROXY.open(request, timeout=self._timeout) as answer:
                answer.read()
                if not 200 <= answer.status < 300:
                    error = f"HTTP {answer.status}"
        except urllib.error.HTTPError as exc:
            error = f"HTTP {exc.code}"
        except (OSError, ValueError) as exc:
            error = f"{type(exc).__name__}: {exc}"
        again = error is not None and retry < len(self._retry_delays)
        result: dict[str, Any] = {
            "success": error is None,
            "completionTimestamp": iso_millis(datetime.now(UTC)),
            "durationMs": round((time.monotonic() - started) * 1000, 3),
            "retryNumber": retry,
        }
        if error is not None:
            result["willBeRetried"] = again
            result["error"] = {"message": error}
        self._on_result(ping.webhook_id, result)
        if again:
            with self._cond:
                if not self._closed:
                    due = time.monotonic() + self._retry_delays[retry]
                    heapq.heappush(self._queue, (due, next(self._order), ping, retry + 1))
                    self._cond.notify_all()
