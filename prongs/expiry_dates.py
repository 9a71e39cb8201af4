"""The shop's calendar: "today" in the shop's time zone, and the cards due within some days.

Shopify enforces a card's ``expiresOn`` on the shop's calendar, so giftbridge counts days the
same way: the zone is Shopify's ``shop.ianaTimezone`` (read once per run, or once per command),
turned into a ``tzinfo`` with the standard library's ``zoneinfo`` (the ``tzdata`` package
supplies the database where the system has none).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cards.errors import InvariantViolation
from cards.expiry import shop_today
from clients.records import CardRow
from prongs.deps import Deps
from prongs.exactly_once import again_if_ambiguous


@dataclass(frozen=True, slots=True)
class ShopDay:
    """The shop's zone and its calendar day when it was read."""

    zone_name: str
    zone: tzinfo
    today: date


def read_shop_day(deps: Deps) -> ShopDay:
    """Ask Shopify for the shop's zone and work out its day now. Raises a ClientError when
    Shopify cannot say, and ``InvariantViolation`` for a zone this machine does not know."""
    name = again_if_ambiguous(deps.shopify.shop_timezone)
    try:
        zone = ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvariantViolation(
            f"Shopify's time zone {name!r} is not in this machine's time zone database "
            "(reinstall giftbridge: it depends on the tzdata package)"
        ) from None
    return ShopDay(name, zone, shop_today(deps.clock.now(), zone))


@dataclass(frozen=True, slots=True)
class ExpiringCards:
    """Active cards whose Expires On is on or before ``last_day`` (the shop's calendar)."""

    day: ShopDay
    last_day: date
    cards: list[CardRow]
    limit: int

    @property
    def limited(self) -> bool:
        return len(self.cards) >= self.limit


def cards_expiring_within(deps: Deps, days: int, limit: int) -> ExpiringCards:
    """Active cards expiring within ``days`` of the shop's today (and those already past their
    date that the expiry prong has not marked yet), soonest first, in one filtered read."""
    if days < 0:
        raise ValueError("days must be 0 or more")
    day = read_shop_day(deps)
    last_day = day.today + timedelta(days=days)
    cards = again_if_ambiguous(lambda: deps.airtable.cards_expiring_by(last_day, limit))
    return ExpiringCards(day, last_day, cards, limit)
