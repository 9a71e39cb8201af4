"""The fault plan of one seed and the injector that carries it out.

Every outside call a prong makes goes through :meth:`SimInjector.call` (the fakes' Injector). While
faults are on, each call draws from the seed's own ``random.Random`` whether it fails and how:

- ``crash_before`` / ``crash_after``: the process dies before the call took effect, or after it
  took effect with the response in flight. The process is marked dead: every later call it
  tries (a ``finally`` releasing the lease, say) dies too, as nothing runs in a dead process.
- ``drop_after``: the effect happened, the caller sees ``AmbiguousOutcome`` (response lost).
- ``timeout_before``: nothing happened, the caller sees ``AmbiguousOutcome`` (a timeout before
  the request reached the service).
- ``fail_before``: nothing happened, the caller sees ``Retryable`` (a 429, Shopify's THROTTLED).

Before a call, the injector may also hand control to the world (:attr:`interleave`): another
process runs one whole prong (process A stopped at this call while B ran, which is how two
daemons on one base interleave, made deterministic), or a person edits a row, Shopify's checkout
spends a card, the call stalls past the lease. The call order is a function of the seed alone,
so the same seed fires the same faults at the same calls.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol, TypeVar

from clients.errors import AmbiguousOutcome
from tests.fakes.world import Injector, SimulatedCrash

T = TypeVar("T")

MODES = ("crash_before", "crash_after", "drop_after", "timeout_before", "fail_before")
CRASHES = frozenset({"crash_before", "crash_after"})


class Mortal(Protocol):
    """A simulated process: its name, and whether it died."""

    name: str
    dead: bool


@dataclass(frozen=True)
class FaultPlan:
    """How often calls fail while faults are on, by mode, and how often processes interleave."""

    rate: float = 0.0  # the chance that one outside call fails
    weights: tuple[tuple[str, float], ...] = tuple((m, 1.0) for m in MODES)
    interleave_rate: float = 0.0  # the chance that another process runs before a call

    @classmethod
    def draw(cls, rng: random.Random, *, two_processes: bool) -> FaultPlan:
        rate = rng.choice((0.0, 0.01, 0.03, 0.06, 0.1))
        weights = tuple((m, rng.choice((0.0, 1.0, 1.0, 3.0))) for m in MODES)
        if not any(w for _, w in weights):
            weights = ((rng.choice(MODES), 1.0),)
        interleave = rng.choice((0.01, 0.03, 0.08) if two_processes else (0.0, 0.005, 0.02))
        return cls(rate, weights, interleave)

    def describe(self) -> str:
        modes = ", ".join(f"{m} x{w:g}" for m, w in self.weights if w)
        return f"fault rate {self.rate:g} ({modes}); interleave {self.interleave_rate:g}"


@dataclass
class Fired:
    """One fault that fired: the call's number, operation, mode and process."""

    index: int
    operation: str
    mode: str
    process: str

    def __str__(self) -> str:
        return f"call {self.index} {self.operation}: {self.mode} in {self.process}"


@dataclass
class SimInjector(Injector):
    rng: random.Random = field(default_factory=lambda: random.Random(0))
    plan: FaultPlan = field(default_factory=FaultPlan)
    faults_on: bool = False
    current: Mortal | None = None  # the process making calls now
    interleave: Callable[[], None] | None = None  # let the world move before this call
    fired: list[Fired] = field(default_factory=list)
    on_effect: Callable[[str, object], None] | None = None  # told what each applied call returned
    _nested: bool = False

    def call(self, operation: str, apply: Callable[[], T]) -> T:
        self._maybe_interleave()
        process = self.current
        if process is not None and process.dead:
            raise SimulatedCrash(f"{process.name} is dead ({operation})")
        index = len(self.calls)
        if self.on_effect is not None:
            apply = self._watched(operation, apply)
        mode = self._draw()
        if mode is None:
            return super().call(operation, apply)
        name = process.name if process is not None else "-"
        self.fired.append(Fired(index, operation, mode, name))
        if mode in CRASHES and process is not None:
            process.dead = True
        if mode == "timeout_before":
            self.calls.append(operation)
            service, _, call = operation.partition(".")
            raise AmbiguousOutcome(service, call, "injected: timed out before it arrived")
        self.arm_index(index, mode)
        return super().call(operation, apply)

    def _watched(self, operation: str, apply: Callable[[], T]) -> Callable[[], T]:
        def watched() -> T:
            result = apply()
            if self.on_effect is not None:
                self.on_effect(operation, result)
            return result

        return watched

    def _draw(self) -> str | None:
        if not self.faults_on or self.plan.rate <= 0 or self.rng.random() >= self.plan.rate:
            return None
        modes, weights = zip(*self.plan.weights, strict=True)
        mode: str = self.rng.choices(modes, weights)[0]
        return mode

    def _maybe_interleave(self) -> None:
        if self.interleave is None or self._nested or not self.faults_on:
            return
        if self.plan.interleave_rate <= 0 or self.rng.random() >= self.plan.interleave_rate:
            return
        outer = self.current
        self._nested = True
        try:
            self.interleave()
        finally:
            self._nested = False
            self.current = outer
