"""The exactly-once recipe (DESIGN.md, "Exactly once, across crashes") as small shared helpers.

Shopify's gift card mutations take no idempotency key, Airtable has no transactions, and any call
can time out after it took effect. So every effect is made safe to repeat, one of three ways:

- An idempotent call (a read, an Airtable PATCH keyed by record id, a receipt upsert keyed by
  Reference) whose response was lost is simply sent again: :func:`again_if_ambiguous`, and the
  Airtable writes below (:func:`write_request`, :func:`write_requests`, :func:`write_cards`).
- Money never moves blind: :func:`move_money` debits or credits a Shopify card with the key's
  note, and on an ``AmbiguousOutcome`` (or for a resumed request) reads the card's
  transactions back for that note first (:func:`read_back`), retrying only when the money did
  not move. An outcome still unknown after every read-back is :class:`Unresolved`; the request
  stays Processing and the next run reads back again.
- A created row is found again by its key: :func:`create_card_once` looks a Gift Cards row up
  by Origin Key after a lost create response, and never creates a second.

Every prong's intent (Status Processing, or a Pending row with its Origin Key) is written before
the outside call, so a crash anywhere resumes from it on the next run.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import TypeVar

import structlog

from cards.errors import InvariantViolation
from cards.keys import ActionKey
from cards.money import Money
from clients.commands import CardUpdate, NewCardRow, RequestWrite
from clients.errors import AmbiguousOutcome, Permanent
from clients.records import CardRow, TransactionKind, TransactionResult
from prongs.deps import Deps

T = TypeVar("T")
log = structlog.get_logger("giftbridge.prongs")

AMBIGUOUS_ATTEMPTS = 3  # sends of one idempotent call whose response keeps getting lost
MOVE_ATTEMPTS = 3  # debit/credit attempts, each followed by a read-back when ambiguous
CREATE_ATTEMPTS = 3  # row creations, each followed by a look-up by key when ambiguous
READ_BACK_MARGIN = timedelta(hours=1)  # clock skew between Airtable's and Shopify's times


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
    """A debit, credit or creation whose outcome stayed unknown after every read-back."""


# --- money ------------------------------------------------------------------------------------


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
    """Debit or credit ``amount`` in Shopify exactly once under ``key``'s note.

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


# --- Airtable rows --------------------------------------------------------------------------


def create_card_once(deps: Deps, card: NewCardRow) -> CardRow:
    """Create the Gift Cards row keyed by ``card.origin_key``; after a lost response, look it up
    by that key before trying again (a create is never re-sent blind)."""
    origin_key = card.origin_key
    if origin_key is None:
        raise ValueError("a row giftbridge creates carries its Origin Key")
    for _ in range(CREATE_ATTEMPTS):
        try:
            return deps.airtable.create_card(card)
        except AmbiguousOutcome:
            found = again_if_ambiguous(lambda: deps.airtable.find_card(origin_key=origin_key))
            if found is not None:
                return found
    raise Unresolved("airtable", "create card", f"{origin_key} still unknown")


def update_card(deps: Deps, update: CardUpdate) -> CardRow:
    """PATCH one Gift Cards row by record id (safe to re-send)."""
    return again_if_ambiguous(lambda: deps.airtable.update_card(update))


def write_cards(deps: Deps, updates: Sequence[CardUpdate]) -> dict[str, Permanent]:
    """Batched PATCHes of Gift Cards rows; returns the records Airtable refused."""
    if not updates:
        return {}
    return again_if_ambiguous(lambda: deps.airtable.update_cards(updates))


def write_request(deps: Deps, write: RequestWrite) -> None:
    """One request row's intent, refusal or closing (a PATCH by record id: safe to re-send)."""
    again_if_ambiguous(lambda: deps.airtable.update_request(write))


def write_requests(deps: Deps, writes: Sequence[RequestWrite]) -> dict[str, Permanent]:
    """Batched request writes; returns the records Airtable refused (see the port)."""
    if not writes:
        return {}
    return again_if_ambiguous(lambda: deps.airtable.update_requests(writes))
