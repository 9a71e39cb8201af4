"""Shopify (gql 4 over aiohttp) failures -> the classes of :mod:`clients.errors`.

| what happened | query | mutation |
| --- | --- | --- |
| connect refused, DNS, connect timeout | Retryable | Retryable |
| THROTTLED (HTTP 200 or 429) | RateLimited(wait) | RateLimited(wait): it did not run |
| read timeout, reset, execute timeout, 5xx | Retryable | AmbiguousOutcome |
| HTTP 401 (the token was refused) | Permanent(UNAUTHORIZED) | Permanent(UNAUTHORIZED) |
| other GraphQL errors, 4xx | Permanent(code) | Permanent(code) |

gql 4 turns a JSON error body into ``TransportQueryError`` whatever the HTTP status; our
transport copies the status into the result's extensions (:data:`STATUS_KEY`) so a 5xx with a
GraphQL body is still recognised. The wait after THROTTLED is
``(requestedQueryCost - currentlyAvailable) / restoreRate``. Error messages of operations that
carry a code in their variables are dropped: GraphQL errors may echo variable values.
"""

from __future__ import annotations

from typing import Any

from gql.transport.exceptions import (
    TransportClosed,
    TransportConnectionFailed,
    TransportProtocolError,
    TransportQueryError,
    TransportServerError,
)
from graphql import GraphQLError

from clients.errors import AmbiguousOutcome, ClientError, Permanent, RateLimited, Retryable
from clients.ratelimit import LimiterTimeout
from clients.transport_errors import failed_before_sending

SERVICE = "shopify"
STATUS_KEY = "giftbridge_http_status"
DEFAULT_THROTTLE_WAIT = 1.0
_SERVER_CODES = {"INTERNAL_SERVER_ERROR", "SERVICE_UNAVAILABLE", "TIMEOUT"}


def throttle_wait(extensions: Any) -> float | None:
    """Seconds until the bucket holds the requested cost, from a response's extensions."""
    cost = extensions.get("cost") if isinstance(extensions, dict) else None
    if not isinstance(cost, dict):
        return None
    status = cost.get("throttleStatus")
    requested = cost.get("requestedQueryCost")
    if not isinstance(status, dict) or not isinstance(requested, int | float):
        return None
    available = status.get("currentlyAvailable")
    rate = status.get("restoreRate")
    if not isinstance(available, int | float) or not isinstance(rate, int | float) or rate <= 0:
        return None
    return max(0.0, (float(requested) - float(available)) / float(rate))


def _uncertain(operation: str, detail: str, *, mutation: bool) -> ClientError:
    if mutation:
        return AmbiguousOutcome(SERVICE, operation, detail)
    return Retryable(SERVICE, operation, detail)


def error_codes(errors: Any) -> list[str]:
    codes: list[str] = []
    for error in errors if isinstance(errors, list) else []:
        extensions = error.get("extensions") if isinstance(error, dict) else None
        code = extensions.get("code") if isinstance(extensions, dict) else None
        if isinstance(code, str):
            codes.append(code)
    return codes


def from_graphql_errors(
    errors: Any, extensions: Any, operation: str, *, mutation: bool, sensitive: bool
) -> ClientError:
    status = extensions.get(STATUS_KEY) if isinstance(extensions, dict) else None
    codes = error_codes(errors)
    if "THROTTLED" in codes or status == 429:
        wait = throttle_wait(extensions)
        return RateLimited(
            SERVICE,
            operation,
            "THROTTLED",
            retry_after=wait if wait is not None else DEFAULT_THROTTLE_WAIT,
        )
    if (isinstance(status, int) and status >= 500) or _SERVER_CODES.intersection(codes):
        return _uncertain(operation, f"server error (HTTP {status})", mutation=mutation)
    if status == 401:
        return _unauthorized(operation)
    message = ""
    if not sensitive and isinstance(errors, list) and errors and isinstance(errors[0], dict):
        message = str(errors[0].get("message", ""))[:200]
    code = codes[0] if codes else "GRAPHQL_ERROR"
    return Permanent(
        SERVICE, operation, message, code=code, status=status if isinstance(status, int) else None
    )


def translate(
    error: BaseException, operation: str, *, mutation: bool, sensitive: bool = False
) -> ClientError:
    """The giftbridge class for any exception raised while talking to Shopify."""
    if isinstance(error, ClientError):
        return error
    if isinstance(error, LimiterTimeout):
        return RateLimited(SERVICE, operation, "cost bucket empty", retry_after=error.retry_after)
    if isinstance(error, TransportQueryError):
        return from_graphql_errors(
            error.errors, error.extensions, operation, mutation=mutation, sensitive=sensitive
        )
    if isinstance(error, TransportServerError):
        return _from_status(error.code, operation, mutation=mutation)
    if isinstance(error, TransportClosed) or failed_before_sending(error):
        return Retryable(SERVICE, operation, f"could not connect ({type(error).__name__})")
    uncertain = (TimeoutError, TransportConnectionFailed, TransportProtocolError, OSError)
    if isinstance(error, uncertain):
        return _uncertain(
            operation, f"no usable response ({type(error).__name__})", mutation=mutation
        )
    if isinstance(error, GraphQLError):
        return Permanent(SERVICE, operation, "invalid document", code="GRAPHQL_ERROR")
    return _uncertain(operation, f"unexpected {type(error).__name__}", mutation=mutation)


def _unauthorized(operation: str) -> Permanent:
    """Shopify refused the access token (the runner renews and retries before it gets here)."""
    return Permanent(
        SERVICE, operation, "HTTP 401: access token rejected", code="UNAUTHORIZED", status=401
    )


def _from_status(status: int | None, operation: str, *, mutation: bool) -> ClientError:
    if status == 401:
        return _unauthorized(operation)
    if status == 429:
        return RateLimited(SERVICE, operation, "HTTP 429", retry_after=DEFAULT_THROTTLE_WAIT)
    if status is None or status >= 500:
        return _uncertain(operation, f"HTTP {status}", mutation=mutation)
    return Permanent(SERVICE, operation, f"HTTP {status}", code=f"HTTP_{status}", status=status)
