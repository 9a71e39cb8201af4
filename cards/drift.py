"""Drift between a card's two records, decided without I/O (DESIGN.md, "Audit").

Shopify holds the spendable card, so where the two disagree about a card's balance, its expiry or
whether it can be spent at all, Shopify is right and Airtable's row (the mirror) is repaired.

- :func:`field_drifts`: what differs between a Gift Cards row and Shopify's card: the Balance,
  the Expires On, and the enabled state (a card deactivated in Shopify's admin while the row
  says Active). A Pending row is a creation in flight: its own flow fills it in, so it is never
  drift. Values are written as a person reads them ("50.00 USD", "2027-01-31", "never").
- :func:`plan_repair`: the row as it must become (balance, expiry, status, void reason), or why
  it cannot be repaired without a person (the card is in another currency; a status the
  transition table does not allow).

Status follows the repaired values by the domain's rules: a balance of zero makes an Active card
Redeemed and value coming back makes a Redeemed one Active (``status_for_balance``); a card
Shopify switched off is Voided (it cannot be switched on again, DESIGN.md); an Expired row whose
expiry Shopify moved into the future (or removed) is Active again, since Shopify lets the holder
spend it. A row that is Voided, Redeemed or Expired is not "enabled drift": none of them can be
spent in a store either.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Protocol

from cards.keys import ActionKey
from cards.money import Money
from cards.policy import is_expired
from cards.status import can_transition, status_for_balance
from cards.vocab import CardStatus


class DriftField(StrEnum):
    """The part of a card that drifted; its value is the key's ``<field>`` part."""

    BALANCE = "balance"
    EXPIRY = "expiry"
    ENABLED = "enabled"
    ROW = "row"  # the Gift Cards row of a card giftbridge created is gone
    CARD = "card"  # the Shopify card of a Gift Cards row is gone


class MirroredCard(Protocol):
    """What the audit compares of a Gift Cards row."""

    @property
    def id(self) -> str: ...

    @property
    def status(self) -> CardStatus | None: ...

    @property
    def balance(self) -> Money | None: ...

    @property
    def currency(self) -> str | None: ...

    @property
    def expires_on(self) -> date | None: ...


class LiveCard(Protocol):
    """What the audit compares of Shopify's card."""

    @property
    def balance(self) -> Money: ...

    @property
    def expires_on(self) -> date | None: ...

    @property
    def enabled(self) -> bool: ...


@dataclass(frozen=True, slots=True)
class FieldDrift:
    field: DriftField
    airtable: str  # Airtable's value, as a person reads it
    shopify: str  # Shopify's value

    @property
    def details(self) -> str:
        """The receipt's Details: field, Airtable's value, Shopify's value."""
        return f"{self.field.value}: Airtable {self.airtable}, Shopify {self.shopify}"


def drift_key(row_id: str, field: DriftField, shopify_updated_at: datetime | str) -> ActionKey:
    """``drift:<card record id>:<field>:<Shopify updatedAt>`` (a card that is gone has no
    updatedAt: its key ends ``gone``)."""
    text = shopify_updated_at if isinstance(shopify_updated_at, str) else stamp(shopify_updated_at)
    return ActionKey.drift(row_id, field.value, text)


def stamp(moment: datetime) -> str:
    """Shopify's ``updatedAt`` as the key's last part: ``2026-11-22T12:00:00Z``."""
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def show_money(value: Money | None) -> str:
    return "blank" if value is None else str(value)


def show_day(value: date | None) -> str:
    return "never" if value is None else value.isoformat()


def show_status(value: CardStatus | None) -> str:
    return "blank" if value is None else value.value


def _spendable_here(row: MirroredCard) -> bool:
    """The row says the card can be spent (so a card switched off in Shopify is drift)."""
    return row.status == CardStatus.ACTIVE


def field_drifts(row: MirroredCard, card: LiveCard) -> list[FieldDrift]:
    """Every field where the row differs from Shopify's card (none for a Pending row)."""
    if row.status == CardStatus.PENDING:
        return []
    found: list[FieldDrift] = []
    if row.balance != card.balance:
        found.append(FieldDrift(DriftField.BALANCE, show_money(row.balance), str(card.balance)))
    if row.expires_on != card.expires_on:
        found.append(
            FieldDrift(DriftField.EXPIRY, show_day(row.expires_on), show_day(card.expires_on))
        )
    if not card.enabled and _spendable_here(row):
        found.append(FieldDrift(DriftField.ENABLED, show_status(row.status), "deactivated"))
    return found


@dataclass(frozen=True, slots=True)
class Repair:
    """The row as it must become. ``balance``/``expires_on`` are written when their flag says
    so (``None`` expiry means "does not expire"); ``status`` always; ``void_reason`` (a card
    Shopify switched off) makes the write a void."""

    fields: tuple[DriftField, ...]
    status: CardStatus
    balance: Money | None = None
    write_expiry: bool = False
    expires_on: date | None = None
    void_reason: str | None = None

    def describe(self, row: MirroredCard) -> str:
        """What the repair wrote, for the Drift Repaired receipts."""
        parts = []
        if self.balance is not None:
            parts.append(f"Balance {show_money(row.balance)} -> {self.balance}")
        if self.write_expiry:
            parts.append(f"Expires On {show_day(row.expires_on)} -> {show_day(self.expires_on)}")
        if self.status != row.status:
            parts.append(f"Status {show_status(row.status)} -> {self.status.value}")
        return "; ".join(parts) or "nothing to write"


@dataclass(frozen=True, slots=True)
class Unrepairable:
    """A drift the audit leaves for a person (nothing written), and why."""

    reason: str


def plan_repair(
    row: MirroredCard, card: LiveCard, drifts: list[FieldDrift], today: date
) -> Repair | Unrepairable:
    """How to bring the row in step with Shopify's card for these drifts."""
    fields = tuple(d.field for d in drifts)
    currency = row.currency or (row.balance.currency if row.balance else card.balance.currency)
    if DriftField.BALANCE in fields and card.balance.currency != currency:
        return Unrepairable(
            f"the Shopify card is in {card.balance.currency} and the row in {currency}"
        )
    current = row.status or CardStatus.ACTIVE
    status = current
    if (
        DriftField.EXPIRY in fields
        and status == CardStatus.EXPIRED
        and not is_expired(card.expires_on, today)
    ):
        status = CardStatus.ACTIVE  # Shopify lets the holder spend it again
    if DriftField.BALANCE in fields:
        status = status_for_balance(status, card.balance.is_zero)
    if not card.enabled and status == CardStatus.ACTIVE:
        status = CardStatus.VOIDED  # switched off in Shopify: nobody can spend it
    if not _reachable(current, status):
        return Unrepairable(f"a {current.value} card cannot become {status.value}")
    return Repair(
        fields=fields,
        status=status,
        balance=card.balance if DriftField.BALANCE in fields else None,
        write_expiry=DriftField.EXPIRY in fields,
        expires_on=card.expires_on,
        void_reason=(
            "The card was deactivated in Shopify (found by the audit); Shopify cannot enable it "
            "again, so it cannot be spent."
            if status == CardStatus.VOIDED and current != CardStatus.VOIDED
            else None
        ),
    )


def _reachable(current: CardStatus, target: CardStatus) -> bool:
    """One allowed transition, or two through Active (Expired -> Active -> Redeemed)."""
    if can_transition(current, target):
        return True
    return can_transition(current, CardStatus.ACTIVE) and can_transition(CardStatus.ACTIVE, target)
