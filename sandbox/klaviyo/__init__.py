"""A local stand-in for Klaviyo's Create Event API (``POST /api/events``) on loopback.

Usage::

    sandbox = KlaviyoSandbox(api_key)
    with ServiceThread(lambda: make_klaviyo_app(sandbox)) as service:
        KlaviyoAPI(api_key, max_retries=1, test_host=service.url).Events.create_event(...)
"""

from __future__ import annotations

from sandbox.klaviyo.app import make_klaviyo_app
from sandbox.klaviyo.service import DEFAULT_API_KEY, AcceptedEvent, KlaviyoSandbox

__all__ = ["DEFAULT_API_KEY", "AcceptedEvent", "KlaviyoSandbox", "make_klaviyo_app"]
