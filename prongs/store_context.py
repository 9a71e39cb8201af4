"""What every store-transaction flow (redemptions, creations, balance checks, card actions) is
handed: its run's :class:`Context` and :class:`StoreConfig`, and what it hands back for each
request (:class:`Handled`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from cards.authority import store_refusal
from clients.records import Store
from prongs.deps import CardConfig, Deps
from prongs.exactly_once import again_if_ambiguous
from prongs.report import Fence, NoFence


@dataclass(frozen=True, slots=True)
class StoreConfig:
    """Everything the store-transactions prong reads from settings."""

    card: CardConfig
    portal_enabled: bool = True
    balance_checks_per_hour: int = 5
    # How often redemptions are polled between lower-priority records and a bulk group's cards:
    # 1 s kept a redemption during a 500-card import at p99 3.1 s (2 s: 3.3-6.3 s), for about
    # 0.5 more Airtable requests a card of the import (bench_bulk).
    redemption_recheck_seconds: float = 1.0
    queue_page: int = 100  # records read per queue poll (one Airtable page)
    redemption_batch: int = 10  # redemptions handled together: Airtable's records per write
    max_records_per_run: int = 300
    alert_email: str | None = None  # ALERT_EMAIL, for Giftbridge Alert (prongs.alerts)


@dataclass
class Context:
    """One run's dependencies, configuration and read-once caches."""

    deps: Deps
    config: StoreConfig
    fence: Fence = field(default_factory=NoFence)  # the lease's: before moving money
    _stores: dict[str, Store] | None = None

    @property
    def card(self) -> CardConfig:
        return self.config.card

    def now(self) -> datetime:
        return self.deps.clock.now()

    def stores(self) -> dict[str, Store]:
        """Every Stores row by record id, read once per run."""
        if self._stores is None:
            stores = again_if_ambiguous(self.deps.airtable.stores)
            self._stores = {s.id: s for s in stores}
        return self._stores

    def store(self, store_ids: Sequence[str]) -> Store | None:
        """The first linked store."""
        if not store_ids:
            return None
        return self.stores().get(store_ids[0])

    def store_refusal(self, store_ids: Sequence[str], *, required: bool) -> str | None:
        """Why the linked stores do not authorise a request (:mod:`cards.authority`)."""
        return store_refusal(store_ids, self.stores(), required=required)


@dataclass(frozen=True, slots=True)
class Handled:
    """What handling one request came to: its Outcome, or None when it was left Processing to
    resume; ``error`` is one line for the run report; ``attempt_failed`` when an unexpected
    exception was contained to it (the request is left as it was, and the attempt counts)."""

    outcome: str | None
    error: str | None = None
    attempt_failed: bool = False  # an unexpected exception: counted (prongs.containment)


def failure_line(what: str, exc: BaseException) -> str:
    """One report line: the record and the error class and message (which never hold a code)."""
    return f"{what}: {type(exc).__name__}: {exc}"
