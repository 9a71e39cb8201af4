"""Typed values that cross the ports: Airtable rows, Shopify cards and orders, emails.

Adapters build these from wire formats; prongs never see JSON. Amounts typed by people (request
amounts) stay ``Decimal | None`` so a prong can answer "Invalid Amount" instead of an adapter
crashing; amounts giftbridge wrote or Shopify returned are ``Money``. Empty Airtable cells are
``None`` (or an empty tuple, or False), exactly as Airtable omits them.

Writes to Airtable are the typed commands of :mod:`clients.commands`; the adapter maps them to
columns (:mod:`clients.airtable_columns`), as it maps records to these rows.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from cards.money import Money
from cards.vocab import (
    CardActionType,
    CardSource,
    CardStatus,
    Channel,
    Kind,
    Metric,
    OrderKind,
    OrderOutcome,
    ProngState,
    ReceiptAction,
    ReceiptSource,
    RequestStatus,
    Theme,
)

# --- Airtable rows -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Store:
    id: str
    name: str
    email: str | None = None
    location_code: str | None = None
    active: bool = False


@dataclass(frozen=True, slots=True)
class CardRow:
    """A Gift Cards row: the primary record of one card. Never holds a plaintext code."""

    id: str
    masked_code: str | None = None
    last_characters: str | None = None
    code_digest: str | None = None
    code_sealed: str | None = None
    shopify_id: str | None = None
    origin_key: str | None = None
    status: CardStatus | None = None
    kind: Kind | None = None
    currency: str | None = None
    initial_value: Money | None = None
    balance: Money | None = None
    source: CardSource | None = None
    store_ids: tuple[str, ...] = ()
    issued_at: datetime | None = None
    expires_on: date | None = None
    last_activity_at: datetime | None = None
    purchaser_name: str | None = None
    purchaser_email: str | None = None
    recipient_name: str | None = None
    recipient_email: str | None = None
    message: str | None = None
    theme: Theme | None = None
    shopify_order: str | None = None
    certificate_ids: tuple[str, ...] = ()
    void_reason: str | None = None
    last_synced_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class RedemptionRequest:
    id: str
    created_time: datetime
    code_text: str | None = None
    store_ids: tuple[str, ...] = ()
    amount: Decimal | None = None
    order_total: Decimal | None = None
    staff_name: str | None = None
    status: RequestStatus | None = None
    outcome: str | None = None
    card_ids: tuple[str, ...] = ()
    balance_after: Decimal | None = None
    shopify_transaction_id: str | None = None
    result_message: str | None = None
    processed_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class CreationRequest:
    id: str
    created_time: datetime
    purchaser_name: str | None = None
    purchaser_email: str | None = None
    recipient_name: str | None = None
    recipient_email: str | None = None
    is_gift: bool = False
    message: str | None = None
    amount: Decimal | None = None
    kind: Kind | None = None
    store_ids: tuple[str, ...] = ()
    theme: Theme | None = None
    channel: Channel | None = None
    status: RequestStatus | None = None
    outcome: str | None = None
    card_ids: tuple[str, ...] = ()
    result_message: str | None = None
    processed_at: datetime | None = None
    batch: str | None = None  # a bulk import's batch (Channel Bulk)
    import_key: str | None = None  # import:<batch>:<line>


@dataclass(frozen=True, slots=True)
class BalanceCheckRequest:
    id: str
    created_time: datetime
    code_text: str | None = None
    email: str | None = None
    status: RequestStatus | None = None
    outcome: str | None = None
    processed_at: datetime | None = None
    code_digest: str | None = None  # of the code checked, written when it was answered


@dataclass(frozen=True, slots=True)
class CardActionRequest:
    id: str
    created_time: datetime
    requested_by: str | None = None
    card_ids: tuple[str, ...] = ()
    action: CardActionType | None = None
    reason: str | None = None
    amount: Decimal | None = None
    new_expiry: date | None = None
    status: RequestStatus | None = None
    outcome: str | None = None
    result_message: str | None = None
    processed_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Receipt:
    """One Receipts row; ``reference`` is unique (upserted on)."""

    reference: str
    action: ReceiptAction
    at: datetime
    source: ReceiptSource
    card_id: str | None = None
    store_id: str | None = None
    amount: Money | None = None
    balance_before: Money | None = None
    balance_after: Money | None = None
    request: str | None = None
    shopify_reference: str | None = None
    details: str | None = None


@dataclass(frozen=True, slots=True)
class OrderRow:
    """A Shopify Orders row: one per order and kind."""

    id: str
    order_id: str
    kind: OrderKind
    order_name: str | None = None
    card_ids: tuple[str, ...] = ()
    outcome: OrderOutcome | None = None
    processed_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class StatusRow:
    id: str
    prong: str
    state: ProngState | None = None
    owner: str | None = None
    lease_expires_at: datetime | None = None
    heartbeat_at: datetime | None = None
    last_started_at: datetime | None = None
    last_finished_at: datetime | None = None
    last_success_at: datetime | None = None
    last_run_processed: int | None = None
    last_error: str | None = None


# --- Shopify --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ShopifyCard:
    id: str  # gid://shopify/GiftCard/<n>
    last_characters: str
    balance: Money
    initial_value: Money
    enabled: bool
    expires_on: date | None = None
    deactivated_at: datetime | None = None
    note: str | None = None
    created_at: datetime | None = None
    order_id: str | None = None
    order_name: str | None = None


@dataclass(frozen=True, slots=True)
class CardState:
    """What the audit compares of a Shopify card: a lean read (no initial value, no order), so a
    page of 250 costs Shopify two points a card. ``updated_at`` is Shopify's ``updatedAt``."""

    id: str  # gid://shopify/GiftCard/<n>
    last_characters: str
    balance: Money
    enabled: bool
    updated_at: datetime
    expires_on: date | None = None
    deactivated_at: datetime | None = None
    note: str | None = None
    created_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class CardStatePage:
    """One page of cards in ascending id order; ``has_next_page`` when more follow."""

    cards: tuple[CardState, ...]
    has_next_page: bool = False


class TransactionKind(StrEnum):
    CREDIT = "credit"
    DEBIT = "debit"


@dataclass(frozen=True, slots=True)
class CardTransaction:
    """A gift card credit or debit; ``amount`` is always positive, ``kind`` says which way."""

    id: str
    kind: TransactionKind
    amount: Money
    processed_at: datetime
    note: str | None = None


@dataclass(frozen=True, slots=True)
class TransactionResult:
    """What a debit or credit returned: the transaction and the card's balance after it."""

    transaction: CardTransaction
    balance_after: Money


@dataclass(frozen=True, slots=True)
class LineItem:
    id: str
    quantity: int
    is_gift_card: bool
    unit_price: Money
    sku: str | None = None
    name: str | None = None
    attributes: Mapping[str, str] = field(default_factory=dict)  # custom attributes as given


@dataclass(frozen=True, slots=True)
class OrderTransaction:
    id: str
    gateway: str
    kind: str  # SALE, CAPTURE, REFUND, AUTHORIZATION, ...
    status: str  # SUCCESS, FAILURE, PENDING, ...
    amount: Money
    processed_at: datetime | None = None
    gift_card_id: str | None = None  # GID of the card a gift_card transaction names


@dataclass(frozen=True, slots=True)
class ShopifyOrder:
    id: str
    name: str
    created_at: datetime
    currency: str
    tags: frozenset[str] = frozenset()
    financial_status: str | None = None
    customer_email: str | None = None
    customer_name: str | None = None
    line_items: tuple[LineItem, ...] = ()
    transactions: tuple[OrderTransaction, ...] = ()
    updated_at: datetime | None = None
    test: bool = False


@dataclass(frozen=True, slots=True)
class OrderPage:
    orders: tuple[ShopifyOrder, ...]
    end_cursor: str | None = None
    has_next_page: bool = False


# --- Emails and certificates ------------------------------------------------------------------

EventValue = str | bool | int | None  # int: counts such as days_left (a Klaviyo number)


@dataclass(frozen=True, slots=True)
class EmailEvent:
    """One Klaviyo event; a Klaviyo flow turns it into an email to ``email``."""

    metric: Metric
    email: str
    unique_id: str
    properties: Mapping[str, EventValue]
    time: datetime

    def __repr__(self) -> str:  # properties may hold the full code: never in a repr
        return f"EmailEvent({self.metric.value}, unique_id={self.unique_id})"


@dataclass(frozen=True, slots=True)
class CertificateData:
    """What a PDF certificate shows. ``code_display`` is the masked code for the record copy in
    Airtable and the full code only for the printable certificate, which alone also sets
    ``full_code`` (drawn as the QR code Shopify POS scans). ``balance`` (Shopify's, at
    ``balance_on``) is set on a reprint and shown beside the initial ``amount``."""

    business_name: str
    code_display: str
    amount: Money
    kind: Kind
    theme: Theme
    expires_on: date | None
    recipient_name: str | None = None
    sender_name: str | None = None
    message: str | None = None
    balance: Money | None = None
    balance_on: date | None = None
    full_code: str | None = None

    def __repr__(self) -> str:
        return f"CertificateData({self.business_name}, {self.amount})"
