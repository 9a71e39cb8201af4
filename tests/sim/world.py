"""The world of one seed: the fakes over one clock and the seed's injector, the prongs' configs,
and what the simulation remembers to check afterwards (every code typed, rows staff deleted).

Everything is drawn from the seed's ``random.Random``: the shop's time zone, the start date, the
expiry policy, whether an operator gets alerts, the stores. Codes giftbridge generates come from
the seed too (:func:`seeded_codes`), so a seed replays exactly, codes included.
"""

from __future__ import annotations

import base64
import random
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import cards.codes
from cards.money import Money
from cards.policy import AmountLimits, ExpiryPolicy
from cards.vocab import RequestStatus
from clients.records import ShopifyCard, TransactionResult
from config.layout import GiftCards, StoreRedemptions, Stores
from prongs.audit import AuditConfig
from prongs.deps import CardConfig
from prongs.expiry_run import ExpiryConfig
from prongs.shopify_purchases import PurchasesConfig
from prongs.shopify_redemptions import RedemptionsConfig
from prongs.store_context import StoreConfig
from tests.fakes import FakeAirtable, FakeCertificates, FakeClock, FakeEmail, FakeShopify, World
from tests.sim.faults import FaultPlan, SimInjector

USD = "USD"
PEPPER = "sim-pepper-" + "p" * 32
CODE_KEY = base64.urlsafe_b64encode(bytes(range(1, 33))).decode("ascii")
SKUS = ("GC-25", "GC-50", "GC-BIG")
SKU_PRICES = {"GC-25": "25.00", "GC-50": "50.00", "GC-BIG": "5000.00"}  # the last: over MAX
ALERTS_TO = "ops@example.com"
TIMEZONES = ("Etc/UTC", "Pacific/Auckland", "America/Los_Angeles", "Asia/Kolkata")


def usd(text: str) -> Money:
    return Money.of(text, USD)


@dataclass(frozen=True)
class Configs:
    """Every prong's config for this seed (what daemon.wiring builds from Settings)."""

    store: StoreConfig
    purchases: PurchasesConfig
    redemptions: RedemptionsConfig
    expiry: ExpiryConfig
    audit: AuditConfig


@dataclass
class NativeOrder:
    """An order of native gift cards Shopify has not issued every card of yet."""

    order_id: str
    units: list[Money]


@dataclass
class Spend:
    """A checkout paid with a gift card: what a later refund may give back."""

    order_id: str
    card_id: str
    paid: Money
    refunded: Money


@dataclass
class SimWorld:
    seed: int
    world: World
    injector: SimInjector
    configs: Configs
    stores: list[str]
    typed: set[str] = field(default_factory=set)  # every code-like text typed, normalized
    deleted_card_gids: set[str] = field(default_factory=set)  # cards whose row staff deleted
    native_orders: list[NativeOrder] = field(default_factory=list)
    spends: list[Spend] = field(default_factory=list)
    batches: int = 0
    escaped: list[str] = field(default_factory=list)  # exceptions a prong let out of a run
    # Store authority: each request's store links as typed, which stores were Active when each
    # process's current run began, and both views at each debit or card creation (by note).
    request_stores: dict[str, tuple[str, ...]] = field(default_factory=dict)
    stores_at_run_start: dict[str, dict[str, bool]] = field(default_factory=dict)
    stores_at_effect: dict[str, tuple[dict[str, bool], dict[str, bool]]] = field(
        default_factory=dict
    )
    # A request goes on once its intent is recorded (a creation's Pending row under
    # ``create:<id>``, a redemption's Status Processing): authorised then, whatever staff switch
    # off later. Both views at that moment.
    stores_at_intent: dict[str, tuple[dict[str, bool], dict[str, bool]]] = field(
        default_factory=dict
    )
    # Gift Cards row -> how many of its Shopify card's transactions came before giftbridge
    # linked the row to the card (history it never saw: DESIGN.md leaves it unprocessed).
    history: dict[str, int] = field(default_factory=dict)
    # Balance checks whose Email staff corrected: the corrected address gets its answer too
    # (the first went out to the address as it was then; an edit is the later instruction).
    readdressed: set[str] = field(default_factory=set)
    # A request's store links after staff deleted a linked store (request_stores keeps the typed).
    relinked: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def active_stores(self) -> dict[str, bool]:
        rows = self.airtable.tables[Stores.TABLE]
        return {s: bool(rows[s].get(Stores.ACTIVE)) if s in rows else False for s in self.stores}

    def unlink_store(self, store: str) -> None:
        """A deleted store leaves every request's links, as Airtable unlinks it: a run that
        read the request before sees the old links, one after sees the new (both are kept)."""
        for record_id, links in list(self.request_stores.items()):
            if store in links:
                now = tuple(s for s in self.relinked.get(record_id, links) if s != store)
                self.relinked[record_id] = now

    def watch_effect(self, operation: str, result: object) -> None:
        """Note which stores were Active when money moved or a card was made (by its note),
        and when each card row was first linked to its Shopify card."""
        if operation.startswith("airtable.") and operation != "airtable.list":
            self._note_links()
        note = None
        if operation == "shopify.debit" and isinstance(result, TransactionResult):
            note = result.transaction.note
        elif operation == "shopify.create_card" and isinstance(result, ShopifyCard):
            note = result.note
        process = self.injector.current
        if note and process is not None:
            started = self.stores_at_run_start.get(process.name, {})
            self.stores_at_effect[note] = (started, self.active_stores())

    @property
    def airtable(self) -> FakeAirtable:
        return self.world.airtable

    @property
    def shopify(self) -> FakeShopify:
        return self.world.shopify

    @property
    def clock(self) -> FakeClock:
        return self.world.clock

    def _note_links(self) -> None:
        process = self.injector.current
        started = self.stores_at_run_start.get(process.name, {}) if process else {}
        intents = [
            str(row.get(GiftCards.ORIGIN_KEY) or "")
            for row in self.airtable.tables[GiftCards.TABLE].values()
        ]
        intents += [
            f"redeem:{record_id}"
            for record_id, row in self.airtable.tables[StoreRedemptions.TABLE].items()
            if row.get(StoreRedemptions.STATUS) == RequestStatus.PROCESSING
        ]
        for key in intents:
            if key.startswith(("create:", "redeem:")) and key not in self.stores_at_intent:
                self.stores_at_intent[key] = (started, self.active_stores())
        for record_id, row in self.airtable.tables[GiftCards.TABLE].items():
            gid = row.get(GiftCards.SHOPIFY_GIFT_CARD_ID)
            if gid and record_id not in self.history and gid in self.shopify.cards:
                self.history[record_id] = len(self.shopify.cards[gid].transactions)


def build_configs(rng: random.Random) -> Configs:
    alert = ALERTS_TO if rng.random() < 0.5 else None
    card = CardConfig(
        currency=USD,
        business_name="Sim Books",
        code_length=rng.choice((8, 12, 12, 20)),
        limits=AmountLimits(usd("5.00"), usd("1000.00")),
        expiry=ExpiryPolicy(rng.choice((0, 0, 10, 45, 400))),
        pepper=PEPPER,
        code_key=CODE_KEY,
        email_attempts=2,
        email_retry_seconds=0.01,
    )
    return Configs(
        store=StoreConfig(
            card=card,
            portal_enabled=rng.random() < 0.7,
            balance_checks_per_hour=rng.choice((2, 5)),
            alert_email=alert,
        ),
        purchases=PurchasesConfig(
            card=card, gift_card_skus=frozenset(SKUS), page_size=3, alert_email=alert
        ),
        redemptions=RedemptionsConfig(currency=USD, page_size=3, alert_email=alert),
        expiry=ExpiryConfig(
            business_name="Sim Books", reminder_days=(30, 7), email_retry_seconds=0.01
        ),
        audit=AuditConfig(
            currency=USD,
            interval=timedelta(minutes=10),
            page_size=5,
            chunk_cards=10,
            incremental_page=5,
            alert_email=alert,
        ),
    )


def build(seed: int, rng: random.Random, *, two_processes: bool) -> SimWorld:
    start = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=rng.randrange(365 * 24 * 60))
    clock = FakeClock(start)
    injector = SimInjector(rng=random.Random(rng.random()))
    injector.plan = FaultPlan.draw(rng, two_processes=two_processes)
    world = World(
        clock,
        injector,
        FakeAirtable(clock, injector, USD),
        FakeShopify(clock, injector, USD),
        FakeEmail(injector),
        FakeCertificates(),
    )
    world.shopify.timezone = rng.choice(TIMEZONES)
    sim = SimWorld(seed, world, injector, build_configs(rng), stores=[])
    injector.on_effect = sim.watch_effect
    for n in range(rng.choice((1, 2, 3))):
        fields: dict[str, Any] = {Stores.NAME: f"Store {n + 1}", Stores.ACTIVE: True}
        if rng.random() < 0.85:
            fields[Stores.EMAIL] = f"store{n + 1}@example.com"
        sim.stores.append(world.airtable.insert(Stores.TABLE, fields))
    return sim


class _SeededSecrets:
    """Stands in for the ``secrets`` module inside :mod:`cards.codes` during a seed."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng

    def choice(self, seq: str) -> str:
        return self._rng.choice(seq)


@contextmanager
def seeded_codes(rng: random.Random) -> Iterator[None]:
    """Codes giftbridge generates come from ``rng`` while the seed runs (tests only)."""
    module: Any = cards.codes
    real = module.secrets
    module.secrets = _SeededSecrets(rng)
    try:
        yield
    finally:
        module.secrets = real
