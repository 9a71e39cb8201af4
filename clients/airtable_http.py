"""The HTTP layer under pyairtable: one rate-limited session per adapter, shared limiter per base.

pyairtable sends every request (each page of a listing, each chunk of a batch, our own uploads
and Metadata API calls) through ``Api.session.request``. Replacing the session with
:class:`LimitedSession` puts the shared per-base limiter in front of every single HTTP request
and lets a 429 silence the whole base, whichever thread got it. pyairtable's own retries stay
off (``retry_strategy=None``): they would replay POSTs after a lost response.
"""

from __future__ import annotations

import base64
import random
from typing import Any, cast
from urllib.parse import quote

import requests
import structlog
from pyairtable import Api

from clients.ratelimit import PriorityGate

log = structlog.get_logger()
_jitter = random.Random()  # noqa: S311 - penalty jitter, not a secret


class LimitedSession(requests.Session):
    """A requests session that waits at the shared limiter before each request."""

    def __init__(self, limiter: PriorityGate, *, penalty: float, max_wait: float) -> None:
        super().__init__()
        self.limiter = limiter
        self.penalty = penalty
        self.max_wait = max_wait

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> Any:
        self.limiter.acquire(max_wait=self.max_wait)
        try:
            response = super().request(method, url, *args, **kwargs)
        finally:
            self.limiter.release()  # the budget counts the call until a window after its end
        if response.status_code == 429:
            penalty = silence_after(response, self.penalty)
            silence = penalty + _jitter.uniform(0, penalty / 10)
            self.limiter.penalize(silence)
            log.warning("rate limited", service="airtable", silence=round(silence, 2))
        return response


def silence_after(response: Any, penalty: float) -> float:
    """How long a 429 silences the base: ``penalty`` (Airtable documents 30 s and sends no
    header), or less when the answer says so in ``Retry-After`` (the sandbox does, with its own
    shorter penalty, so tests that draw a 429 on purpose stay quick)."""
    headers = getattr(response, "headers", None) or {}
    try:
        asked = float(headers.get("Retry-After", ""))
    except (TypeError, ValueError):
        return penalty
    return min(penalty, asked) if asked >= 0 else penalty


def make_api(
    token: str,
    *,
    api_url: str,
    timeout: tuple[float, float],
    limiter: PriorityGate,
    penalty: float,
    max_wait: float,
) -> Api:
    """pyairtable's ``Api`` aimed at ``api_url`` with our session, timeouts and no retries."""
    # requests takes float timeouts; pyairtable's annotation says int.
    api = Api(token, timeout=cast(Any, timeout), retry_strategy=None, endpoint_url=api_url)
    api.session.close()
    api.session = LimitedSession(limiter, penalty=penalty, max_wait=max_wait)
    api.api_key = token  # re-sets the Authorization header on the new session
    return api


def upload_url(content_url: str, base_id: str, record_id: str, field_name: str) -> str:
    """Airtable's documented upload endpoint, on the configured content host (never pyairtable's
    ``upload_attachment``, which ignores ``endpoint_url`` and would send to the real host)."""
    parts = (base_id, record_id, field_name)
    path = "/".join(quote(p, safe="") for p in parts)
    return f"{content_url.rstrip('/')}/v0/{path}/uploadAttachment"


def upload_body(filename: str, content: bytes, content_type: str) -> dict[str, str]:
    return {
        "contentType": content_type,
        "file": base64.b64encode(content).decode("ascii"),
        "filename": filename,
    }
