"""Fake time, fault and crash injection shared by the fakes.

Every port call of every fake goes through :meth:`Injector.call`, which numbers it. A test can
arm, for call number N (or for the next call to a named operation):

- ``crash_before``: raise :class:`SimulatedCrash` before the call takes effect;
- ``crash_after``: apply the call, then raise SimulatedCrash (the process died with the
  response in flight);
- ``drop_after``: apply the call, then raise ``AmbiguousOutcome`` (the response was lost);
- ``fail_before``: raise ``Retryable`` without applying.

SimulatedCrash derives from BaseException so ``except Exception`` and retry policies cannot
swallow it: the test catches it, builds a fresh prong over the same fakes, and runs again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, TypeVar

from clients.errors import AmbiguousOutcome, Retryable
from prongs.card_locks import CardLocks
from prongs.deps import Deps

if TYPE_CHECKING:
    from tests.fakes.airtable import FakeAirtable
    from tests.fakes.klaviyo import FakeEmail
    from tests.fakes.pdf import FakeCertificates
    from tests.fakes.shopify import FakeShopify

T = TypeVar("T")
MODES = ("crash_before", "crash_after", "drop_after", "fail_before")


class SimulatedCrash(BaseException):
    """The process died here."""


class FakeClock:
    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
        self._mono = 1000.0

    def now(self) -> datetime:
        return self._now

    def monotonic(self) -> float:
        return self._mono

    def sleep(self, seconds: float) -> None:
        self.advance(seconds)

    def advance(self, seconds: float) -> None:
        self._now += timedelta(seconds=seconds)
        self._mono += seconds


@dataclass
class Injector:
    calls: list[str] = field(default_factory=list)
    _by_index: dict[int, str] = field(default_factory=dict)
    _by_name: list[tuple[str, str]] = field(default_factory=list)

    def arm_index(self, index: int, mode: str) -> None:
        assert mode in MODES
        self._by_index[index] = mode

    def arm(self, operation: str, mode: str) -> None:
        """Fire ``mode`` at the next call of ``operation`` (e.g. ``shopify.debit``)."""
        assert mode in MODES
        self._by_name.append((operation, mode))

    def disarm(self) -> None:
        self._by_index.clear()
        self._by_name.clear()

    def _mode_for(self, index: int, operation: str) -> str | None:
        mode = self._by_index.pop(index, None)
        if mode:
            return mode
        for i, (name, armed) in enumerate(self._by_name):
            if name == operation:
                del self._by_name[i]
                return armed
        return None

    def call(self, operation: str, apply: Callable[[], T]) -> T:
        index = len(self.calls)
        self.calls.append(operation)
        mode = self._mode_for(index, operation)
        service, _, name = operation.partition(".")
        if mode == "crash_before":
            raise SimulatedCrash(f"before {operation} (call {index})")
        if mode == "fail_before":
            raise Retryable(service, name, "injected failure before applying")
        result = apply()
        if mode == "crash_after":
            raise SimulatedCrash(f"after {operation} (call {index})")
        if mode == "drop_after":
            raise AmbiguousOutcome(service, name, "injected: response lost after applying")
        return result

    def count(self, operation: str) -> int:
        return sum(1 for c in self.calls if c == operation)


@dataclass
class World:
    """All fakes over one clock and one injector: what a test builds prongs on."""

    clock: FakeClock
    injector: Injector
    airtable: FakeAirtable
    shopify: FakeShopify
    email: FakeEmail
    certificates: FakeCertificates
    card_locks: CardLocks = field(default_factory=CardLocks)  # the process's, as the daemon's

    def deps(self) -> Deps:
        """Every prong of a test over this world shares these deps' card locks, as the
        daemon's prongs share the process's."""
        return Deps(
            self.airtable, self.shopify, self.email, self.certificates, self.clock, self.card_locks
        )

    @classmethod
    def build(cls, currency: str = "USD") -> World:
        from tests.fakes.airtable import FakeAirtable
        from tests.fakes.klaviyo import FakeEmail
        from tests.fakes.pdf import FakeCertificates
        from tests.fakes.shopify import FakeShopify

        clock, injector = FakeClock(), Injector()
        return cls(
            clock,
            injector,
            FakeAirtable(clock, injector, currency),
            FakeShopify(clock, injector, currency),
            FakeEmail(injector),
            FakeCertificates(),
        )
