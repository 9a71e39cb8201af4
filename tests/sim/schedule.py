"""A seed's schedule: external events and prong runs, in order, drawn from the seed alone.

A :class:`Step` is either an event (a name in :data:`EVENTS`) or a run of one prong in one
process. Each step carries its own seed, so what an event does depends on the step's seed and
the world at that moment, never on how many random numbers an earlier step drew.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from tests.sim import events, events_shop
from tests.sim.events import Event
from tests.sim.process import PRONGS

RUN = "run"
# name -> (event, weight)
EVENTS: dict[str, tuple[Event, float]] = {
    "redeem": (events.redeem, 10),
    "sell": (events.sell, 6),
    "bulk": (events.bulk, 1),
    "check_balance": (events.check_balance, 3),
    "act_on_card": (events.act_on_card, 4),
    "edit_request": (events.edit_request, 1.5),
    "delete_request": (events.delete_request, 0.7),
    "delete_card_row": (events.delete_card_row, 0.6),
    "toggle_store": (events.toggle_store, 0.6),
    "pause_prong": (events.pause_prong, 0.6),
    "order_skus": (events_shop.order_skus, 3),
    "order_native": (events_shop.order_native, 1.5),
    "fulfil_native": (events_shop.fulfil_native, 2),
    "issue_native_alone": (events_shop.issue_native_alone, 1),
    "checkout": (events_shop.checkout, 4),
    "refund": (events_shop.refund, 2),
    "admin_change": (events_shop.admin_change, 1.5),
    "clock_jump": (events_shop.clock_jump, 5),
}
PRONG_WEIGHTS = {
    "store-transactions": 5,
    "shopify-purchases": 2,
    "shopify-redemptions": 2,
    "expiry": 1.5,
    "audit": 1.5,
}
RUN_SHARE = 0.45


@dataclass(frozen=True)
class Step:
    kind: str  # an event name, or RUN
    seed: int
    process: int = 0
    prong: str = ""

    def __str__(self) -> str:
        if self.kind == RUN:
            return f"run {self.prong} in process {'AB'[self.process]}"
        return self.kind


def make_schedule(rng: random.Random, length: int, processes: int) -> list[Step]:
    names = list(EVENTS)
    weights = [EVENTS[n][1] for n in names]
    prongs = [p for p in PRONGS if p in PRONG_WEIGHTS]
    prong_weights = [PRONG_WEIGHTS[p] for p in prongs]
    steps = []
    for _ in range(length):
        seed = rng.getrandbits(32)
        if rng.random() < RUN_SHARE:
            prong = rng.choices(prongs, prong_weights)[0]
            steps.append(Step(RUN, seed, rng.randrange(processes), prong))
        else:
            steps.append(Step(rng.choices(names, weights)[0], seed))
    return steps
