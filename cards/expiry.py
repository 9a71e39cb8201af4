"""The rules of expiry and reminders (DESIGN.md, Expiry): pure decisions over one card.

The expiry prong reads a card's Gift Cards row and its Shopify card first, then asks
:func:`decide`. Shopify enforces ``expiresOn`` at checkout by itself, so its date is the one
that holds: when an operator changed it in Shopify, Airtable mirrors Shopify's date instead of
expiring the card on its own (``mirror``), and the card expires only once Shopify's date has
passed. Dates are the shop's: "today" is the shop's calendar day (:func:`shop_today`).

- **Expire**: an Active card whose date (Shopify's) has passed: a card is usable through its
  Expires On day and expired the day after (:func:`cards.policy.is_expired`).
- **Remind**: an Active, enabled card with a positive balance (Shopify's) whose date is N days
  away or less, for the *nearest* such N of ``EXPIRY_REMINDER_DAYS`` only: a card first seen
  5 days before its date gets the 7-day reminder, never the 30-day one too. The key names the
  date, so an extension (a new date) starts the reminders afresh. A card with no holder email
  is still "reminded": the prong writes a receipt that says no email could go.
- **Nothing** otherwise (with the reason, for the log and the report).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from enum import StrEnum

from cards.money import Money
from cards.policy import is_expired
from cards.vocab import CardStatus


class Step(StrEnum):
    NOTHING = "nothing"
    EXPIRE = "expire"
    REMIND = "remind"


@dataclass(frozen=True, slots=True)
class RowSide:
    """What the decision needs of the Gift Cards row."""

    status: CardStatus | None
    expires_on: date | None
    holder_email: str | None


@dataclass(frozen=True, slots=True)
class ShopifySide:
    """What the decision needs of the Shopify card (authoritative for date and balance)."""

    expires_on: date | None
    balance: Money
    enabled: bool


@dataclass(frozen=True, slots=True)
class Decision:
    step: Step
    expires_on: date | None  # the date that holds: Shopify's (None: never expires)
    mirror: bool = False  # Airtable's Expires On differs: write Shopify's into the row
    threshold: int | None = None  # REMIND: the N of EXPIRY_REMINDER_DAYS
    days_left: int | None = None  # REMIND: days from today to the date (0: expires today)
    balance: Money | None = None  # EXPIRE: the balance that expired; REMIND: what is left
    holder_email: str | None = None  # REMIND: None means no email can go (a receipt says so)
    why: str = ""  # NOTHING: why not, in an operator's words


def shop_today(now: datetime, zone: tzinfo) -> date:
    """The shop's calendar day at ``now`` (an aware UTC time) in the shop's time zone."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return now.astimezone(zone).date()


def days_left(expires_on: date, today: date) -> int:
    """Whole days from ``today`` to ``expires_on`` (0 on the day itself, negative after)."""
    return (expires_on - today).days


def nearest_threshold(left: int, thresholds: Sequence[int]) -> int | None:
    """The smallest N of ``thresholds`` with ``left <= N`` (the nearest one crossed), or None
    when the date is further away than every threshold (or already past)."""
    if left < 0:
        return None
    crossed = [n for n in thresholds if left <= n]
    return min(crossed) if crossed else None


def horizon_days(thresholds: Sequence[int]) -> int:
    """How many days ahead a card can be due: the largest threshold (0 without reminders)."""
    return max(thresholds, default=0)


def decide(
    row: RowSide, shopify: ShopifySide | None, today: date, thresholds: Sequence[int]
) -> Decision:
    """What the expiry prong does with one card today (see the module's docstring)."""
    if row.status != CardStatus.ACTIVE:
        status = row.status.value if row.status else "blank"
        return Decision(Step.NOTHING, row.expires_on, why=f"the card is {status}, not Active")
    if shopify is None:
        return Decision(Step.NOTHING, row.expires_on, why="Shopify has no such card")
    holds = shopify.expires_on
    mirror = holds != row.expires_on
    if holds is None:
        return Decision(Step.NOTHING, None, mirror, why="Shopify says it never expires")
    if is_expired(holds, today):
        return Decision(Step.EXPIRE, holds, mirror, balance=shopify.balance)
    if not shopify.enabled:
        return Decision(Step.NOTHING, holds, mirror, why="Shopify deactivated the card")
    if not shopify.balance.is_positive:
        return Decision(Step.NOTHING, holds, mirror, why="nothing is left on the card")
    left = days_left(holds, today)
    threshold = nearest_threshold(left, thresholds)
    if threshold is None:
        return Decision(Step.NOTHING, holds, mirror, why=f"{left} days left: not due yet")
    return Decision(
        Step.REMIND,
        holds,
        mirror,
        threshold=threshold,
        days_left=left,
        balance=shopify.balance,
        holder_email=row.holder_email or None,
    )
