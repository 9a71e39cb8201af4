"""Crash matrices for the order prongs: kill the process at every outside call, then recover.

A scenario is deterministic (fixed clock, counters), so the clean run's call list numbers every
outside call. For each call index and each mode (crash before, crash after, response dropped) the
scenario is played again with the injector armed there; after a SimulatedCrash a *fresh* prong
(new deps, nothing remembered) runs over the same world until quiet. The end state must equal
the clean run's, and at the moment of every crash no order may carry a tag without its row.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from cards.money import Money
from config.layout import GiftCards, Receipts, ShopifyOrders
from prongs.report import RunReport
from tests.fakes import SimulatedCrash, World
from tests.prongs_shopify.conftest import until_quiet

CRASH_MODES = ("crash_before", "crash_after", "drop_after")

Phase = Callable[[World], None]


@dataclass
class Scenario:
    world: World
    make_deps: Callable[[], Any]
    run: Callable[[Any], RunReport]
    phases: Sequence[Phase]  # each changes the world, then the prong runs until quiet
    tag_rule: Callable[[World], list[str]]  # orders tagged without their row (must be empty)


def play(scenario: Scenario, arm: tuple[int, str] | None = None) -> int:
    """Play every phase, recovering from crashes with fresh deps; returns the crash count."""
    world = scenario.world
    if arm is not None:
        world.injector.arm_index(*arm)
    deps, crashes = scenario.make_deps(), 0
    for phase in scenario.phases:
        phase(world)
        while True:
            try:
                until_quiet(lambda: scenario.run(deps))  # noqa: B023 - deps is rebound on purpose
                break
            except SimulatedCrash:
                crashes += 1
                bad = scenario.tag_rule(world)
                assert not bad, f"tagged before recorded: {bad}"
                deps = scenario.make_deps()
    assert not scenario.tag_rule(world)
    return crashes


def snapshot(world: World) -> dict[str, Any]:
    """Everything the prongs are responsible for, with Airtable record ids replaced by the
    card's Shopify GID so two plays of one scenario compare equal."""
    cards = world.airtable.rows(GiftCards.TABLE)
    gid_of = {c["id"]: c.get(GiftCards.SHOPIFY_GIFT_CARD_ID, c["id"]) for c in cards}
    receipts = world.airtable.receipts()
    references = [r[Receipts.REFERENCE] for r in receipts]
    assert len(references) == len(set(references)), "a receipt written twice"
    origin_keys = [c.get(GiftCards.ORIGIN_KEY) for c in cards if c.get(GiftCards.ORIGIN_KEY)]
    assert len(origin_keys) == len(set(origin_keys)), "two Gift Cards rows for one origin key"
    shopify_ids = [
        c[GiftCards.SHOPIFY_GIFT_CARD_ID] for c in cards if GiftCards.SHOPIFY_GIFT_CARD_ID in c
    ]
    assert len(shopify_ids) == len(set(shopify_ids)), "two rows for one Shopify card"
    for card in cards:
        gid = card.get(GiftCards.SHOPIFY_GIFT_CARD_ID)
        if gid is not None and card.get(GiftCards.BALANCE) is not None:
            assert card[GiftCards.BALANCE] == world.shopify.balance(gid), f"balance of {gid}"
    notes = [c.card.note for c in world.shopify.cards.values() if c.card.note]
    assert len(notes) == len(set(notes)), "a card issued twice in Shopify"
    events = [(e.metric.value, e.email, e.unique_id) for e in world.email.events]
    assert len(events) == len(set(events))
    return {
        "receipts": {
            r[Receipts.REFERENCE]: (
                r[Receipts.ACTION],
                r.get(Receipts.AMOUNT),
                tuple(gid_of[c] for c in r.get(Receipts.GIFT_CARD, ())),
            )
            for r in receipts
        },
        "orders": {
            (r[ShopifyOrders.ORDER_ID], r[ShopifyOrders.KIND]): (
                r[ShopifyOrders.OUTCOME],
                frozenset(gid_of[c] for c in r.get(ShopifyOrders.GIFT_CARDS, ())),
            )
            for r in world.airtable.rows(ShopifyOrders.TABLE)
        },
        "tags": {o.id: o.tags for o in world.shopify.orders.values()},
        "cards": sorted(
            (
                str(gid_of[c["id"]]),
                c.get(GiftCards.STATUS),
                c.get(GiftCards.BALANCE, Money.zero("USD")),
                c.get(GiftCards.ORIGIN_KEY),
            )
            for c in cards
        ),
        "shopify_cards": len(world.shopify.cards),
        "emails": sorted(events),
    }


def matrix(build: Callable[[], Scenario]) -> tuple[dict[str, Any], int, int]:
    """Play the clean run, then every (call, mode); returns (clean snapshot, calls, crashes)."""
    clean = build()
    assert play(clean) == 0
    expected = snapshot(clean.world)
    calls = len(clean.world.injector.calls)
    crashes = 0
    for index in range(calls):
        for mode in CRASH_MODES:
            scenario = build()
            crashes += play(scenario, (index, mode))
            got = snapshot(scenario.world)
            assert got == expected, f"differs after {mode} at call {index} "
    return expected, calls, crashes
