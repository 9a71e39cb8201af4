"""The adapters' expiry reads against the sandboxes over real HTTP: the due cards (one filtered,
sorted read), many Shopify cards by GID, and the shop's time zone."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from cards.vocab import CardStatus
from config.layout import GiftCards, Receipts
from tests.clients.conftest import AirtableRig, ShopifyRig

pytestmark = pytest.mark.slow


def test_due_cards_are_the_active_ones_on_or_before_the_day_soonest_first(
    airtable: AirtableRig,
) -> None:
    g = GiftCards
    rows = [
        ("late", CardStatus.ACTIVE.value, "2026-12-31"),
        ("due", CardStatus.ACTIVE.value, "2026-12-01"),
        ("first", CardStatus.ACTIVE.value, "2026-11-02"),
        ("on-the-day", CardStatus.ACTIVE.value, "2026-12-22"),
        ("expired", CardStatus.EXPIRED.value, "2026-11-01"),
        ("redeemed", CardStatus.REDEEMED.value, "2026-11-05"),
        ("never", CardStatus.ACTIVE.value, None),
    ]
    airtable.base.create(
        g.TABLE,
        [
            {g.ORIGIN_KEY: key, g.STATUS: status, **({g.EXPIRES_ON: day} if day else {})}
            for key, status, day in rows
        ],
    )
    adapter = airtable.adapter()

    due = adapter.cards_expiring_by(date(2026, 12, 22), limit=100)

    assert [c.origin_key for c in due] == ["first", "due", "on-the-day"]
    assert due[0].expires_on == date(2026, 11, 2) and due[0].status is CardStatus.ACTIVE
    assert [c.origin_key for c in adapter.cards_expiring_by(date(2026, 12, 22), limit=2)] == [
        "first",
        "due",
    ]
    lists = [e for e in airtable.sandbox.request_log if e.operation == "airtable.list"]
    assert len(lists) == 2  # one request per read


def test_many_cards_by_gid_in_one_request(shopify: ShopifyRig) -> None:
    adapter = shopify.adapter()
    cards = [shopify.shop.issue_card("25.00") for _ in range(3)]
    gids = [f"gid://shopify/GiftCard/{c.number}" for c in cards]
    before = len(shopify.shop.operations)

    found = adapter.get_cards([*gids, "gid://shopify/GiftCard/999999", gids[0]])

    assert set(found) == set(gids)
    assert str(found[gids[1]].balance) == "25.00 USD"
    operations = list(shopify.shop.operations)[before:]
    assert [o.operation_name for o in operations] == ["GiftCardsByIds"]
    assert adapter.get_cards([]) == {}


@pytest.mark.parametrize(
    ("zone", "abbreviation", "minutes"),
    [
        ("America/Los_Angeles", "PST", -480),
        ("Pacific/Auckland", "NZDT", 780),
        ("Etc/UTC", "UTC", 0),
    ],
)
def test_the_shops_time_zone_is_what_the_sandbox_is_told(
    shopify_factory: object, zone: str, abbreviation: str, minutes: int
) -> None:
    assert callable(shopify_factory)
    rig: ShopifyRig = shopify_factory(
        timezone=zone, clock=lambda: datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
    )
    assert rig.adapter().shop_timezone() == zone
    shop = rig.shop.graphql(
        "query { shop { ianaTimezone timezoneAbbreviation timezoneOffsetMinutes } }"
    )["data"]["shop"]
    assert shop == {
        "ianaTimezone": zone,
        "timezoneAbbreviation": abbreviation,
        "timezoneOffsetMinutes": minutes,
    }


def test_receipt_references_are_read_a_hundred_a_request(airtable: AirtableRig) -> None:
    adapter = airtable.adapter()
    wanted = [f"remind:rec{n:014d}:2026-12-01:30:reminder-sent" for n in range(250)]
    airtable.base.create(
        Receipts.TABLE,
        [{Receipts.REFERENCE: wanted[n], Receipts.ACTION: "Reminder Sent"} for n in (0, 99, 249)],
    )
    before = len(airtable.sandbox.request_log)

    assert adapter.receipt_references(wanted) == {wanted[0], wanted[99], wanted[249]}
    assert len(airtable.sandbox.request_log) - before == 3
