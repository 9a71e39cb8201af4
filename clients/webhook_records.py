"""What the push machinery needs to know about Airtable webhooks, as plain values.

giftbridge keeps one webhook on the base (DESIGN.md, Running, Push) with one specification:
record data (``tableData``) of every table, from every source except ``publicApi``, so the
daemon's own REST writes never wake it while a form, a person in Airtable's interface, an
automation or a sync does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

#: Airtable's change sources (webhooks specification, ``fromSources``) minus ``publicApi``.
GIFTBRIDGE_SOURCES = (
    "client",
    "formSubmission",
    "formPageSubmission",
    "automation",
    "system",
    "sync",
    "anonymousUser",
    "unknown",
)
PUBLIC_API = "publicApi"


def giftbridge_specification() -> dict[str, Any]:
    """The specification giftbridge creates its webhook with (``recordChangeScope`` unset: the
    request tables are told apart in the payloads, by table id)."""
    return {
        "options": {
            "filters": {"dataTypes": ["tableData"], "fromSources": list(GIFTBRIDGE_SOURCES)}
        }
    }


@dataclass(frozen=True, slots=True)
class WebhookInfo:
    """One webhook as the list endpoint shows it."""

    id: str
    enabled: bool
    notifications_enabled: bool
    notification_url: str | None
    cursor_for_next_payload: int
    expiration_time: datetime | None
    #: Created with :func:`giftbridge_specification` (by this or another giftbridge process).
    giftbridge_spec: bool
    #: The last notification's error message, when Airtable's last ping failed.
    notification_failure: str | None = None


@dataclass(frozen=True, slots=True)
class NewWebhook:
    id: str
    #: The MAC secret; Airtable shows it once, at creation. Never logged.
    mac_secret_base64: str = field(repr=False)
    expiration_time: datetime | None = None


@dataclass(frozen=True, slots=True)
class PayloadSummary:
    """One payload, reduced to what decides a wake-up: where the change came from and which
    tables it touched (ids), or the error a broken webhook reports instead."""

    source: str | None
    table_ids: frozenset[str]
    error_code: str | None = None


@dataclass(frozen=True, slots=True)
class PayloadPage:
    payloads: tuple[PayloadSummary, ...]
    #: The cursor to ask for next (Airtable's, which may skip payloads it no longer keeps).
    cursor: int
    might_have_more: bool
