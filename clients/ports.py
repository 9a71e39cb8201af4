"""The ports: what the prongs need from the outside, as small ``typing.Protocol``s.

Every method may raise the classes of :mod:`clients.errors` and nothing else:

- ``Retryable``: nothing happened; the adapter already retried within its own bounded policy.
- ``AmbiguousOutcome``: it may have happened. For Shopify debits, credits and card creation the
  caller must read back (``find_transaction_by_note``, ``find_cards_by_code``) before retrying.
  For Airtable writes keyed by an upsert field, or by a record id, re-sending is safe.
- ``Permanent``: refused; ``code`` says why (Shopify userError code, Airtable error type).

Concrete adapters live beside this module; prongs import only this module, :mod:`clients.records`
and :mod:`clients.errors`. Test fakes in ``tests/fakes`` implement the same protocols.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from enum import IntEnum
from typing import Protocol

from cards.codes import Code
from cards.money import Money
from cards.vocab import OrderKind, OrderOutcome
from clients.errors import Permanent
from clients.records import (
    BalanceCheckRequest,
    CardActionRequest,
    CardRow,
    CardTransaction,
    CertificateData,
    Changes,
    CreationRequest,
    EmailEvent,
    OrderPage,
    OrderRow,
    Receipt,
    RedemptionRequest,
    ShopifyCard,
    ShopifyOrder,
    StatusRow,
    Store,
    TransactionResult,
)
from clients.webhook_records import NewWebhook, PayloadPage, WebhookInfo

# --- priority: store redemptions overtake everything else at the shared rate limiters -----------


class Priority(IntEnum):
    """Lower runs first at a shared limiter."""

    REDEMPTION = 0
    NORMAL = 1
    BULK = 2


_PRIORITY: contextvars.ContextVar[Priority] = contextvars.ContextVar(
    "giftbridge_priority", default=Priority.NORMAL
)


@contextmanager
def priority(level: Priority) -> Iterator[None]:
    """Calls made inside this block (on this thread) queue at ``level`` at the rate limiters."""
    token = _PRIORITY.set(level)
    try:
        yield
    finally:
        _PRIORITY.reset(token)


def current_priority() -> Priority:
    return _PRIORITY.get()


# --- time -----------------------------------------------------------------------------------


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        ...

    def monotonic(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...


# --- Airtable -------------------------------------------------------------------------------


class AirtablePort(Protocol):
    """The base's records. Queue reads return records whose Status is blank (new) or
    Processing (resume), oldest first, at most ``limit``; one request per call when the
    queue is short."""

    def pending_redemptions(self, limit: int) -> list[RedemptionRequest]: ...

    def pending_creations(self, limit: int) -> list[CreationRequest]: ...

    def pending_balance_checks(self, limit: int) -> list[BalanceCheckRequest]: ...

    def pending_card_actions(self, limit: int) -> list[CardActionRequest]: ...

    def recent_balance_checks(self, since: datetime) -> list[BalanceCheckRequest]:
        """Balance checks processed at or after ``since`` (for the hourly limits)."""
        ...

    def update_request(self, table: str, record_id: str, changes: Changes) -> None:
        """PATCH one request row (table = a request table's name from config.layout)."""
        ...

    def update_requests(
        self, table: str, updates: Sequence[tuple[str, Changes]]
    ) -> dict[str, Permanent]:
        """PATCH many request rows of one table, 10 a request (one record named twice is
        merged, later changes winning). Returns the records Airtable refused, each with its
        error; every other record was written: a refused chunk is written again one record at a
        time, so one bad record never costs the others. Transport failures raise (re-sending
        the whole call is safe)."""
        ...

    def get_card(self, record_id: str) -> CardRow | None: ...

    def find_card(
        self,
        *,
        digest: str | None = None,
        origin_key: str | None = None,
        shopify_id: str | None = None,
    ) -> CardRow | None:
        """The Gift Cards row matching exactly one given key, or None. Raises
        ``InvariantViolation`` when several rows match (a duplicate a person must resolve)."""
        ...

    def find_cards_by_digests(self, digests: Sequence[str]) -> dict[str, list[CardRow]]:
        """Gift Cards rows by Code Digest, in as few reads as fit a short formula: digest ->
        its rows (more than one is a duplicate for the caller to report); digests without a
        row are absent. Empty strings are never looked up."""
        ...

    def search_cards(self, text: str, limit: int = 20) -> list[CardRow]:
        """Operator search: cards whose last characters, holder or purchaser name or email,
        Shopify order or origin key contain ``text`` (any case), or whose Status is ``text``."""
        ...

    def create_card(self, changes: Changes) -> CardRow:
        """Create a Gift Cards row. Ambiguous on a lost response: look it up by Origin Key."""
        ...

    def update_card(self, record_id: str, changes: Changes) -> CardRow: ...

    def update_cards(self, updates: Sequence[tuple[str, Changes]]) -> dict[str, Permanent]:
        """PATCH many Gift Cards rows; batching and result as :meth:`update_requests`."""
        ...

    def stores(self) -> list[Store]: ...

    def upsert_receipts(self, receipts: Sequence[Receipt]) -> None:
        """Upsert on Reference, 10 a request: a replay never adds a second receipt."""
        ...

    def receipt_references(self, references: Sequence[str]) -> set[str]:
        """Which of these references already have a receipt."""
        ...

    def order_rows(self, order_id: str) -> list[OrderRow]:
        """Shopify Orders rows of one order (its GID), any kind."""
        ...

    def record_order(
        self,
        *,
        order_id: str,
        order_name: str,
        kind: OrderKind,
        outcome: OrderOutcome,
        card_ids: Sequence[str],
        processed_at: datetime,
    ) -> OrderRow:
        """Upsert the row for (order, kind)."""
        ...

    def known_card_ids_by_shopify_id(self, shopify_ids: Sequence[str]) -> dict[str, CardRow]:
        """Gift Cards rows for these Shopify GIDs (missing ones are absent from the result)."""
        ...

    def attach_certificate(self, card_id: str, filename: str, content: bytes) -> None:
        """Replace the card's Certificate attachment with this PDF."""
        ...

    def status_rows(self) -> list[StatusRow]:
        """Every Status row, in one read."""
        ...

    def create_status_row(self, prong: str, changes: Changes) -> StatusRow: ...

    def update_status_row(self, record_id: str, changes: Changes) -> None: ...

    def update_status_rows(self, updates: Sequence[tuple[str, Changes]]) -> None:
        """Up to 10 Status rows in ONE request (the idle heartbeats of every prong)."""
        ...


# --- Shopify --------------------------------------------------------------------------------


class ShopifyPort(Protocol):
    def get_card(self, card_id: str) -> ShopifyCard | None: ...

    def find_cards_by_code(self, code: Code) -> list[ShopifyCard]:
        """Shopify's code search (case-insensitive); usually zero or one card."""
        ...

    def create_card(
        self, code: Code, initial_value: Money, note: str, expires_on: date | None
    ) -> ShopifyCard:
        """giftCardCreate with our code, ``notify: false`` and ``note``. Raises ``CodeTaken`` on
        TAKEN and ``AmbiguousOutcome`` if the card may have been created."""
        ...

    def debit(self, card_id: str, amount: Money, note: str) -> TransactionResult:
        """giftCardDebit. ``Permanent`` with the userError code (INSUFFICIENT_FUNDS, ...);
        ``AmbiguousOutcome`` if the debit may have been applied: read back by note."""
        ...

    def credit(self, card_id: str, amount: Money, note: str) -> TransactionResult:
        """giftCardCredit; errors as for :meth:`debit`."""
        ...

    def find_transaction_by_note(
        self, card_id: str, note: str, since: datetime | None = None
    ) -> CardTransaction | None:
        """The card's transaction whose note is exactly ``note``, searching newest first and
        stopping at transactions older than ``since`` (None: all)."""
        ...

    def transactions(self, card_id: str, limit: int = 50) -> list[CardTransaction]:
        """The card's most recent transactions, newest first."""
        ...

    def set_expiry(self, card_id: str, expires_on: date | None) -> ShopifyCard: ...

    def search_orders(
        self,
        *,
        created_since: datetime | None = None,
        updated_since: datetime | None = None,
        without_tag: str | None = None,
        paid_by_gift_card: bool = False,
        financial_status: str | None = None,
        after: str | None = None,
        page_size: int = 10,
    ) -> OrderPage: ...

    def get_order(self, order_id: str) -> ShopifyOrder | None: ...

    def cards_for_order(self, order_id: str) -> list[ShopifyCard]:
        """Cards Shopify issued for this order's native gift-card line items."""
        ...

    def add_tags(self, order_id: str, tags: Sequence[str]) -> None:
        """tagsAdd (never orderUpdate, which replaces every tag)."""
        ...

    def access_scopes(self) -> set[str]: ...


# --- Klaviyo --------------------------------------------------------------------------------


class EmailPort(Protocol):
    def send(self, event: EmailEvent) -> None:
        """Create the Klaviyo event. Re-sending the same ``unique_id`` is safe (Klaviyo drops
        the repeat), so ``AmbiguousOutcome`` may simply be retried with the same event."""
        ...


# --- certificates ---------------------------------------------------------------------------


class CertificatePort(Protocol):
    def render(self, data: CertificateData) -> bytes:
        """A PDF. Pure computation: never raises a ClientError."""
        ...


# --- Airtable webhooks (push) ---------------------------------------------------------------


class WebhookPort(Protocol):
    """The base's webhooks (DESIGN.md, Running, Push). One Airtable request per call; nothing
    is retried inside (the push loop has its own rhythm). A webhook that is not there is
    ``Permanent`` with ``status`` 404."""

    def list_webhooks(self) -> list[WebhookInfo]: ...

    def create_webhook(self, notification_url: str | None) -> NewWebhook:
        """With :func:`clients.webhook_records.giftbridge_specification`. Not idempotent: after
        ``AmbiguousOutcome`` a webhook may exist whose secret we never saw (left to expire)."""
        ...

    def refresh_webhook(self, webhook_id: str) -> datetime | None:
        """Extend its life to 7 days from now; returns the new expiration time."""
        ...

    def delete_webhook(self, webhook_id: str) -> None:
        """Delete it; one that is already gone counts as deleted."""
        ...

    def read_payloads(self, webhook_id: str, cursor: int) -> PayloadPage:
        """One page (up to 50) of payloads from ``cursor`` on."""
        ...

    def table_ids(self) -> dict[str, str]:
        """Table name -> table id for every table of the base (one Metadata API read)."""
        ...
