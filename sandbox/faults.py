"""Fault injection shared by the sandbox services.

A test (in-process, or over HTTP through ``POST /_sandbox/faults``) arms a rule for an
operation; the service consults the plan on every request for that operation:

- ``fail_before``: answer 502 (Airtable, Klaviyo) or a 502 with no execution (Shopify) without
  applying anything;
- ``drop_after``: apply the operation, then drop the connection without a response;
- ``delay``: sleep ``seconds`` and then behave normally (a ``seconds`` past the client's
  timeout is a hang);
- ``throttle``: answer as the service's rate limiter would (429, or Shopify's THROTTLED),
  without applying anything.

Operation names are ``<service>.<operation>``, optionally narrowed with ``:<qualifier>``:
``airtable.create:Receipts``, ``shopify.giftCardDebit``, ``klaviyo.create_event``. A rule for
``airtable.create`` matches every table; a rule for ``airtable.create:Receipts`` only that one.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from enum import StrEnum


class FaultKind(StrEnum):
    FAIL_BEFORE = "fail_before"
    DROP_AFTER = "drop_after"
    DELAY = "delay"
    THROTTLE = "throttle"


@dataclass(slots=True)
class FaultRule:
    operation: str
    kind: FaultKind
    times: int = 1
    seconds: float = 0.0


class FaultPlan:
    """Thread-safe set of armed fault rules; each rule fires ``times`` times, then disarms."""

    def __init__(self) -> None:
        self._rules: list[FaultRule] = []
        self._lock = threading.Lock()

    def add(
        self, operation: str, kind: FaultKind | str, *, times: int = 1, seconds: float = 0.0
    ) -> None:
        if times < 1:
            raise ValueError("times must be at least 1")
        with self._lock:
            self._rules.append(FaultRule(operation, FaultKind(kind), times, seconds))

    def take(self, operation: str, qualifier: str | None = None) -> FaultRule | None:
        """Return (and use up one firing of) the first rule matching this request."""
        names = {operation} | ({f"{operation}:{qualifier}"} if qualifier else set())
        with self._lock:
            for rule in self._rules:
                if rule.operation in names:
                    rule.times -= 1
                    if rule.times == 0:
                        self._rules.remove(rule)
                    return FaultRule(rule.operation, rule.kind, 1, rule.seconds)
        return None

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

    def pending(self) -> list[FaultRule]:
        with self._lock:
            return [FaultRule(r.operation, r.kind, r.times, r.seconds) for r in self._rules]
