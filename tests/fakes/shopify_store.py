"""The state under the Shopify fake: cards with their transactions, orders, the injector."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVar

from clients.records import CardTransaction, ShopifyCard, ShopifyOrder
from tests.fakes.world import FakeClock, Injector

T = TypeVar("T")


@dataclass
class StoredCard:
    card: ShopifyCard
    code: str
    transactions: list[CardTransaction] = field(default_factory=list)  # oldest first
    updated_at: datetime | None = None  # Shopify's updatedAt (None: the card's creation)

    def changed(self, card: ShopifyCard, at: datetime) -> None:
        """Replace the card, as Shopify does on any change: ``updatedAt`` moves."""
        self.card = card
        self.updated_at = at


class ShopifyStore:
    """The shop's cards, orders and granted scopes; every port call goes through the injector."""

    def __init__(self, clock: FakeClock, injector: Injector, currency: str = "USD") -> None:
        self.clock = clock
        self.injector = injector
        self.currency = currency
        self.cards: dict[str, StoredCard] = {}
        self.orders: dict[str, ShopifyOrder] = {}
        self.order_cards: dict[str, list[str]] = {}
        self.scopes = {
            "read_gift_cards",
            "write_gift_cards",
            "read_gift_card_transactions",
            "write_gift_card_transactions",
            "read_orders",
            "write_orders",
        }
        self._ids = itertools.count(1001)
        self.timezone = "Etc/UTC"  # shop.ianaTimezone

    def _call(self, operation: str, apply: Callable[[], T]) -> T:
        return self.injector.call(f"shopify.{operation}", apply)
