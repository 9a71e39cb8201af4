"""A harness for the store-transactions prong over the in-memory fakes."""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from typing import Any, TypeVar

import pytest

from cards.codes import Code, unseal
from cards.money import Money
from cards.policy import AmountLimits, ExpiryPolicy
from cards.vocab import CardActionType, Channel, Kind
from clients.records import EmailEvent
from config.layout import (
    BalanceChecks,
    CardActions,
    CreationRequests,
    GiftCards,
    Receipts,
    StoreRedemptions,
    Stores,
)
from prongs.containment import AttemptBook
from prongs.deps import CardConfig, Deps
from prongs.report import Budget, OpenGate, RunReport
from prongs.store_context import StoreConfig
from prongs.store_transactions import run_once
from tests.fakes import (
    FakeAirtable,
    FakeCertificates,
    FakeClock,
    FakeEmail,
    FakeShopify,
    Injector,
    World,
)

T = TypeVar("T")
PEPPER = "pepper-for-tests-" + "x" * 32
CODE_KEY = base64.urlsafe_b64encode(bytes(range(32))).decode("ascii")
USD = "USD"
DEFAULT_STORE = "default"  # Harness.redemption's store: an Active store made on first use


def usd(text: str) -> Money:
    return Money.of(text, USD)


class HookedInjector(Injector):
    """An Injector that also calls ``hook(operation)`` before each call (tests only)."""

    hook: Callable[[str], None] | None = None

    def call(self, operation: str, apply: Callable[[], T]) -> T:
        if self.hook is not None:
            self.hook(operation)
        return super().call(operation, apply)


def build_world() -> World:
    clock, injector = FakeClock(), HookedInjector()
    return World(
        clock,
        injector,
        FakeAirtable(clock, injector, USD),
        FakeShopify(clock, injector, USD),
        FakeEmail(injector),
        FakeCertificates(),
    )


def card_config(**overrides: Any) -> CardConfig:
    base = CardConfig(
        currency=USD,
        business_name="Bridge Books",
        code_length=12,
        limits=AmountLimits(usd("5.00"), usd("1000.00")),
        expiry=ExpiryPolicy(0),
        pepper=PEPPER,
        code_key=CODE_KEY,
        email_attempts=3,
        email_retry_seconds=0.01,
    )
    return replace(base, **overrides)


@dataclass
class Harness:
    world: World = field(default_factory=build_world)
    config: StoreConfig = field(default_factory=lambda: StoreConfig(card=card_config()))
    _default_store: str | None = None
    attempts: AttemptBook = field(default_factory=AttemptBook)  # kept across runs, as the daemon

    # --- running ----------------------------------------------------------------------------
    @property
    def deps(self) -> Deps:
        return self.world.deps()

    @property
    def at(self) -> FakeAirtable:
        return self.world.airtable

    @property
    def shop(self) -> FakeShopify:
        return self.world.shopify

    @property
    def injector(self) -> HookedInjector:
        assert isinstance(self.world.injector, HookedInjector)
        return self.world.injector

    def run(self, gate: OpenGate | None = None, seconds: float = 30) -> RunReport:
        return run_once(
            self.deps,
            self.config,
            Budget(self.world.clock, seconds),
            gate or OpenGate(),
            self.attempts,
        )

    def run_until_quiet(self, runs: int = 6) -> list[RunReport]:
        reports = []
        for _ in range(runs):
            reports.append(self.run())
            if not reports[-1].found_work:
                return reports
        raise AssertionError("the prong never got quiet")

    # --- rows -------------------------------------------------------------------------------
    def store(self, email: str | None = "shop@example.com", name: str = "Main St") -> str:
        fields: dict[str, Any] = {Stores.NAME: name, Stores.ACTIVE: True}
        if email:
            fields[Stores.EMAIL] = email
        return self.at.insert(Stores.TABLE, fields)

    def default_store(self) -> str:
        """An Active store without an email (so it gets no notices), made on first use: store
        redemptions and Channel Store creations must link an Active store (store authority)."""
        if self._default_store is None:
            self._default_store = self.store(email=None, name="Counter")
        return self._default_store

    def redemption(
        self,
        code: str | None,
        amount: str | None = "10.00",
        store: str | None = DEFAULT_STORE,
        order_total: str | None = None,
    ) -> str:
        fields: dict[str, Any] = {StoreRedemptions.CODE: code, StoreRedemptions.STAFF_NAME: "Ann"}
        if amount is not None:
            fields[StoreRedemptions.AMOUNT] = Decimal(amount)
        if order_total is not None:
            fields[StoreRedemptions.ORDER_TOTAL] = Decimal(order_total)
        if store == DEFAULT_STORE:
            store = self.default_store()
        if store:
            fields[StoreRedemptions.STORE] = (store,)
        return self.at.insert(StoreRedemptions.TABLE, fields)

    def creation(self, **overrides: Any) -> str:
        fields: dict[str, Any] = {
            CreationRequests.PURCHASER_NAME: "Pat Buyer",
            CreationRequests.PURCHASER_EMAIL: "pat@example.com",
            CreationRequests.RECIPIENT_NAME: "Rae Friend",
            CreationRequests.RECIPIENT_EMAIL: "rae@example.com",
            CreationRequests.IS_GIFT: True,
            CreationRequests.MESSAGE: "Happy birthday",
            CreationRequests.AMOUNT: Decimal("50.00"),
            CreationRequests.CHANNEL: Channel.STORE,
        }
        fields.update(overrides)
        store_channel = fields[CreationRequests.CHANNEL] is Channel.STORE
        if store_channel and CreationRequests.STORE not in fields:
            fields[CreationRequests.STORE] = (self.default_store(),)
        return self.at.insert(
            CreationRequests.TABLE, {k: v for k, v in fields.items() if v is not None}
        )

    def balance_check(self, code: str | None, email: str | None = "who@example.com") -> str:
        return self.at.insert(
            BalanceChecks.TABLE, {BalanceChecks.CODE: code, BalanceChecks.EMAIL: email}
        )

    def card_action(
        self,
        card_id: str | None,
        action: CardActionType,
        *,
        reason: str | None = None,
        amount: str | None = None,
        new_expiry: date | None = None,
    ) -> str:
        fields: dict[str, Any] = {CardActions.ACTION: action, CardActions.REQUESTED_BY: "Ops"}
        if card_id:
            fields[CardActions.GIFT_CARD] = (card_id,)
        if reason:
            fields[CardActions.REASON] = reason
        if amount is not None:
            fields[CardActions.AMOUNT] = Decimal(amount)
        if new_expiry is not None:
            fields[CardActions.NEW_EXPIRY] = new_expiry
        return self.at.insert(CardActions.TABLE, fields)

    def issue(self, amount: str = "50.00", kind: Kind = Kind.GIFT_CARD, **overrides: Any) -> str:
        """A card issued through a creation request; returns its Gift Cards record id."""
        request = self.creation(
            **{CreationRequests.AMOUNT: Decimal(amount), CreationRequests.KIND: kind, **overrides}
        )
        self.run()
        card_ids = self.at.row(CreationRequests.TABLE, request)[CreationRequests.GIFT_CARD]
        return str(card_ids[0])

    # --- reading back -----------------------------------------------------------------------
    def card(self, card_id: str) -> dict[str, Any]:
        return self.at.row(GiftCards.TABLE, card_id)

    def code_of(self, card_id: str) -> Code:
        return unseal(self.card(card_id)[GiftCards.CODE_SEALED], CODE_KEY)

    def shopify_id(self, card_id: str) -> str:
        return str(self.card(card_id)[GiftCards.SHOPIFY_GIFT_CARD_ID])

    def receipts(self) -> dict[str, dict[str, Any]]:
        rows = self.at.rows(Receipts.TABLE)
        refs = [r[Receipts.REFERENCE] for r in rows]
        assert len(refs) == len(set(refs)), "one receipt per reference"
        return {r[Receipts.REFERENCE]: r for r in rows}

    def events(self, unique_id: str) -> list[EmailEvent]:
        return self.world.email.by_unique_id(unique_id)

    def event(self, unique_id: str) -> EmailEvent:
        found = self.events(unique_id)
        assert len(found) == 1, f"{len(found)} events {unique_id}"
        return found[0]


@pytest.fixture
def h() -> Harness:
    return Harness()
