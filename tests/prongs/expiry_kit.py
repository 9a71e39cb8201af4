"""Builders for the expiry prong's tests: cards with dates in Shopify and in Airtable, runs.

Cards are put straight into the fakes' state (no injected call), so a crash armed at call N of
a run always lands in the run, never in the setup.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any

from cards.money import Money
from cards.vocab import CardSource, CardStatus, Kind
from config.layout import GiftCards, Receipts
from prongs.expiry import run_once
from prongs.expiry_run import ExpiryConfig
from prongs.report import Budget, Gate, OpenGate, RunReport
from tests.fakes import World

USD = "USD"
SAME = "same"  # a Shopify card whose expiresOn is the row's


def usd(text: str) -> Money:
    return Money.of(text, USD)


def config(**overrides: Any) -> ExpiryConfig:
    base = ExpiryConfig(business_name="Bridge Books", email_retry_seconds=0.01)
    return replace(base, **overrides)


@dataclass(frozen=True)
class Card:
    row_id: str
    gid: str


def today(world: World) -> date:
    """The fakes' shop is in UTC unless a test says otherwise."""
    return world.clock.now().date()


def add_card(
    world: World,
    expires_on: date | None,
    *,
    balance: str = "50.00",
    holder: str | None = "rae@example.com",
    shopify_expires: date | str | None = SAME,
    status: CardStatus = CardStatus.ACTIVE,
    enabled: bool = True,
) -> Card:
    """A card in Shopify and its Gift Cards row, as giftbridge left it after issuing."""
    number = len(world.shopify.cards) + 1
    code = f"EXP{number:05d}WXYZ"
    card = world.shopify.issue_native(code, usd(balance))
    entry = world.shopify.cards[card.id]
    held = expires_on if shopify_expires == SAME else shopify_expires
    assert held is None or isinstance(held, date)
    entry.card = replace(entry.card, expires_on=held, enabled=enabled)
    fields: dict[str, Any] = {
        GiftCards.SHOPIFY_GIFT_CARD_ID: card.id,
        GiftCards.MASKED_CODE: "\u2022" * 8 + code[-4:],
        GiftCards.LAST_CHARACTERS: code[-4:],
        GiftCards.STATUS: status,
        GiftCards.KIND: Kind.GIFT_CARD,
        GiftCards.CURRENCY: USD,
        GiftCards.INITIAL_VALUE: usd(balance),
        GiftCards.BALANCE: usd(balance),
        GiftCards.SOURCE: CardSource.STORE,
        GiftCards.ORIGIN_KEY: f"native:{card.id.rsplit('/', 1)[-1]}",
    }
    if expires_on is not None:
        fields[GiftCards.EXPIRES_ON] = expires_on
    if holder is not None:
        fields[GiftCards.RECIPIENT_EMAIL] = holder
    return Card(world.airtable.insert(GiftCards.TABLE, fields), card.id)


def extend(world: World, card: Card, new: date | None) -> None:
    """What Card Actions -> Extend Expiry leaves behind (Shopify's date, then the row's, the
    row Active again), written straight into the fakes' state."""
    entry = world.shopify.cards[card.gid]
    entry.card = replace(entry.card, expires_on=new)
    row = world.airtable.tables[GiftCards.TABLE][card.row_id]
    row[GiftCards.STATUS] = CardStatus.ACTIVE
    if new is None:
        row.pop(GiftCards.EXPIRES_ON, None)
    else:
        row[GiftCards.EXPIRES_ON] = new


def set_shopify_expiry(world: World, card: Card, new: date | None) -> None:
    """An operator changed the date in Shopify's admin (Airtable does not know yet)."""
    entry = world.shopify.cards[card.gid]
    entry.card = replace(entry.card, expires_on=new)


def run(
    world: World,
    cfg: ExpiryConfig | None = None,
    gate: Gate | None = None,
    seconds: float = 30,
) -> RunReport:
    return run_once(world.deps(), cfg or config(), Budget(world.clock, seconds), gate or OpenGate())


def at_utc(world: World, moment: datetime) -> None:
    """Move the fake clock to ``moment`` (forward only)."""
    delta = (moment - world.clock.now()).total_seconds()
    assert delta >= 0, "the fake clock only moves forward"
    world.clock.advance(delta)


def days(n: int) -> timedelta:
    return timedelta(days=n)


def row(world: World, card: Card) -> dict[str, Any]:
    return world.airtable.row(GiftCards.TABLE, card.row_id)


def receipts(world: World) -> dict[str, dict[str, Any]]:
    rows = world.airtable.rows(Receipts.TABLE)
    references = [r[Receipts.REFERENCE] for r in rows]
    assert len(references) == len(set(references)), "one receipt per reference"
    return {r[Receipts.REFERENCE]: r for r in rows}
