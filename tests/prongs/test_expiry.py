"""The expiry prong over the fakes: expiring, mirroring Shopify's date, reminders, the lease."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from cards.vocab import CardStatus, Metric, ReceiptAction, ReceiptSource
from config.layout import GiftCards, Receipts
from prongs.report import OpenGate
from tests.fakes import World
from tests.prongs.conftest import HookedInjector, build_world
from tests.prongs.expiry_kit import (
    add_card,
    at_utc,
    config,
    days,
    receipts,
    row,
    run,
    set_shopify_expiry,
    today,
    usd,
)


@pytest.fixture
def world() -> World:
    return build_world()  # its injector takes a hook: a test may act between two calls


def hooked(world: World) -> HookedInjector:
    assert isinstance(world.injector, HookedInjector)
    return world.injector


class RefusingGate(OpenGate):
    def claim(self) -> bool:
        self.claims += 1
        return False


def test_an_active_card_past_its_date_becomes_expired_with_one_receipt(world: World) -> None:
    yesterday = today(world) - days(1)
    card = add_card(world, yesterday, balance="42.50")

    report = run(world)

    assert report.outcomes["Expired"] == 1 and not report.errors
    got = row(world, card)
    assert got[GiftCards.STATUS] == CardStatus.EXPIRED
    assert got[GiftCards.BALANCE] == usd("42.50")  # the mirror of what Shopify keeps
    assert got[GiftCards.EXPIRES_ON] == yesterday
    (receipt,) = receipts(world).values()
    assert receipt[Receipts.REFERENCE] == f"expire:{card.row_id}:{yesterday}:expired"
    assert receipt[Receipts.ACTION] == ReceiptAction.EXPIRED
    assert receipt[Receipts.SOURCE] == ReceiptSource.DAEMON
    assert receipt[Receipts.AMOUNT] == usd("42.50")
    assert receipt[Receipts.BALANCE_BEFORE] == usd("42.50")
    assert receipt[Receipts.BALANCE_AFTER] == usd("0.00")
    assert receipt[Receipts.GIFT_CARD] == (card.row_id,)
    assert world.shopify.balance(card.gid) == usd("42.50")  # Shopify's balance stays
    assert world.email.events == []  # an expired card gets no reminder

    calls = len(world.injector.calls)
    again = run(world)
    assert not again.found_work and again.processed == 0
    assert world.injector.calls[calls:].count("airtable.update") == 0


def test_a_card_is_usable_through_its_last_day(world: World) -> None:
    card = add_card(world, today(world))

    report = run(world)

    assert row(world, card)[GiftCards.STATUS] == CardStatus.ACTIVE
    assert report.outcomes == {"Reminder Sent": 1}
    (event,) = world.email.events
    assert event.properties["days_left"] == 0
    assert event.unique_id == f"remind:{card.row_id}:{today(world)}:7:recipient"


def test_a_date_changed_in_shopify_is_mirrored_and_the_card_stays_active(world: World) -> None:
    old, new = today(world) - days(2), today(world) + days(120)
    card = add_card(world, old, shopify_expires=new)

    report = run(world)

    assert report.outcomes == {"Expiry Mirrored": 1}
    got = row(world, card)
    assert (got[GiftCards.STATUS], got[GiftCards.EXPIRES_ON]) == (CardStatus.ACTIVE, new)
    (receipt,) = receipts(world).values()
    assert receipt[Receipts.REFERENCE] == f"expire:{card.row_id}:{old}:expiry-changed"
    assert receipt[Receipts.ACTION] == ReceiptAction.EXPIRY_CHANGED
    assert receipt[Receipts.SOURCE] == ReceiptSource.SHOPIFY
    assert f"{old} -> {new}" in receipt[Receipts.DETAILS]
    assert world.email.events == []  # 120 days away: no reminder yet
    assert not run(world).found_work


def test_a_date_shortened_in_shopify_expires_the_card_under_shopifys_date(world: World) -> None:
    old, new = today(world) + days(3), today(world) - days(5)
    card = add_card(world, old, shopify_expires=new)

    run(world)

    got = row(world, card)
    assert (got[GiftCards.STATUS], got[GiftCards.EXPIRES_ON]) == (CardStatus.EXPIRED, new)
    assert set(receipts(world)) == {
        f"expire:{card.row_id}:{old}:expiry-changed",
        f"expire:{card.row_id}:{new}:expired",
    }


def test_a_card_shopify_says_never_expires_loses_its_date(world: World) -> None:
    card = add_card(world, today(world) - days(1), shopify_expires=None)

    run(world)

    got = row(world, card)
    assert got[GiftCards.STATUS] == CardStatus.ACTIVE and GiftCards.EXPIRES_ON not in got
    (receipt,) = receipts(world).values()
    assert "-> never" in receipt[Receipts.DETAILS]


def test_only_the_nearest_threshold_when_several_are_crossed_at_once(world: World) -> None:
    expires = today(world) + days(5)
    card = add_card(world, expires, balance="17.25")

    report = run(world, config(reminder_days=(30, 14, 7)))

    assert report.outcomes == {"Reminder Sent": 1}
    (event,) = world.email.events
    assert event.metric == Metric.EXPIRING_SOON
    assert event.email == "rae@example.com"
    assert event.unique_id == f"remind:{card.row_id}:{expires}:7:recipient"
    assert event.properties == {
        "masked_code": row(world, card)[GiftCards.MASKED_CODE],
        "balance": "17.25",
        "currency": "USD",
        "expires_on": expires.isoformat(),
        "days_left": 5,
        "business_name": "Bridge Books",
    }
    (receipt,) = receipts(world).values()
    assert receipt[Receipts.REFERENCE] == f"remind:{card.row_id}:{expires}:7:reminder-sent"
    assert receipt[Receipts.ACTION] == ReceiptAction.REMINDER_SENT


def test_each_threshold_once_then_the_expiry(world: World) -> None:
    expires = today(world) + days(20)
    card = add_card(world, expires)
    for _ in range(3):  # hourly runs: one reminder
        run(world)
        world.clock.advance(3600)
    world.clock.advance(13 * 86400)  # 7 days left (minus a few hours)
    for _ in range(3):
        run(world)
        world.clock.advance(3600)
    world.clock.advance(8 * 86400)  # past the date
    run(world)
    run(world)

    ids = [e.unique_id for e in world.email.events]
    assert ids == [
        f"remind:{card.row_id}:{expires}:30:recipient",
        f"remind:{card.row_id}:{expires}:7:recipient",
    ]
    assert world.email.duplicates == 0  # each was sent once, not just dropped by Klaviyo
    actions = sorted(r[Receipts.ACTION] for r in receipts(world).values())
    assert actions == [
        ReceiptAction.EXPIRED,
        ReceiptAction.REMINDER_SENT,
        ReceiptAction.REMINDER_SENT,
    ]
    assert row(world, card)[GiftCards.STATUS] == CardStatus.EXPIRED


def test_no_reminder_for_an_empty_or_deactivated_card(world: World) -> None:
    add_card(world, today(world) + days(3), balance="0.00")
    add_card(world, today(world) + days(3), enabled=False)

    report = run(world)

    assert world.email.events == [] and receipts(world) == {}
    assert not report.found_work


def test_a_card_without_a_holder_email_gets_a_receipt_that_says_so(world: World) -> None:
    expires = today(world) + days(6)
    card = add_card(world, expires, holder=None)

    report = run(world)

    assert report.outcomes == {"No Holder Email": 1}
    assert world.email.events == []
    (receipt,) = receipts(world).values()
    assert receipt[Receipts.REFERENCE] == f"remind:{card.row_id}:{expires}:7:email-failed:recipient"
    assert receipt[Receipts.ACTION] == ReceiptAction.EMAIL_FAILED
    assert "no Recipient Email or Purchaser Email" in receipt[Receipts.DETAILS]
    assert not run(world).found_work  # said once

    world.airtable.tables[GiftCards.TABLE][card.row_id][GiftCards.PURCHASER_EMAIL] = (
        "pat@example.com"
    )
    run(world)
    (event,) = world.email.events
    assert event.email == "pat@example.com"
    assert f"remind:{card.row_id}:{expires}:7:reminder-sent" in receipts(world)


def test_a_failing_email_is_recorded_and_tried_again_next_run(world: World) -> None:
    expires = today(world) + days(25)
    card = add_card(world, expires)
    for _ in range(3):
        world.injector.arm("klaviyo.send", "fail_before")

    report = run(world)

    assert report.outcomes == {"Email Failed": 1} and not report.errors
    assert f"remind:{card.row_id}:{expires}:30:email-failed:recipient" in receipts(world)
    assert world.email.events == []
    run(world)
    assert len(world.email.events) == 1
    assert f"remind:{card.row_id}:{expires}:30:reminder-sent" in receipts(world)


def test_a_run_with_nothing_to_change_never_takes_the_lease(world: World) -> None:
    expires = today(world) + days(10)
    add_card(world, expires)
    run(world)  # the 30-day reminder
    gate = OpenGate()

    report = run(world, gate=gate)

    assert gate.claims == 0 and not report.found_work


def test_a_refused_lease_changes_nothing(world: World) -> None:
    card = add_card(world, today(world) - days(1))
    gate = RefusingGate()

    report = run(world, gate=gate)

    assert gate.claims == 1 and report.skipped
    assert row(world, card)[GiftCards.STATUS] == CardStatus.ACTIVE and receipts(world) == {}


def test_a_card_shopify_does_not_know_is_left_alone(world: World) -> None:
    card = add_card(world, today(world) - days(1))
    del world.shopify.cards[card.gid]

    report = run(world)

    assert report.outcomes["Not In Shopify"] == 1 and not report.found_work
    assert row(world, card)[GiftCards.STATUS] == CardStatus.ACTIVE


def test_one_refused_card_does_not_hold_up_the_others(world: World) -> None:
    cards = [add_card(world, today(world) - days(1)) for _ in range(3)]
    world.airtable.refuse[cards[1].row_id] = GiftCards.STATUS

    report = run(world)

    assert report.outcomes["Expired"] == 2 and len(report.errors) == 1
    assert cards[1].row_id in report.errors[0]
    assert [row(world, c)[GiftCards.STATUS] for c in cards] == [
        CardStatus.EXPIRED,
        CardStatus.ACTIVE,
        CardStatus.EXPIRED,
    ]


def test_a_spent_budget_stops_between_groups_and_the_next_run_goes_on(world: World) -> None:
    cards = [add_card(world, today(world) - days(1)) for _ in range(25)]

    def slow(operation: str) -> None:
        if operation == "airtable.update":
            world.clock.advance(4)

    hooked(world).hook = slow
    first = run(world, seconds=5)

    assert first.budget_exhausted and 0 < first.outcomes["Expired"] < 25
    hooked(world).hook = None
    run(world)
    assert all(row(world, c)[GiftCards.STATUS] == CardStatus.EXPIRED for c in cards)
    assert len(receipts(world)) == 25


def test_a_date_moved_in_shopify_during_the_run_waits_for_the_next_run(world: World) -> None:
    card = add_card(world, today(world) - days(1))
    later = today(world) + days(365)
    reads: list[str] = []

    def extend_between_reads(operation: str) -> None:
        if operation == "shopify.get_cards":
            reads.append(operation)
            if len(reads) == 2:  # an operator extended it while the run was going
                set_shopify_expiry(world, card, later)

    hooked(world).hook = extend_between_reads
    run(world)
    hooked(world).hook = None

    assert row(world, card)[GiftCards.STATUS] == CardStatus.ACTIVE and receipts(world) == {}
    run(world)
    got = row(world, card)
    assert (got[GiftCards.STATUS], got[GiftCards.EXPIRES_ON]) == (CardStatus.ACTIVE, later)


@pytest.mark.parametrize(
    ("zone", "utc", "expired"),
    [
        # A card whose Expires On is 2026-11-22 (the shop's day).
        # Los Angeles (UTC-8): the UTC day has turned, the shop's has not.
        ("America/Los_Angeles", datetime(2026, 11, 23, 0, 30, tzinfo=UTC), False),
        ("America/Los_Angeles", datetime(2026, 11, 23, 7, 59, tzinfo=UTC), False),
        ("America/Los_Angeles", datetime(2026, 11, 23, 8, 1, tzinfo=UTC), True),
        # Auckland (UTC+13 in November): the shop's day turns while the UTC day has not.
        ("Pacific/Auckland", datetime(2026, 11, 22, 10, 59, tzinfo=UTC), False),
        ("Pacific/Auckland", datetime(2026, 11, 22, 11, 1, tzinfo=UTC), True),
        ("Pacific/Auckland", datetime(2026, 11, 22, 23, 30, tzinfo=UTC), True),
        ("Etc/UTC", datetime(2026, 11, 22, 23, 59, tzinfo=UTC), False),
        ("Etc/UTC", datetime(2026, 11, 23, 0, 1, tzinfo=UTC), True),
    ],
)
def test_today_is_the_shops_day(zone: str, utc: datetime, expired: bool) -> None:
    world = build_world()  # its fake clock starts on 2026-11-22 at noon UTC
    world.shopify.timezone = zone
    world.clock._now = datetime(2026, 11, 22, 0, 0, tzinfo=UTC)
    card = add_card(world, date(2026, 11, 22))
    at_utc(world, utc)

    report = run(world)

    status = row(world, card)[GiftCards.STATUS]
    assert status == (CardStatus.EXPIRED if expired else CardStatus.ACTIVE)
    if not expired:  # its last day in the shop: the nearest reminder, 0 days left
        (event,) = world.email.events
        assert event.properties["days_left"] == 0 and report.outcomes == {"Reminder Sent": 1}
