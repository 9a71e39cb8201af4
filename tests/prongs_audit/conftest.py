"""A harness for the audit prong over the in-memory fakes: cards issued through the store prong
(real rows, notes and receipts), changes made "in Shopify's admin", then audit runs."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any

import pytest

from config.layout import GiftCards, Receipts
from prongs import audit
from prongs.audit import AuditConfig, AuditProgress
from prongs.audit_state import MemoryStore
from prongs.report import Budget, Gate, OpenGate, RunReport
from tests.fakes.world import FakeClock
from tests.prongs.conftest import USD, Harness

ALERTS_TO = "ops@example.com"


def audit_config(**overrides: Any) -> AuditConfig:
    base = AuditConfig(
        currency=USD,
        interval=timedelta(minutes=10),
        page_size=5,
        chunk_cards=10,
        incremental_page=5,
        alert_email=ALERTS_TO,
    )
    return replace(base, **overrides)


class StepBudget(Budget):
    """Exhausted after ``checks`` looks (a run cut short at its n-th recovery point)."""

    def __init__(self, clock: FakeClock, checks: int) -> None:
        super().__init__(clock, 3600)
        self.left = checks

    @property
    def exhausted(self) -> bool:
        self.left -= 1
        return self.left < 0


@dataclass
class AuditHarness(Harness):
    store_state: MemoryStore = field(default_factory=MemoryStore)
    audit_config: AuditConfig = field(default_factory=audit_config)
    progress: AuditProgress | None = None

    def fresh_process(self) -> AuditProgress:
        """A restarted daemon: nothing in memory, the state file kept."""
        self.progress = AuditProgress(self.store_state)
        return self.progress

    def audit(self, budget: Budget | None = None, gate: Gate | None = None) -> RunReport:
        progress = self.progress or self.fresh_process()
        return audit.run_once(
            self.deps,
            self.audit_config,
            budget or Budget(self.world.clock, 600),
            gate or OpenGate(),
            progress=progress,
        )

    def later(self, minutes: float = 11) -> None:
        self.world.clock.advance(minutes * 60)

    def audited(self, minutes: float = 11) -> RunReport:
        """Time passes (past the interval and the settle time), then one audit run."""
        self.later(minutes)
        return self.audit()

    def request_full(self) -> None:
        (self.progress or self.fresh_process()).request_full()

    def gid(self, card_id: str) -> str:
        return str(self.card(card_id)[GiftCards.SHOPIFY_GIFT_CARD_ID])

    def receipt_actions(self) -> dict[str, str]:
        return {ref: str(r[Receipts.ACTION]) for ref, r in self.receipts().items()}

    def audit_receipts(self) -> dict[str, dict[str, Any]]:
        return {
            ref: r
            for ref, r in self.receipts().items()
            if ref.startswith(("drift:", "card-txn:", "alert:"))
        }


@pytest.fixture
def ah() -> AuditHarness:
    return AuditHarness()
