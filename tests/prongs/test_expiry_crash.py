"""Crash at every outside call of an expiry run and of a reminder run, then run again: the end
state is the clean run's, with one receipt per reference and one event per key.

The scenario has two phases. First: a card past its date, one whose date was shortened in
Shopify (mirrored and expired), one extended in Shopify (mirrored), a reminder that crosses
both thresholds at once, one with no holder email, and twelve more reminders (two groups).
Then, 24 days on, an operator extends one expired card (its reminders start over) and the
next thresholds come due.
"""

from __future__ import annotations

from typing import Any

from cards.vocab import ReceiptAction
from config.layout import GiftCards
from prongs.report import RunReport
from tests.fakes import World
from tests.prongs.expiry_kit import Card, add_card, days, extend, run, today
from tests.prongs_shopify.crashkit import Scenario, matrix, play, snapshot


def build() -> Scenario:
    world = World.build("USD")
    cards: dict[str, Card] = {}

    def first(world: World) -> None:
        day = today(world)
        cards["past"] = add_card(world, day - days(1), balance="30.00")
        cards["shortened"] = add_card(world, day + days(40), shopify_expires=day - days(2))
        cards["extended"] = add_card(world, day - days(3), shopify_expires=day + days(200))
        cards["both"] = add_card(world, day + days(5))
        cards["no-email"] = add_card(world, day + days(20), holder=None)
        for n in range(12):
            cards[f"r{n}"] = add_card(world, day + days(8 + n), balance=f"{10 + n}.00")

    def later(world: World) -> None:
        world.clock.advance(24 * 86400)
        extend(world, cards["past"], today(world) + days(6))

    def run_expiry(_: Any) -> RunReport:
        return run(world)

    return Scenario(world, lambda: None, run_expiry, [first, later], lambda w: [])


def expiry_dates(world: World) -> list[Any]:
    return sorted(
        (r.get(GiftCards.SHOPIFY_GIFT_CARD_ID), r.get(GiftCards.EXPIRES_ON))
        for r in world.airtable.rows(GiftCards.TABLE)
    )


def test_every_crash_point_ends_in_the_clean_runs_state() -> None:
    expected, calls, crashes = matrix(build)

    actions = [action for action, _, _ in expected["receipts"].values()]
    assert actions.count(ReceiptAction.EXPIRED) >= 3
    assert actions.count(ReceiptAction.EXPIRY_CHANGED) == 2
    assert actions.count(ReceiptAction.REMINDER_SENT) >= 14
    assert actions.count(ReceiptAction.EMAIL_FAILED) == 1  # the card without an email
    reminder_ids = [uid for _, _, uid in expected["emails"] if uid.startswith("remind:")]
    assert len(reminder_ids) == len(set(reminder_ids))  # one event per key
    assert calls > 30 and crashes >= calls


def test_every_crash_point_mirrors_the_same_dates() -> None:
    """The snapshot compares statuses and balances; the dates are compared here, for the
    crash points of the first phase's run (where the mirrors happen)."""
    clean = build()
    play(clean)
    expected = expiry_dates(clean.world)
    first_run_calls = 12  # the read, the Shopify cards, the first groups' writes
    for index in range(first_run_calls):
        for mode in ("crash_before", "crash_after", "drop_after"):
            scenario = build()
            play(scenario, (index, mode))
            assert expiry_dates(scenario.world) == expected, f"{mode} at {index}"
            snapshot(scenario.world)  # its own checks: one receipt per reference, ...
