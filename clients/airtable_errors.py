"""Airtable failures -> the classes of :mod:`clients.errors`.

| what happened | read | write |
| --- | --- | --- |
| connection refused, DNS, connect timeout | Retryable | Retryable |
| read timeout, reset after sending, broken body | Retryable | AmbiguousOutcome |
| 429 (any body) | RateLimited(retry_after=penalty) | same |
| 502 | Retryable | Retryable (Airtable: "safe to retry") |
| 500, 503, 504 | Retryable | AmbiguousOutcome |
| other 4xx | Permanent(code=error type, status) | same |

Three error body shapes are parsed: ``{"error": {"type", "message"}}``, ``{"error": "NOT_FOUND"}``
and ``{"errors": [{"error": "RATE_LIMIT_REACHED", "message"}]}``. Messages are not contractual;
branching uses the status and the type only.
"""

from __future__ import annotations

from typing import Any

import requests
from pyairtable.exceptions import PyAirtableError

from clients.airtable_http import silence_after
from clients.errors import AmbiguousOutcome, ClientError, Permanent, RateLimited, Retryable
from clients.ratelimit import LimiterTimeout
from clients.transport_errors import failed_before_sending

SERVICE = "airtable"
ITERATOR_EXPIRED = "LIST_RECORDS_ITERATOR_NOT_AVAILABLE"
DEFAULT_PENALTY = 30.0


def error_type(body: Any) -> tuple[str | None, str]:
    """(type, message) from any of Airtable's three error body shapes."""
    if not isinstance(body, dict):
        return None, ""
    error = body.get("error")
    if isinstance(error, dict):
        return _text(error.get("type")), _text(error.get("message")) or ""
    if isinstance(error, str):
        return error, _text(body.get("message")) or ""
    errors = body.get("errors")
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        first = errors[0]
        kind = first.get("error", first.get("type"))
        return _text(kind), _text(first.get("message")) or ""
    return None, ""


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def response_error(response: requests.Response | None) -> tuple[int | None, str | None, str]:
    """(status, type, message) of an HTTP error response."""
    if response is None:
        return None, None, ""
    try:
        body = response.json()
    except ValueError:
        body = None
    kind, message = error_type(body)
    return response.status_code, kind, message


def is_iterator_expired(error: BaseException) -> bool:
    if not isinstance(error, requests.HTTPError):
        return False
    status, kind, _ = response_error(error.response)
    return status == 422 and kind == ITERATOR_EXPIRED


def translate(
    error: BaseException, operation: str, *, write: bool, penalty: float = DEFAULT_PENALTY
) -> ClientError:
    """The giftbridge class for any exception raised while talking to Airtable."""
    if isinstance(error, ClientError):
        return error
    if isinstance(error, LimiterTimeout):
        return RateLimited(
            SERVICE, operation, "the base is rate limited", retry_after=error.retry_after
        )
    if isinstance(error, requests.HTTPError):
        return _from_status(error, operation, write=write, penalty=penalty)
    if isinstance(error, requests.ConnectTimeout) or failed_before_sending(error):
        return Retryable(SERVICE, operation, f"could not connect ({type(error).__name__})")
    if isinstance(error, requests.RequestException | ValueError):
        # Read timeout, reset after sending, truncated or undecodable response.
        detail = f"no usable response ({type(error).__name__})"
        if write:
            return AmbiguousOutcome(SERVICE, operation, detail)
        return Retryable(SERVICE, operation, detail)
    if isinstance(error, PyAirtableError):
        return Permanent(SERVICE, operation, str(error), code=type(error).__name__)
    return Permanent(SERVICE, operation, f"unexpected {type(error).__name__}")


def _from_status(
    error: requests.HTTPError, operation: str, *, write: bool, penalty: float
) -> ClientError:
    status, kind, message = response_error(error.response)
    detail = f"HTTP {status} {kind or ''}".strip()
    if status == 429:
        silence = silence_after(error.response, penalty)
        return RateLimited(SERVICE, operation, detail, retry_after=silence)
    if status == 502:
        return Retryable(SERVICE, operation, detail)
    if status is not None and status >= 500:
        if write:
            return AmbiguousOutcome(SERVICE, operation, detail)
        return Retryable(SERVICE, operation, detail)
    return Permanent(
        SERVICE, operation, message[:200], code=kind or f"HTTP_{status}", status=status
    )
