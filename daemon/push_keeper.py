"""Keeping giftbridge's one webhook on the base, and reading its payloads from the saved cursor.

:class:`WebhookKeeper` makes the Airtable calls and keeps the state file; it knows nothing of
threads, timing or health (that is :mod:`daemon.push`). Its rules:

- **Establish** (at start, and whenever the webhook is lost): resume the saved webhook when it
  is still there, enabled, not expired, giftbridge's specification, at the same notification
  URL, and not behind the saved cursor (then refresh it once). Otherwise create a new one: the
  cursor is lost, so whatever changed meanwhile is found by one full poll (``new_webhook``
  says so; the caller wakes the store prong).
- **Stale webhooks**: before creating, delete the giftbridge webhooks that nobody keeps alive:
  disabled or expired ones, and ones neither refreshed nor read for two days (a running
  giftbridge refreshes its own daily and reads it every few seconds or minutes). A second
  giftbridge on the same base by mistake keeps its own webhook alive, so the two never delete
  each other's in a loop.
- **Check** (hourly): the webhook is still listed, enabled, unexpired; refresh it daily (it
  expires 7 days after creation or refresh); in notify mode, note when Airtable's last ping
  failed (Airtable cannot reach ``PUBLIC_URL``).
- **Read**: page through the payloads from the cursor, following ``mightHaveMore`` (bounded per
  call), saving Airtable's next cursor after each page. A 404 means the webhook is gone; any
  other refusal of the cursor means it is lost: both replace the webhook.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog

from clients.errors import Permanent
from clients.ports import Clock, WebhookPort
from clients.webhook_records import PUBLIC_API, PayloadSummary, WebhookInfo
from daemon.push_state import WebhookState, WebhookStateFile

log = structlog.get_logger(__name__)

#: A giftbridge webhook whose expiry is nearer than this was not refreshed or read for 2 days.
STALE_WHEN_EXPIRING_WITHIN = timedelta(days=5)
#: Refresh at start when the saved webhook expires within this (a daily refresh keeps > 6 days).
REFRESH_WHEN_EXPIRING_WITHIN = timedelta(days=6)
MAX_PAGES_PER_READ = 20


@dataclass(frozen=True, slots=True)
class ReadResult:
    payloads: int  # payloads read
    wake: str | None  # why the store prong should run now, if it should
    broken: str | None  # a payload reported an error: check the webhook now


class WebhookGone(Exception):
    """The webhook or its cursor is no more; the message says which."""


class WebhookKeeper:
    def __init__(
        self,
        webhooks: WebhookPort,
        state_file: WebhookStateFile,
        clock: Clock,
        *,
        base_id: str,
        notification_url: str | None,
        request_tables: Collection[str],
    ) -> None:
        self._webhooks = webhooks
        self._file = state_file
        self._clock = clock
        self.base_id = base_id
        self.notification_url = notification_url
        self._request_tables = frozenset(request_tables)
        self._request_table_ids: frozenset[str] | None = None
        self.state: WebhookState | None = None
        self.notification_failure: str | None = None
        self.unread_payloads = True  # as far as the last check knows
        self.created = 0

    # --- establish ----------------------------------------------------------------------
    def establish(self) -> str | None:
        """Resume or create the webhook; returns why a new one was made (None: resumed)."""
        if self._request_table_ids is None:
            ids = self._webhooks.table_ids()
            self._request_table_ids = frozenset(
                i for n, i in ids.items() if n in self._request_tables
            )
        saved = self._file.load(self.base_id)
        hooks = self._webhooks.list_webhooks()
        listed = next((h for h in hooks if saved and h.id == saved.webhook_id), None)
        problem = self.unusable(saved, listed)
        if saved is not None and listed is not None and problem is None:
            self.state = saved
            if self._expiring_within(listed, REFRESH_WHEN_EXPIRING_WITHIN):
                self.refresh()
            log.info("push.webhook_resumed", webhook_id=saved.webhook_id, cursor=saved.cursor)
            return None
        self.replace(problem or "no usable webhook", hooks, saved.webhook_id if saved else None)
        return problem

    def unusable(self, saved: WebhookState | None, listed: WebhookInfo | None) -> str | None:
        """Why the saved webhook cannot be used, or None when it can."""
        if saved is None:
            return "no saved cursor (first start, or STATE_DIR was lost)"
        if listed is None:
            return "the webhook is gone from the base"
        if not listed.enabled or self._expiring_within(listed, timedelta(0)):
            return "the webhook is disabled or expired"
        if not listed.giftbridge_spec:
            return "the webhook's specification is not giftbridge's"
        if listed.notification_url != self.notification_url:
            return "the notification URL changed (AIRTABLE_PUSH or PUBLIC_URL)"
        if self.notification_url is not None and not listed.notifications_enabled:
            return "Airtable turned the webhook's notifications off"
        if saved.cursor > listed.cursor_for_next_payload:
            return "the saved cursor is ahead of the webhook's"
        return None

    def replace(
        self, reason: str, hooks: list[WebhookInfo] | None = None, old_id: str | None = None
    ) -> None:
        """Delete the old one (if listed) and the stale giftbridge webhooks, then create a new
        one at cursor 1."""
        current = old_id or (self.state.webhook_id if self.state else None)
        self.state = None
        for hook in hooks if hooks is not None else self._webhooks.list_webhooks():
            if hook.giftbridge_spec and (hook.id == current or self._stale(hook)):
                self._webhooks.delete_webhook(hook.id)
                log.info("push.webhook_deleted", webhook_id=hook.id)
        created = self._webhooks.create_webhook(self.notification_url)
        state = WebhookState(
            self.base_id, created.id, created.mac_secret_base64, 1, self.notification_url
        )
        self._file.save(state)
        self.state = state
        self.created += 1
        log.info("push.webhook_created", webhook_id=created.id, reason=reason)

    # --- check and refresh --------------------------------------------------------------
    def check(self) -> str | None:
        """List the webhooks; replace ours when it is unusable (returns why), refresh it."""
        hooks = self._webhooks.list_webhooks()
        state = self.state
        listed = next((h for h in hooks if state and h.id == state.webhook_id), None)
        problem = self.unusable(state, listed)
        if problem is not None or listed is None:
            problem = problem or "the webhook is gone from the base"
            log.warning("push.webhook_lost", reason=problem)
            self.replace(problem, hooks, state.webhook_id if state else None)
            return problem
        self.notification_failure = listed.notification_failure if self.notification_url else None
        self.unread_payloads = listed.cursor_for_next_payload > (state.cursor if state else 1)
        return None

    def refresh(self) -> None:
        if self.state is None:
            return
        expires = self._webhooks.refresh_webhook(self.state.webhook_id)
        log.info("push.webhook_refreshed", webhook_id=self.state.webhook_id, expires=str(expires))

    # --- payloads -----------------------------------------------------------------------
    def read(self) -> ReadResult:
        """Every payload since the cursor (at most ``MAX_PAGES_PER_READ`` pages)."""
        if self.state is None:
            raise WebhookGone("no webhook")
        count, wake, broken = 0, None, None
        for _ in range(MAX_PAGES_PER_READ):
            state = self.state
            try:
                page = self._webhooks.read_payloads(state.webhook_id, state.cursor)
            except Permanent as exc:
                if exc.status == 404:
                    raise WebhookGone("the webhook is gone from the base") from exc
                if exc.status in (400, 422):
                    raise WebhookGone(f"Airtable refused the saved cursor ({exc.code})") from exc
                raise
            count += len(page.payloads)
            wake = wake or self._why_wake(page.payloads)
            broken = broken or next((p.error_code for p in page.payloads if p.error_code), None)
            if page.cursor != state.cursor:
                self.state = state.at(page.cursor)
                self._file.save(self.state)
            if not page.might_have_more:
                break
        return ReadResult(count, wake, broken)

    def _why_wake(self, payloads: tuple[PayloadSummary, ...]) -> str | None:
        requests = self._request_table_ids or frozenset()
        for payload in payloads:
            if payload.error_code:
                return f"the webhook reported {payload.error_code}"
            if payload.source != PUBLIC_API and payload.table_ids & requests:
                return f"a request table changed ({payload.source})"
        return None

    # --- helpers ------------------------------------------------------------------------
    def _now(self) -> datetime:
        return self._clock.now()

    def _expiring_within(self, hook: WebhookInfo, window: timedelta) -> bool:
        return hook.expiration_time is not None and hook.expiration_time <= self._now() + window

    def _stale(self, hook: WebhookInfo) -> bool:
        return not hook.enabled or self._expiring_within(hook, STALE_WHEN_EXPIRING_WITHIN)
