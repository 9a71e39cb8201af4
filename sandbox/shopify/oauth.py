"""The client credentials grant, as a Dev Dashboard app gets its Admin API tokens:
``POST /admin/oauth/access_token``.

The body is a form (``application/x-www-form-urlencoded``, as giftbridge and the OAuth spec send
it) or JSON (as Shopify's own Node library sends it) with ``grant_type=client_credentials``,
``client_id`` and ``client_secret``. A success is ``{"access_token", "scope", "expires_in"}``;
the token lives :attr:`Tokens.life` seconds (Shopify's is about a day; the sandbox's is set by
``--token-seconds`` or ``GIFTBRIDGE_SANDBOX_TOKEN_SECONDS`` so that renewal can be watched).

Refusals follow the shape Shopify's token endpoint answers (``{"error", "error_description"}``,
RFC 6749 section 5.2; third-party reports of Shopify's wording, e.g. "Could not find Shopify API
application with api_key", gnikyt/laravel-shopify#104, and ``400 {"error":"invalid_request"}``,
BNMetrics/Laravel-ShopifyAPI#15):

- another ``grant_type``: 400 ``unsupported_grant_type``;
- no or an unknown ``client_id``: 400 ``invalid_request``;
- a wrong ``client_secret``: 401 ``invalid_client``.

Fault rules apply as ``shopify.access_token`` (``fail_before``: a 502 page; ``throttle``: 429;
``delay``; ``drop_after``: a token is minted, then the connection dropped).
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

DEFAULT_LIFE = 86399  # seconds, as Shopify answers (about a day)
TOKEN_PREFIX = "shpat_"


@dataclass
class Tokens:
    """The app's credentials and the tokens handed out, each with its expiry (monotonic)."""

    client_id: str | None
    client_secret: str | None
    scopes: tuple[str, ...]
    life: float = DEFAULT_LIFE
    clock: Callable[[], float] = time.monotonic
    issued: dict[str, float] = field(default_factory=dict)
    grants: int = 0  # tokens handed out since start
    lock: threading.Lock = field(default_factory=threading.Lock)

    def grant(self, form: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """(HTTP status, JSON body) for one token request."""
        if form.get("grant_type") != "client_credentials":
            return 400, _error("unsupported_grant_type", "grant_type must be client_credentials")
        client_id = form.get("client_id")
        if self.client_id is None or not isinstance(client_id, str) or client_id != self.client_id:
            return 400, _error(
                "invalid_request",
                f"Could not find Shopify API application with api_key {client_id or ''}".strip(),
            )
        secret = form.get("client_secret")
        if not isinstance(secret, str) or not hmac.compare_digest(
            secret.encode(), (self.client_secret or "").encode()
        ):
            return 401, _error("invalid_client", "Client authentication failed")
        token = TOKEN_PREFIX + secrets.token_hex(16)
        with self.lock:
            now = self.clock()
            self.issued = {t: e for t, e in self.issued.items() if e > now}  # forget dead ones
            self.issued[token] = now + self.life
            self.grants += 1
        body = {"access_token": token, "scope": ",".join(self.scopes), "expires_in": int(self.life)}
        return 200, body

    def valid(self, token: str) -> bool:
        with self.lock:
            expires = self.issued.get(token)
            return expires is not None and self.clock() < expires

    def revoke_all(self) -> int:
        """Forget every token handed out (a test's way to make the next call answer 401)."""
        with self.lock:
            count = len(self.issued)
            self.issued.clear()
            return count


def _error(code: str, description: str) -> dict[str, Any]:
    return {"error": code, "error_description": description}
