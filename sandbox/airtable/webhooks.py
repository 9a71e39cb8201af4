"""Webhooks on the sandbox's bases: create, list, refresh, delete, payloads, notifications.

Behaviour (https://airtable.com/developers/web/api/webhooks-overview and the pages it links):

- ``POST /v0/bases/{base}/webhooks`` takes ``{"notificationUrl"?, "specification"}`` and answers
  ``{"id": "ach…", "macSecretBase64", "expirationTime"}``; the secret is shown only then. At most
  10 webhooks per base.
- A webhook expires ``lifetime`` after its creation or last refresh (7 days, configurable for
  tests). Listing its payloads or ``POST …/refresh`` extends it to ``lifetime`` from then while
  it is enabled. An expired webhook lists as ``isHookEnabled: false``, records nothing more and
  sends nothing, cannot be refreshed, and keeps its payloads readable for another ``lifetime``;
  then it disappears.
- Every write transaction on the base becomes one payload for each enabled webhook whose
  filters match (``dataTypes`` with ``tableData``, ``fromSources``, ``recordChangeScope``,
  ``changeTypes``, ``watchDataInFieldIds``). REST writes have source ``publicApi``; the sandbox's
  form route ``formSubmission``; Python hooks ``client`` unless told otherwise.
- ``GET …/payloads?cursor=N&limit=L`` (cursor from 1, limit 1 to 50) answers ``{"payloads",
  "cursor" (the next one to ask for), "mightHaveMore"}``; payloads older than 7 days are gone.
- A webhook with a ``notificationUrl`` gets a ping for each payload (see ``webhook_notify``);
  ``lastNotificationResult`` and ``lastSuccessfulNotificationTime`` list what happened.
"""

from __future__ import annotations

import base64
import secrets
import threading
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sandbox.airtable.changes import Journal, journal
from sandbox.airtable.errors import AirtableError, invalid_request
from sandbox.airtable.store import Base, is_id, iso_millis, new_id, utc_now
from sandbox.airtable.webhook_notify import NotificationSender, Ping
from sandbox.airtable.webhook_payloads import build_payload
from sandbox.airtable.webhook_spec import parse_notification_url, parse_specification

WEBHOOK_LIFETIME_SECONDS = 7 * 24 * 3600.0
PAYLOAD_RETENTION = timedelta(days=7)
MAX_WEBHOOKS_PER_BASE = 10
MAX_PAGE = 50
MAX_KEPT_PAYLOADS = 10_000


@dataclass
class SandboxWebhook:
    id: str
    base_id: str
    specification: dict[str, Any]
    notification_url: str | None
    secret: bytes
    expiration: datetime
    notifications_enabled: bool = True
    next_cursor: int = 1
    payloads: deque[tuple[int, datetime, dict[str, Any]]] = field(default_factory=deque)
    last_result: dict[str, Any] | None = None
    last_success: str | None = None

    def enabled(self, now: datetime) -> bool:
        return now < self.expiration

    def listed(self, now: datetime) -> dict[str, Any]:
        return {
            "id": self.id,
            "type": "client",
            "areNotificationsEnabled": self.notifications_enabled,
            "cursorForNextPayload": self.next_cursor,
            "isHookEnabled": self.enabled(now),
            "lastSuccessfulNotificationTime": self.last_success,
            "notificationUrl": self.notification_url,
            "lastNotificationResult": self.last_result,
            "expirationTime": iso_millis(self.expiration),
            "specification": self.specification,
        }


class WebhookHub:
    """Every base's webhooks. Callers hold the sandbox's lock (shared here as ``lock``)."""

    def __init__(
        self,
        lock: threading.RLock,
        *,
        lifetime_seconds: float = WEBHOOK_LIFETIME_SECONDS,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.lock = lock
        self.lifetime = timedelta(seconds=lifetime_seconds)
        self._clock = clock
        self._hooks: dict[str, SandboxWebhook] = {}
        self._transactions: dict[str, int] = {}
        self.sender = NotificationSender(self._notified)

    # --- the API ------------------------------------------------------------------------
    def create(self, base: Base, body: Any) -> dict[str, Any]:
        if not isinstance(body, dict) or not {"specification"} <= body.keys() <= {
            "specification", "notificationUrl"
        }:
            raise invalid_request("the body takes specification (required) and notificationUrl")
        spec = parse_specification(body["specification"], base)
        url = parse_notification_url(body.get("notificationUrl"))
        self._purge()
        if sum(1 for h in self._hooks.values() if h.base_id == base.id) >= MAX_WEBHOOKS_PER_BASE:
            raise AirtableError(
                422, "TOO_MANY_WEBHOOKS", f"A base has at most {MAX_WEBHOOKS_PER_BASE} webhooks"
            )
        hook = SandboxWebhook(
            new_id("ach"), base.id, spec, url, secrets.token_bytes(32),
            self._clock() + self.lifetime,
        )
        self._hooks[hook.id] = hook
        return {"id": hook.id, "macSecretBase64": base64.b64encode(hook.secret).decode(),
                "expirationTime": iso_millis(hook.expiration)}

    def listing(self, base: Base) -> dict[str, Any]:
        self._purge()
        now = self._clock()
        return {"webhooks": [h.listed(now) for h in self._hooks.values() if h.base_id == base.id]}

    def refresh(self, base: Base, webhook_id: str) -> dict[str, Any]:
        hook = self._find(base, webhook_id)
        now = self._clock()
        if not hook.enabled(now):
            raise AirtableError(
                422, "CANNOT_REFRESH_DISABLED_WEBHOOK", "This webhook has expired; create another"
            )
        hook.expiration = now + self.lifetime
        return {"expirationTime": iso_millis(hook.expiration)}

    def delete(self, base: Base, webhook_id: str) -> dict[str, Any]:
        del self._hooks[self._find(base, webhook_id).id]
        return {}

    def enable_notifications(self, base: Base, webhook_id: str, body: Any) -> dict[str, Any]:
        hook = self._find(base, webhook_id)
        if not isinstance(body, dict) or body.keys() != {"enable"} or not isinstance(
            body["enable"], bool
        ):
            raise invalid_request('the body must be {"enable": true|false}')
        hook.notifications_enabled = body["enable"]
        return {}

    def payloads(self, base: Base, webhook_id: str, cursor: str | None,
                 limit: str | None) -> dict[str, Any]:
        hook = self._find(base, webhook_id)
        start, size = _positive(cursor, "cursor", 1), _positive(limit, "limit", MAX_PAGE)
        if size > MAX_PAGE:
            raise invalid_request(f"limit is at most {MAX_PAGE}")
        if start > hook.next_cursor:
            raise invalid_request(f"cursor {start} is past the next payload ({hook.next_cursor})")
        now = self._clock()
        if hook.enabled(now):
            hook.expiration = now + self.lifetime  # reading payloads keeps a webhook alive
        found = [(n, p) for n, _, p in hook.payloads if n >= start]
        page = found[:size]
        next_cursor = page[-1][0] + 1 if page else max(start, _first_kept(hook))
        return {"payloads": [p for _, p in page], "cursor": next_cursor,
                "mightHaveMore": len(found) > len(page)}

    # --- recording ------------------------------------------------------------------------
    @contextmanager
    def transaction(self, base: Base, source: str) -> Iterator[Journal]:
        """Collect one write transaction's changes; on success, record them as payloads."""
        with journal() as changes:
            yield changes
        if not changes.empty:
            self.record(base, source, changes)

    def record(self, base: Base, source: str, changes: Journal) -> None:
        now = self._clock()
        number = self._transactions[base.id] = self._transactions.get(base.id, 0) + 1
        for hook in list(self._hooks.values()):
            if hook.base_id != base.id or not hook.enabled(now):
                continue
            payload = build_payload(
                base, hook.specification, changes, source=source, transaction=number, now=now
            )
            if payload is None:
                continue
            hook.payloads.append((hook.next_cursor, now, payload))
            hook.next_cursor += 1
            while len(hook.payloads) > MAX_KEPT_PAYLOADS:
                hook.payloads.popleft()
            if hook.notification_url and hook.notifications_enabled:
                self.sender.send(Ping(base.id, hook.id, hook.notification_url, hook.secret))

    def _notified(self, webhook_id: str, result: dict[str, Any]) -> None:
        with self.lock:
            hook = self._hooks.get(webhook_id)
            if hook is not None:
                hook.last_result = result
                if result["success"]:
                    hook.last_success = result["completionTimestamp"]

    # --- sandbox controls -------------------------------------------------------------------
    def expire(self, webhook_id: str) -> None:
        """Let a webhook expire now (tests: what Airtable does after 7 days without refresh)."""
        hook = self._hooks.get(webhook_id)
        if hook is None:
            raise KeyError(f"no webhook {webhook_id!r}")
        hook.expiration = self._clock()

    def describe(self) -> list[dict[str, Any]]:
        now = self._clock()
        return [{**h.listed(now), "baseId": h.base_id, "payloadCount": len(h.payloads)}
                for h in self._hooks.values()]

    def clear(self) -> None:
        self._hooks.clear()
        self._transactions.clear()

    def close(self) -> None:
        self.sender.close()

    def _find(self, base: Base, webhook_id: str) -> SandboxWebhook:
        if not is_id(webhook_id, "ach"):
            raise AirtableError(404, "NOT_FOUND", bare=True)
        self._purge()
        hook = self._hooks.get(webhook_id)
        if hook is None or hook.base_id != base.id:
            raise AirtableError(404, "NOT_FOUND", f"Could not find webhook {webhook_id}")
        return hook

    def _purge(self) -> None:
        now = self._clock()
        for hook in list(self._hooks.values()):
            if now >= hook.expiration + self.lifetime:
                del self._hooks[hook.id]
                continue
            while hook.payloads and now - hook.payloads[0][1] > PAYLOAD_RETENTION:
                hook.payloads.popleft()


def _first_kept(hook: SandboxWebhook) -> int:
    return hook.payloads[0][0] if hook.payloads else hook.next_cursor


def _positive(raw: str | None, name: str, default: int) -> int:
    if raw is None:
        return default
    if not raw.isdigit() or int(raw) < 1:
        raise invalid_request(f"{name} must be a whole number of at least 1")
    return int(raw)
