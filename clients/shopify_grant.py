"""The client credentials grant, one call: ``POST <origin>/admin/oauth/access_token`` with the
form body ``grant_type=client_credentials&client_id=…&client_secret=…`` (DESIGN.md, Shopify
credentials; reference shopify-admin-api.md section 0), and what its answer means.

A success is ``{"access_token", "scope", "expires_in"}``. Shopify's refusals are not documented in
what we could read: any other 4xx (``{"error": "invalid_client", ...}`` as OAuth's RFC 6749
section 5.2 shapes it, or the Admin API's ``{"errors": "..."}``) is
:class:`CredentialsRejected`, showing the status and Shopify's words with the secret removed; a
429 or 5xx is ``Retryable``; a redirect means the shop's domain is wrong. Asking again is always
harmless (it only mints another token), so every transport failure is ``Retryable``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests
from pydantic import SecretStr

from clients.errors import Permanent, Retryable
from clients.transport_errors import failed_before_sending

SERVICE = "shopify"
OPERATION = "access_token"
DEFAULT_LIFE = 3600.0  # an answer without expires_in (Shopify always sends it): renew hourly


class CredentialsRejected(Permanent):
    """The token endpoint refused the client id or secret (or the app is not installed)."""

    def __init__(self, detail: str, *, status: int | None) -> None:
        super().__init__(SERVICE, OPERATION, detail, code="CREDENTIALS_REJECTED", status=status)


def token_endpoint(graphql_url: str) -> str:
    """``<scheme>://<host[:port]>/admin/oauth/access_token`` of the GraphQL endpoint's origin."""
    parts = urlsplit(graphql_url)
    return f"{parts.scheme}://{parts.netloc}/admin/oauth/access_token"


@dataclass(frozen=True, slots=True)
class Grant:
    token: SecretStr
    scopes: frozenset[str]
    life: float  # seconds, from expires_in


def parse_grant(status: int, body: Any, secret: str, retry_after: float | None = None) -> Grant:
    """The token endpoint's answer as a :class:`Grant`, or the error it means."""
    if status == 429 or status >= 500:
        raise Retryable(SERVICE, OPERATION, f"HTTP {status}", retry_after=retry_after)
    if 300 <= status < 400:
        raise CredentialsRejected(
            f"HTTP {status}: the token endpoint redirected (is GIFTBRIDGE_SHOPIFY_SHOP the "
            "shop's *.myshopify.com domain?)",
            status=status,
        )
    if status != 200:
        raise CredentialsRejected(_refusal(status, body, secret), status=status)
    token = body.get("access_token") if isinstance(body, dict) else None
    if not isinstance(token, str) or not token:
        raise Permanent(
            SERVICE, OPERATION, "the answer carries no access_token", code="UNEXPECTED_RESPONSE"
        )
    scope = body.get("scope")
    names = scope.split(",") if isinstance(scope, str) else []
    scopes = frozenset(n.strip() for n in names if n.strip())
    life = body.get("expires_in")
    seconds = float(life) if isinstance(life, int | float) and life > 0 else DEFAULT_LIFE
    return Grant(SecretStr(token), scopes, seconds)


def _refusal(status: int, body: Any, secret: str) -> str:
    """``HTTP 401 invalid_client: <description>`` with the secret removed from what Shopify said."""
    error = body.get("error") if isinstance(body, dict) else None
    description = body.get("error_description") if isinstance(body, dict) else None
    if not isinstance(error, str) and isinstance(body, dict):
        error = body.get("errors")  # the Admin API's own shape: {"errors": "..."}
    words = [f"HTTP {status}"]
    if isinstance(error, str) and error:
        words.append(error[:80])
    text = " ".join(words)
    if isinstance(description, str) and description:
        text += ": " + description[:200]
    return text.replace(secret, "<SECRET>") if secret else text


def request_grant(
    session: requests.Session,
    url: str,
    client_id: str,
    secret: str,
    timeouts: tuple[float, float],
) -> Grant:
    """One token request; a :class:`Grant` or a ClientError (never carrying the secret)."""
    form = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}
    try:
        response = session.post(
            url,
            data=form,
            headers={"Accept": "application/json"},
            timeout=timeouts,
            allow_redirects=False,
        )
    except requests.RequestException as exc:
        # No chained cause: nothing of the request travels with the error.
        how = "could not connect" if failed_before_sending(exc) else "no usable response"
        raise Retryable(SERVICE, OPERATION, f"{how} ({type(exc).__name__})") from None
    try:
        body: Any = response.json()
    except ValueError:
        body = None
    return parse_grant(response.status_code, body, secret, _retry_after(response))


def _retry_after(response: requests.Response) -> float | None:
    try:
        return float(response.headers.get("Retry-After", ""))
    except ValueError:
        return None
