"""The audit's classes of drift and its running count of them (the summary ``giftbridge audit``
prints, and the outcomes each run reports)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from enum import StrEnum

NEEDS_PERSON_KEPT = 200


class DriftClass(StrEnum):
    """What the audit found, in an operator's words."""

    BALANCE = "balance differs"
    EXPIRY = "expiry differs"
    ENABLED = "deactivated in Shopify"
    TRANSACTION = "unexplained Shopify transaction"
    MISSING_ROW = "Gift Cards row missing"
    MISSING_CARD = "Shopify card missing"
    PENDING = "transaction awaiting the online prongs"


class Result(StrEnum):
    REPAIRED = "repaired"  # mirrored, recorded or restored by the audit
    NEEDS_PERSON = "needs a person"  # recorded and alerted; nothing changed
    WAITING = "waiting"  # looked at again by a later run


@dataclass
class AuditTally:
    """Counts over the runs of one process (a ``giftbridge audit`` command, or the daemon)."""

    cards_compared: int = 0
    counts: Counter[tuple[DriftClass, Result]] = field(default_factory=Counter)
    needs_person: list[str] = field(default_factory=list)  # one line each, for the operator
    full_passes_finished: int = 0
    incrementals_finished: int = 0

    def add(self, kind: DriftClass, result: Result, line: str | None = None) -> None:
        self.counts[(kind, result)] += 1
        if result is Result.NEEDS_PERSON and line is not None:
            self.needs_person.append(line)
            del self.needs_person[:-NEEDS_PERSON_KEPT]  # a daemon runs for months

    def count(self, kind: DriftClass, result: Result | None = None) -> int:
        return sum(n for (k, r), n in self.counts.items() if k is kind and result in (None, r))

    @property
    def drift_found(self) -> int:
        return sum(n for (k, _), n in self.counts.items() if k is not DriftClass.PENDING)
