"""The :class:`clients.ports.WebhookPort` over pyairtable: the base's webhooks and their payloads.

Every request goes through the shared per-base limiter (the same ``LimitedSession`` as every
other Airtable call: the webhooks API shares the base's 5 requests per second), with the call
timeout, and every failure becomes a class of :mod:`clients.errors`.

pyairtable is used for what fits: ``Base.webhooks()`` (list), ``Base.schema()`` (table ids), its
URL builder and its models (``CreateWebhookResponse``, ``WebhookPayloads``). Three calls are
sent through ``Api.request`` instead, for reasons of its API rather than Airtable's:
``Base.add_webhook`` insists on a notification URL (poll mode has none); a ``Webhook``'s own
``extend_expiration``/``delete``/``payloads`` need a ``Webhook`` object, i.e. a list call before
each; and ``Webhook.payloads()`` numbers payloads from the cursor asked for and never reports the
next cursor of an empty page, where Airtable's ``cursor`` field is the truth.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pyairtable import Api
from pyairtable.models.webhook import (
    CreateWebhookResponse,
    Webhook,
    WebhookPayload,
    WebhookPayloads,
)

from clients.airtable_errors import DEFAULT_PENALTY, translate
from clients.errors import ClientError, Permanent
from clients.webhook_records import (
    GIFTBRIDGE_SOURCES,
    NewWebhook,
    PayloadPage,
    PayloadSummary,
    WebhookInfo,
    giftbridge_specification,
)


class AirtableWebhooks:
    def __init__(self, api: Api, base_id: str, *, penalty: float = DEFAULT_PENALTY) -> None:
        self._api = api
        self._base = api.base(base_id)
        self._penalty = penalty

    def close(self) -> None:
        self._api.session.close()

    def _url(self, webhook_id: str, *parts: str) -> str:
        return str(self._base.urls.webhooks.add_path(webhook_id, *parts))

    def _translated(self, error: Exception, operation: str, *, write: bool) -> ClientError:
        return translate(error, operation, write=write, penalty=self._penalty)

    # --- the port -----------------------------------------------------------------------
    def list_webhooks(self) -> list[WebhookInfo]:
        try:
            return [_info(hook) for hook in self._base.webhooks()]
        except Exception as exc:
            raise self._translated(exc, "list webhooks", write=False) from exc

    def create_webhook(self, notification_url: str | None) -> NewWebhook:
        body: dict[str, Any] = {"specification": giftbridge_specification()}
        if notification_url is not None:
            body["notificationUrl"] = notification_url
        try:
            raw = self._api.post(self._base.urls.webhooks, json=body)
            created = CreateWebhookResponse.from_api(raw, self._api)
        except Exception as exc:
            raise self._translated(exc, "create webhook", write=True) from exc
        return NewWebhook(created.id, created.mac_secret_base64, created.expiration_time)

    def refresh_webhook(self, webhook_id: str) -> datetime | None:
        try:
            raw = self._api.post(self._url(webhook_id, "refresh"))
        except Exception as exc:
            raise self._translated(exc, "refresh webhook", write=True) from exc
        value = raw.get("expirationTime") if isinstance(raw, dict) else None
        return datetime.fromisoformat(value) if isinstance(value, str) else None

    def delete_webhook(self, webhook_id: str) -> None:
        try:
            self._api.request("DELETE", self._url(webhook_id))
        except Exception as exc:
            error = self._translated(exc, "delete webhook", write=True)
            if isinstance(error, Permanent) and error.status == 404:
                return  # already gone: what we wanted
            raise error from exc

    def read_payloads(self, webhook_id: str, cursor: int) -> PayloadPage:
        try:
            raw = self._api.get(self._url(webhook_id, "payloads"), params={"cursor": cursor})
            page = WebhookPayloads.from_api(raw, self._api)
        except Exception as exc:
            raise self._translated(exc, "read webhook payloads", write=False) from exc
        return PayloadPage(
            tuple(_summary(p) for p in page.payloads), page.cursor, page.might_have_more
        )

    def table_ids(self) -> dict[str, str]:
        try:
            schema = self._base.schema(force=True)
        except Exception as exc:
            raise self._translated(exc, "read base schema", write=False) from exc
        return {table.name: table.id for table in schema.tables}


def _info(hook: Webhook) -> WebhookInfo:
    filters = hook.specification.options.filters
    ours = (
        filters.data_types == ["tableData"]
        and filters.record_change_scope is None
        and set(filters.from_sources) == set(GIFTBRIDGE_SOURCES)
        and not filters.change_types
        and not filters.watch_data_in_field_ids
    )
    result = hook.last_notification_result
    failure = None
    if result is not None and not result.success:
        failure = result.error.message if result.error else "the last notification failed"
    return WebhookInfo(
        id=hook.id,
        enabled=hook.is_hook_enabled,
        notifications_enabled=hook.are_notifications_enabled,
        notification_url=hook.notification_url,
        cursor_for_next_payload=hook.cursor_for_next_payload,
        expiration_time=hook.expiration_time,
        giftbridge_spec=ours,
        notification_failure=failure,
    )


def _summary(payload: WebhookPayload) -> PayloadSummary:
    source = payload.action_metadata.source if payload.action_metadata else None
    error = (payload.error_code or "ERROR") if payload.error else None
    return PayloadSummary(source, frozenset(payload.changed_tables_by_id), error)
