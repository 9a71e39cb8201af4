"""The Klaviyo adapter: :class:`clients.ports.EmailPort` as one Create Event call per email.

Exactly one retry layer, ours: the SDK is built with ``max_retries=1`` (a single attempt) and its
urllib3 pool with ``retries=False``. Every call carries ``_request_timeout``. The event's
``unique_id`` (``<key>:<audience>``) makes a repeat harmless, so an ambiguous outcome (5xx, read
timeout, reset) is re-sent with the same payload within the policy's bounds. The payload may hold
the full code: it is never logged (metric and unique_id are).
"""

from __future__ import annotations

from datetime import UTC
from typing import Any

import pydantic
import structlog
import urllib3.exceptions
from klaviyo_api import KlaviyoAPI
from openapi_client import rest
from openapi_client.exceptions import ApiException

from clients.errors import (
    AmbiguousOutcome,
    ClientError,
    Permanent,
    RateLimited,
    Retryable,
)
from clients.ratelimit import LimiterTimeout, PriorityGate
from clients.records import EmailEvent
from clients.retry import RetryPolicy
from clients.transport_errors import failed_before_sending

SERVICE = "klaviyo"
OPERATION = "create_event"
CHECK_OPERATION = "get_events"
DEFAULT_RETRY_AFTER = 1.0
log = structlog.get_logger()


def event_payload(event: EmailEvent) -> dict[str, Any]:
    """The JSON:API body of Create Event for ``event``."""
    moment = event.time.astimezone(UTC).replace(microsecond=0)
    return {
        "data": {
            "type": "event",
            "attributes": {
                "metric": {"data": {"type": "metric", "attributes": {"name": event.metric.value}}},
                "profile": {"data": {"type": "profile", "attributes": {"email": event.email}}},
                "properties": dict(event.properties),
                "time": moment.isoformat(),
                "unique_id": event.unique_id,
            },
        }
    }


def _retry_after(headers: Any) -> float:
    value = None
    if headers is not None:
        try:
            value = headers.get("Retry-After")
        except AttributeError:
            value = None
    try:
        return max(0.0, float(value)) if value is not None else DEFAULT_RETRY_AFTER
    except ValueError:
        return DEFAULT_RETRY_AFTER


def translate(error: BaseException, operation: str = OPERATION) -> ClientError:
    """The giftbridge class for any exception raised by the SDK or urllib3."""
    if isinstance(error, ClientError):
        return error
    if isinstance(error, LimiterTimeout):
        return RateLimited(SERVICE, operation, "rate limited", retry_after=error.retry_after)
    if isinstance(error, pydantic.ValidationError):
        return Permanent(SERVICE, operation, "the event does not validate", code="INVALID_EVENT")
    if isinstance(error, ApiException):
        status = error.status if isinstance(error.status, int) else None
        if status == 429:
            return RateLimited(
                SERVICE, operation, "HTTP 429", retry_after=_retry_after(error.headers)
            )
        if status == 0:  # the SDK's wrapping of an SSL failure during the handshake
            return Retryable(SERVICE, operation, "TLS failure")
        if status is None or status >= 500:
            return AmbiguousOutcome(SERVICE, operation, f"HTTP {status}")
        return Permanent(SERVICE, operation, f"HTTP {status}", code=f"HTTP_{status}", status=status)
    if failed_before_sending(error):
        return Retryable(SERVICE, operation, f"could not connect ({type(error).__name__})")
    if isinstance(error, urllib3.exceptions.HTTPError | OSError):
        return AmbiguousOutcome(SERVICE, operation, f"no usable response ({type(error).__name__})")
    return AmbiguousOutcome(SERVICE, operation, f"unexpected {type(error).__name__}")


class KlaviyoEmail:
    def __init__(
        self,
        api_key: str,
        *,
        api_url: str,
        timeout: tuple[float, float],
        limiter: PriorityGate,
        retry: RetryPolicy,
        max_wait: float,
    ) -> None:
        self._client = KlaviyoAPI(api_key, max_delay=1, max_retries=1, test_host=api_url)
        # urllib3 would retry connect errors on its own: one retry layer only.
        self._client.configuration.retries = False
        self._client.api_client.rest_client = rest.RESTClientObject(self._client.configuration)
        self._events = self._client.Events
        self._timeout = (float(timeout[0]), float(timeout[1]))
        self._limiter = limiter
        self._retry = retry
        self._max_wait = max_wait

    def close(self) -> None:
        self._client.api_client.rest_client.pool_manager.clear()

    def send(self, event: EmailEvent) -> None:
        payload = event_payload(event)  # built once: every retry carries the same unique_id
        self._retry.call(
            lambda: self._send_once(payload),
            service=SERVICE,
            operation=OPERATION,
            idempotent=True,
        )
        log.info(
            "event sent",
            service=SERVICE,
            operation=OPERATION,
            metric=event.metric.value,
            unique_id=event.unique_id,
        )

    def check_key(self) -> None:
        """Prove the API key with one read that sends nothing: the newest event's time
        (``GET /api/events``, page size 1; scope ``events:read``, part of Events: Full access).
        Raises ``Permanent`` with status 401 (key rejected) or 403 (scope missing)."""
        self._retry.call(
            self._read_one_event, service=SERVICE, operation=CHECK_OPERATION, idempotent=True
        )

    def _read_one_event(self) -> None:
        try:
            self._limiter.acquire(max_wait=self._max_wait)
            self._events.get_events(
                fields_event=["datetime"], page_size=1, _request_timeout=self._timeout
            )
        except Exception as exc:
            raise translate(exc, CHECK_OPERATION) from None

    def _send_once(self, payload: dict[str, Any]) -> None:
        try:
            self._limiter.acquire(max_wait=self._max_wait)
            self._events.create_event(payload, _request_timeout=self._timeout)
        except Exception as exc:
            error = translate(exc)
            if isinstance(exc, ApiException) and isinstance(error, RateLimited):
                self._limiter.penalize(error.retry_after or DEFAULT_RETRY_AFTER)
            # No chained cause: a validation error's text would quote the payload (the code).
            raise error from None
