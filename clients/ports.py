"""The ports: what the prongs need from the outside, as small ``typing.Protocol``s.

Every method may raise the classes of :mod:`clients.errors` and nothing else:

- ``Retryable``: nothing happened; the adapter already retried within its own bounded policy.
- ``AmbiguousOutcome``: it may have happened. For Shopify debits, credits and card creation the
  caller must read back (``find_transaction_by_note``, ``find_cards_by_code``) before retrying.
  For Airtable writes keyed by an upsert field, or by a record id, re-sending is safe.
- ``Permanent``: refused; ``code`` says why (Shopify userError code, Airtable error type).

Reads return the typed rows of :mod:`clients.records`; writes take the typed commands of
:mod:`clients.commands` (which columns they fill is the adapter's business). Concrete adapters
live beside this module; prongs import only this module, :mod:`clients.records`,
:mod:`clients.commands` and :mod:`clients.errors`. Test fakes in ``tests/fakes`` implement the
same protocols.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from enum import IntEnum
from typing import Protocol

from cards.codes import Code
from cards.ledger import CardFacts, ReceiptFacts
from cards.money import Money
from cards.vocab import CardStatus, ProngState, ReceiptAction
from clients.commands import (
    CardUpdate,
    NewCardRow,
    NewCreationRequest,
    RecordOrder,
    RequestWrite,
)
from clients.errors import Permanent
from clients.records import (
    BalanceCheckRequest,
    CardActionRequest,
    CardRow,
    CardStatePage,
    CardTransaction,
    CertificateData,
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
from clients.report_records import FlaggedRequest
from clients.status_commands import StatusWrite
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

    def update_request(self, write: RequestWrite) -> None:
        """PATCH one request row (an intent, a refusal or a closing)."""
        ...

    def update_requests(self, writes: Sequence[RequestWrite]) -> dict[str, Permanent]:
        """PATCH many request rows, 10 a request per table (one record named twice is merged,
        later writes winning). Returns the records Airtable refused, each with its error;
        every other record was written: a refused chunk is written again one record at a
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

    def cards_expiring_by(self, last_day: date, limit: int) -> list[CardRow]:
        """Active Gift Cards rows whose Expires On is set and on or before ``last_day``, soonest
        first, at most ``limit``: one filtered read (a page per 100 rows)."""
        ...

    def create_card(self, card: NewCardRow) -> CardRow:
        """Create a Gift Cards row. Ambiguous on a lost response: look it up by Origin Key."""
        ...

    def create_cards(self, cards: Sequence[NewCardRow]) -> list[CardRow]:
        """Create 1 to 10 Gift Cards rows in one request, all or none, in the order given.
        Ambiguous on a lost response: look them up by Origin Key."""
        ...

    def find_cards_by_origin_keys(self, keys: Sequence[str]) -> dict[str, list[CardRow]]:
        """Gift Cards rows by Origin Key, as :meth:`find_cards_by_digests` reads digests."""
        ...

    def update_card(self, update: CardUpdate) -> CardRow: ...

    def update_cards(self, updates: Sequence[CardUpdate]) -> dict[str, Permanent]:
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

    def record_order(self, order: RecordOrder) -> OrderRow:
        """Upsert the row for (order, kind)."""
        ...

    def known_card_ids_by_shopify_id(self, shopify_ids: Sequence[str]) -> dict[str, CardRow]:
        """Gift Cards rows for these Shopify GIDs (missing ones are absent from the result)."""
        ...

    # the audit's reads (prongs.audit)
    def cards_in_shopify_range(self, after_number: int, up_to: int | None) -> list[CardRow]:
        """Gift Cards rows whose Shopify Gift Card ID is a GiftCard GID numbered above
        ``after_number`` and at most ``up_to`` (None: no upper bound), every page read at once
        (100 rows a request)."""
        ...

    def receipts_in_windows(
        self, actions: Sequence[ReceiptAction], windows: Sequence[tuple[datetime, datetime]]
    ) -> list[Receipt]:
        """Receipts of these actions whose At falls in one of the ``[start, end]`` windows."""
        ...

    def attach_certificate(
        self, card_id: str, filename: str, content: bytes, *, replace: bool = True
    ) -> None:
        """Replace the card's Certificate attachment with this PDF. ``replace=False``, for a
        row known to have none, spares the clearing write (one request instead of two) unless
        the upload has to be sent again."""
        ...

    def status_rows(self) -> list[StatusRow]:
        """Every Status row, in one read."""
        ...

    def create_status_row(self, prong: str, state: ProngState) -> StatusRow: ...

    def update_status_row(self, record_id: str, write: StatusWrite) -> None: ...

    def update_status_rows(self, updates: Sequence[tuple[str, StatusWrite]]) -> None:
        """Up to 10 Status rows in ONE request (the idle heartbeats of every prong)."""
        ...


class BulkPort(Protocol):
    """What bulk issuance and the card export read and write (``giftbridge cards import`` and
    ``cards export``; call at ``Priority.BULK``)."""

    def import_creation_requests(self, rows: Sequence[NewCreationRequest]) -> int:
        """Upsert Creation Requests rows on Import Key, 10 a request (safe to re-send);
        returns how many rows Airtable created (the others existed already)."""
        ...

    def batch_requests(self, batch: str, *, open_only: bool = False) -> list[CreationRequest]:
        """Every Creation Requests row of a bulk batch (all pages); ``open_only``: only those
        not final yet (Status blank or Processing), with their Import Key and Status alone."""
        ...

    def bulk_requests_for(self, recipient_emails: Sequence[str]) -> list[CreationRequest]:
        """Channel Bulk rows of any batch whose Recipient Email is one of these (at most 40)."""
        ...

    def iter_card_rows(self, status: CardStatus | None = None) -> Iterator[list[CardRow]]:
        """Gift Cards rows (or those in ``status``), one page (at most 100) at a time, with
        what an export shows (never the digest or the sealed code)."""
        ...


# --- Shopify --------------------------------------------------------------------------------


class ShopifyPort(Protocol):
    def get_card(self, card_id: str) -> ShopifyCard | None: ...

    def get_cards(self, card_ids: Sequence[str]) -> dict[str, ShopifyCard]:
        """Many cards by GID in few requests (``nodes``, 50 a request): GID -> card; a GID
        Shopify does not know is absent."""
        ...

    def shop_timezone(self) -> str:
        """The shop's IANA time zone (``shop.ianaTimezone``), e.g. ``America/Los_Angeles``."""
        ...

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

    def list_cards(
        self, *, after_number: int = 0, updated_since: datetime | None = None, limit: int = 250
    ) -> CardStatePage:
        """Cards numbered above ``after_number`` in ascending id order (``id:>`` search, so a
        pass resumes exactly where it stopped), optionally only those updated at or after
        ``updated_since``; at most ``limit`` (250) a page. For the audit."""
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


# --- reports and the status page's summary (reads only) --------------------------------------


class ReportSource(Protocol):
    """What ``giftbridge report`` and the status page's summary read. The ``iter_*`` methods
    yield one page (at most 100 records, Airtable's page) at a time, so a caller can show
    progress and never holds more than its own figures; an expired page iterator restarts from
    the first page without yielding a record twice. Call them at ``Priority.BULK``."""

    def iter_receipts(
        self, since: datetime | None = None, until: datetime | None = None
    ) -> Iterator[list[ReceiptFacts]]:
        """Receipts of the actions the books use (``cards.ledger.BOOKED_ACTIONS``) whose At is
        at or after ``since`` and before ``until`` (None: no bound)."""
        ...

    def iter_cards(
        self, *, issued_since: datetime | None = None, active_only: bool = False
    ) -> Iterator[list[CardFacts]]:
        """Gift Cards rows: all, or those issued at or after ``issued_since``, or Active ones."""
        ...

    def store_names(self) -> dict[str, str]:
        """Stores record id -> Name."""
        ...

    def flagged_requests(self, stuck_before: datetime) -> list[FlaggedRequest]:
        """Every request in Needs Attention, and every one whose Status became Processing
        before ``stuck_before``, from all four request tables."""
        ...

    def table_ids(self) -> dict[str, str]:
        """Table name -> table id (Metadata API), for links to records."""
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
