"""Typed writes across the AirtablePort: what a prong asks to be written, in the domain's words.

The reads come back as the typed rows of :mod:`clients.records`; the writes go in as these
commands. Which Airtable columns each one fills is the adapter's business, written once in
:mod:`clients.airtable_columns` (the real adapter and the test fake both use it), so no use case
ever spells a column name.

Each command writes exactly the cells its fields name; a field that is ``None`` clears its cell
where the command says so (a void reason cleared on reactivation, an expiry cleared for "never
expires"), and is simply left out where it says "when given".

- Request rows: :class:`RecordIntent` (Status Processing, before the outside call) and one
  closing per queue (:class:`CloseRedemption`, :class:`CloseCreation`,
  :class:`CloseBalanceCheck`, :class:`CloseCardAction`), plus the two redemption-only writes
  (:class:`RecordRedemptionRefusal`, :class:`CloseRedemptionMinimally`); a bulk import's new
  rows: :class:`NewCreationRequest`.
- Shopify Orders rows: :class:`RecordOrder`.
- Gift Cards rows: :class:`NewCardRow` to create; :class:`ActivateCard`,
  :class:`AbandonPendingCard`, :class:`FillCodeDigest`, :class:`MirrorBalance`,
  :class:`VoidCard`, :class:`ReactivateCard`, :class:`ChangeExpiry` and :class:`ExpireCard` to
  update.
- Status rows: :mod:`clients.status_commands`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import ClassVar

from cards.money import Money
from cards.vocab import (
    BalanceOutcome,
    CardActionOutcome,
    CardSource,
    CardStatus,
    Channel,
    CreationOutcome,
    Kind,
    OrderKind,
    OrderOutcome,
    RedemptionOutcome,
    RequestStatus,
    Theme,
)


class Queue(StrEnum):
    """The four request tables."""

    REDEMPTIONS = "redemptions"
    CREATIONS = "creations"
    BALANCE_CHECKS = "balance checks"
    CARD_ACTIONS = "card actions"


# --- request rows -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RecordIntent:
    """Status Processing before the outside call; a redemption also links its card."""

    queue: Queue
    request_id: str
    card_id: str | None = None  # linked when given


@dataclass(frozen=True, slots=True)
class RecordRedemptionRefusal:
    """Shopify's refusal of a debit, recorded (still Processing) before anything acts on it."""

    request_id: str
    outcome: RedemptionOutcome
    message: str
    queue: ClassVar[Queue] = Queue.REDEMPTIONS


@dataclass(frozen=True, slots=True)
class CloseRedemption:
    """The full closing of a store redemption: every result cell (None clears it)."""

    request_id: str
    status: RequestStatus
    outcome: RedemptionOutcome
    message: str
    processed_at: datetime
    masked_code: str | None  # replaces what staff typed
    card_id: str | None
    balance_after: Money | None
    transaction_id: str | None  # the Shopify debit's GID
    queue: ClassVar[Queue] = Queue.REDEMPTIONS


@dataclass(frozen=True, slots=True)
class CloseRedemptionMinimally:
    """Needs Attention with only the cells Airtable cannot refuse (no link, no amount), for a
    redemption whose full closing Airtable refused."""

    request_id: str
    outcome: RedemptionOutcome
    message: str
    processed_at: datetime
    masked_code: str | None
    queue: ClassVar[Queue] = Queue.REDEMPTIONS


@dataclass(frozen=True, slots=True)
class CloseCreation:
    request_id: str
    status: RequestStatus
    outcome: CreationOutcome
    message: str
    processed_at: datetime
    card_id: str | None = None  # linked when given (a created card)
    queue: ClassVar[Queue] = Queue.CREATIONS


@dataclass(frozen=True, slots=True)
class CloseBalanceCheck:
    request_id: str
    status: RequestStatus
    outcome: BalanceOutcome
    processed_at: datetime
    masked_code: str | None  # replaces what the customer typed
    code_digest: str | None = None  # of the code checked: the per-code hourly limit's key
    message: str | None = None  # Result Message: what went wrong, for a check needing attention
    queue: ClassVar[Queue] = Queue.BALANCE_CHECKS


@dataclass(frozen=True, slots=True)
class CloseCardAction:
    request_id: str
    status: RequestStatus
    outcome: CardActionOutcome
    message: str
    processed_at: datetime
    queue: ClassVar[Queue] = Queue.CARD_ACTIONS


RequestWrite = (
    RecordIntent
    | RecordRedemptionRefusal
    | CloseRedemption
    | CloseRedemptionMinimally
    | CloseCreation
    | CloseBalanceCheck
    | CloseCardAction
)


@dataclass(frozen=True, slots=True)
class NewCreationRequest:
    """A Creation Requests row a bulk import writes (Channel Bulk), upserted on its Import Key
    (``import:<batch>:<line>``) so that importing a file twice writes each row once."""

    import_key: str
    batch: str
    amount: Money
    purchaser_name: str
    purchaser_email: str | None
    recipient_name: str
    recipient_email: str
    is_gift: bool
    message: str | None = None
    kind: Kind | None = None
    theme: Theme | None = None
    store_id: str | None = None  # linked when given
    channel: Channel = Channel.BULK

    def __repr__(self) -> str:  # names and addresses stay out of logs
        return f"NewCreationRequest({self.import_key}, {self.amount})"


# --- Shopify Orders rows ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RecordOrder:
    """The order's row of this kind (one per order and kind, upserted on both)."""

    order_id: str  # the order's GID
    order_name: str  # "#1001"
    kind: OrderKind
    outcome: OrderOutcome
    card_ids: tuple[str, ...]
    processed_at: datetime


# --- Gift Cards rows --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NewCardRow:
    """A Gift Cards row to create (cells left None stay empty). Never a plaintext code: the
    digest, the sealed code, the masked code and the last characters only."""

    origin_key: str | None = None
    shopify_id: str | None = None
    code_digest: str | None = None
    code_sealed: str | None = None
    masked_code: str | None = None
    last_characters: str | None = None
    status: CardStatus | None = None
    kind: Kind | None = None
    currency: str | None = None
    initial_value: Money | None = None
    balance: Money | None = None
    source: CardSource | None = None
    store_id: str | None = None
    issued_at: datetime | None = None
    expires_on: date | None = None
    purchaser_name: str | None = None
    purchaser_email: str | None = None
    recipient_name: str | None = None
    recipient_email: str | None = None
    message: str | None = None
    theme: Theme | None = None
    shopify_order: str | None = None
    last_synced_at: datetime | None = None

    def __repr__(self) -> str:  # holder details stay out of logs
        return f"NewCardRow({self.origin_key}, {self.masked_code})"


@dataclass(frozen=True, slots=True)
class ActivateCard:
    """Pending -> Active once the Shopify card exists: its GID, expiry and balance."""

    card_id: str
    shopify_id: str
    expires_on: date | None
    balance: Money
    at: datetime  # Issued At, Last Activity At and Last Synced At


@dataclass(frozen=True, slots=True)
class AbandonPendingCard:
    """Pending -> Voided without the digest and sealed code: the code belongs to no card of
    ours."""

    card_id: str
    reason: str


@dataclass(frozen=True, slots=True)
class FillCodeDigest:
    """A card Shopify issued, once someone presents its code: the lookup key, masked code and
    last characters."""

    card_id: str
    code_digest: str
    masked_code: str
    last_characters: str


@dataclass(frozen=True, slots=True)
class MirrorBalance:
    """Shopify's balance into the row (never computed in Airtable)."""

    card_id: str
    balance: Money
    synced_at: datetime
    status: CardStatus | None = None  # written when given
    activity_at: datetime | None = None  # Last Activity At, written when given


@dataclass(frozen=True, slots=True)
class VoidCard:
    card_id: str
    void_reason: str  # the operator's reason and giftbridge's trailer
    balance: Money
    shopify_id: str | None  # the Shopify card, found again for a Pending row (None clears)
    at: datetime  # Last Activity At and Last Synced At


@dataclass(frozen=True, slots=True)
class ReactivateCard:
    """Voided -> Active, the Void Reason cleared."""

    card_id: str
    balance: Money
    at: datetime  # Last Activity At and Last Synced At


@dataclass(frozen=True, slots=True)
class ChangeExpiry:
    card_id: str
    expires_on: date | None  # None: never expires (clears the cell)
    status: CardStatus
    at: datetime  # Last Activity At and Last Synced At


@dataclass(frozen=True, slots=True)
class ExpireCard:
    """Active -> Expired once Shopify agrees: the date that held (Shopify's) and the balance
    Shopify keeps (the mirror; the books count it as expired)."""

    card_id: str
    expires_on: date
    balance: Money
    at: datetime  # Last Activity At and Last Synced At


CardUpdate = (
    ActivateCard
    | AbandonPendingCard
    | FillCodeDigest
    | MirrorBalance
    | VoidCard
    | ReactivateCard
    | ChangeExpiry
    | ExpireCard
)
