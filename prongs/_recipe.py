"""The exactly-once recipe (DESIGN.md, "Exactly once, across crashes") as small shared helpers.

- :func:`again_if_ambiguous` re-sends an idempotent call (a read, an Airtable write keyed by
  record id, a receipt upsert keyed by Reference) whose response was lost.
- :func:`move_money` debits or credits a Shopify card with the key's note, and never blind: an
  ``AmbiguousOutcome`` (or a resumed request) reads the card's transactions back for the note
  first, and retries only when the money did not move.
- :func:`send_emails` sends Klaviyo events with bounded retries and returns what was sent and
  the Sent / Email Failed receipts to upsert; a failed email never raises.
- :data:`CARD_LOCKS` serializes work per card inside the process, so two requests for one card
  never interleave their debit, read-back and balance write.

Configuration and dependencies shared by every store-transaction flow (and by the online
purchase prong, through :mod:`prongs.issuance`) are here too: :class:`Deps`, :class:`CardConfig`,
:class:`StoreConfig`, and the per-run :class:`Context`.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TypeVar

import structlog

from cards.keys import ActionKey
from cards.money import Money
from cards.policy import AmountLimits, ExpiryPolicy
from cards.vocab import Audience, ReceiptAction, ReceiptSource
from clients.errors import AmbiguousOutcome, InvariantViolation, Permanent, Retryable
from clients.ports import AirtablePort, CertificatePort, Clock, EmailPort, ShopifyPort
from clients.records import Changes, EmailEvent, Receipt, Store, TransactionKind, TransactionResult

T = TypeVar("T")
log = structlog.get_logger("giftbridge.prongs")

AMBIGUOUS_ATTEMPTS = 3  # sends of one idempotent call whose response keeps getting lost
MOVE_ATTEMPTS = 3  # debit/credit attempts, each followed by a read-back when ambiguous
READ_BACK_MARGIN = timedelta(hours=1)  # clock skew between Airtable's and Shopify's times
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


# --- dependencies and configuration ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Deps:
    """The ports a flow talks through (built by the composition root, or over test fakes)."""

    airtable: AirtablePort
    shopify: ShopifyPort
    email: EmailPort
    certificates: CertificatePort
    clock: Clock


@dataclass(frozen=True, slots=True)
class CardConfig:
    """What issuing, finding and mailing a card needs; secrets are plain ``str`` (repr-hidden)."""

    currency: str
    business_name: str
    code_length: int
    limits: AmountLimits
    expiry: ExpiryPolicy
    pepper: str = field(repr=False)
    code_key: str = field(repr=False)
    email_attempts: int = 3
    email_retry_seconds: float = 0.25  # short: a failing Klaviyo must not hold up a till


@dataclass(frozen=True, slots=True)
class StoreConfig:
    """Everything the store-transactions prong reads from settings."""

    card: CardConfig
    portal_enabled: bool = True
    balance_checks_per_hour: int = 5
    redemption_recheck_seconds: float = 2.0
    queue_page: int = 100  # records read per queue poll (one Airtable page)
    redemption_batch: int = 10  # redemptions handled together: Airtable's records per write
    max_records_per_run: int = 300


@dataclass
class Context:
    """One run's dependencies, configuration and read-once caches."""

    deps: Deps
    config: StoreConfig
    _stores: dict[str, Store] | None = None

    @property
    def card(self) -> CardConfig:
        return self.config.card

    def now(self) -> datetime:
        return self.deps.clock.now()

    def store(self, store_ids: Sequence[str]) -> Store | None:
        """The first linked store (Stores are read once per run)."""
        if not store_ids:
            return None
        if self._stores is None:
            stores = again_if_ambiguous(self.deps.airtable.stores)
            self._stores = {s.id: s for s in stores}
        return self._stores.get(store_ids[0])


@dataclass(frozen=True, slots=True)
class Handled:
    """What handling one request came to: its Outcome, or None when it was left Processing to
    resume; ``error`` is one line for the run report."""

    outcome: str | None
    error: str | None = None


# --- idempotent calls and money ---------------------------------------------------------------


def again_if_ambiguous(call: Callable[[], T], attempts: int = AMBIGUOUS_ATTEMPTS) -> T:
    """Run an idempotent call, sending it again when its outcome was ambiguous."""
    for attempt in range(1, attempts + 1):
        try:
            return call()
        except AmbiguousOutcome:
            if attempt == attempts:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


class Unresolved(AmbiguousOutcome):
    """A debit or credit whose outcome stayed unknown after every read-back."""


def read_back(
    deps: Deps, card_id: str, key: ActionKey, since: datetime | None
) -> TransactionResult | None:
    """The transaction stamped with ``key`` and the card's balance now, or None if none."""
    start = since - READ_BACK_MARGIN if since is not None else None
    txn = again_if_ambiguous(
        lambda: deps.shopify.find_transaction_by_note(card_id, key.note, start)
    )
    if txn is None:
        return None
    card = again_if_ambiguous(lambda: deps.shopify.get_card(card_id))
    if card is None:
        raise InvariantViolation(f"Shopify lost card {card_id} after {key}")
    return TransactionResult(txn, card.balance)


def move_money(
    deps: Deps,
    card_id: str,
    kind: TransactionKind,
    amount: Money,
    key: ActionKey,
    *,
    since: datetime | None,
    check_first: bool,
) -> TransactionResult:
    """Debit or credit ``amount`` exactly once under ``key``'s note.

    ``check_first`` (a resumed request) reads back before the first attempt. A read-back returns
    the card's balance at read time, which is what the Airtable mirror needs. Raises
    ``Permanent`` (refused: nothing moved) or :class:`Unresolved`.
    """
    if check_first and (found := read_back(deps, card_id, key, since)) is not None:
        return found
    move = deps.shopify.debit if kind == TransactionKind.DEBIT else deps.shopify.credit
    for _ in range(MOVE_ATTEMPTS):
        try:
            return move(card_id, amount, key.note)
        except AmbiguousOutcome:
            log.warning("money move ambiguous; reading back", key=str(key), card=card_id)
            if (found := read_back(deps, card_id, key, since)) is not None:
                return found
    raise Unresolved("shopify", f"gift card {kind.value}", f"{key} still unknown")


# --- per-card serialization -------------------------------------------------------------------


class KeyedLocks:
    """One lock per key, created on demand and dropped when nobody holds or waits for it."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._locks: dict[str, tuple[threading.Lock, int]] = {}

    @contextmanager
    def hold(self, key: str) -> Iterator[None]:
        with self._guard:
            lock, users = self._locks.get(key, (threading.Lock(), 0))
            self._locks[key] = (lock, users + 1)
        try:
            with lock:
                yield
        finally:
            with self._guard:
                lock, users = self._locks[key]
                if users == 1:
                    del self._locks[key]
                else:
                    self._locks[key] = (lock, users - 1)

    @contextmanager
    def hold_all(self, keys: Sequence[str]) -> Iterator[None]:
        """Every key's lock, taken in sorted order (so two holders of several never deadlock),
        each once (the locks are not re-entrant)."""
        with ExitStack() as stack:
            for key in sorted(set(keys)):
                stack.enter_context(self.hold(key))
            yield

    def __len__(self) -> int:
        return len(self._locks)


CARD_LOCKS = KeyedLocks()  # process-wide: every prong that writes a card's balance shares it


# --- emails and receipts ----------------------------------------------------------------------


def is_email(text: str | None) -> bool:
    return bool(text) and _EMAIL.fullmatch((text or "").strip()) is not None


@dataclass(frozen=True, slots=True)
class EmailJob:
    audience: Audience
    event: EmailEvent
    sent_receipt: bool  # False for store notices and balance emails (DESIGN.md)


@dataclass(frozen=True, slots=True)
class ReceiptBase:
    """What every receipt of one action shares."""

    key: ActionKey
    source: ReceiptSource
    at: datetime
    card_id: str | None = None
    store_id: str | None = None
    request: str | None = None

    def make(
        self,
        action: ReceiptAction,
        audience: Audience | None = None,
        *,
        amount: Money | None = None,
        balance_before: Money | None = None,
        balance_after: Money | None = None,
        shopify_reference: str | None = None,
        details: str | None = None,
    ) -> Receipt:
        return Receipt(
            reference=self.key.reference(action, audience),
            action=action,
            at=self.at,
            source=self.source,
            card_id=self.card_id,
            store_id=self.store_id,
            amount=amount,
            balance_before=balance_before,
            balance_after=balance_after,
            request=self.request,
            shopify_reference=shopify_reference,
            details=details,
        )


@dataclass
class Mailing:
    sent: list[Audience] = field(default_factory=list)
    failed: list[Audience] = field(default_factory=list)
    receipts: list[Receipt] = field(default_factory=list)


def send_one(deps: Deps, config: CardConfig, event: EmailEvent) -> bool:
    """Send with bounded retries; True when Klaviyo took it. Never raises a ClientError."""
    for attempt in range(1, config.email_attempts + 1):
        try:
            deps.email.send(event)
            return True
        except Permanent as exc:
            log.warning("email refused", unique_id=event.unique_id, error=str(exc))
            return False
        except (Retryable, AmbiguousOutcome) as exc:
            log.warning("email failed", unique_id=event.unique_id, attempt=attempt, error=str(exc))
            if attempt < config.email_attempts:
                deps.clock.sleep(config.email_retry_seconds)
    return False


def send_emails(
    deps: Deps, config: CardConfig, jobs: Sequence[EmailJob], base: ReceiptBase
) -> Mailing:
    """Send each job; Sent receipts for those that carry or announce the card, Email Failed
    receipts (``<key>:email-failed:<audience>``) for those that kept failing."""
    mailing = Mailing()
    for job in jobs:
        if send_one(deps, config, job.event):
            mailing.sent.append(job.audience)
            if job.sent_receipt:
                mailing.receipts.append(base.make(ReceiptAction.SENT, job.audience))
        else:
            mailing.failed.append(job.audience)
            detail = f"{job.event.metric.value} to the {job.audience.value} kept failing"
            mailing.receipts.append(
                base.make(ReceiptAction.EMAIL_FAILED, job.audience, details=detail)
            )
    return mailing


def upsert_receipts(deps: Deps, receipts: Sequence[Receipt]) -> None:
    if receipts:
        again_if_ambiguous(lambda: deps.airtable.upsert_receipts(list(receipts)))


def write_request(deps: Deps, table: str, record_id: str, changes: Changes) -> None:
    again_if_ambiguous(lambda: deps.airtable.update_request(table, record_id, changes))


def write_requests(
    deps: Deps, table: str, updates: Sequence[tuple[str, Changes]]
) -> dict[str, Permanent]:
    """Batched PATCHes of request rows; returns the records Airtable refused (see the port)."""
    if not updates:
        return {}
    return again_if_ambiguous(lambda: deps.airtable.update_requests(table, updates))


def write_cards(deps: Deps, updates: Sequence[tuple[str, Changes]]) -> dict[str, Permanent]:
    if not updates:
        return {}
    return again_if_ambiguous(lambda: deps.airtable.update_cards(updates))


def failure_line(what: str, exc: BaseException) -> str:
    """One report line: the record and the error class and message (which never hold a code)."""
    return f"{what}: {type(exc).__name__}: {exc}"
