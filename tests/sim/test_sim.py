"""The whole-system simulation over a fixed range of seeds (``make soak`` runs 10,000).

Each seed builds a world, plays a random schedule of events and prong runs in one process or
two with faults at outside calls, stops the faults, runs every prong until quiet and checks the
invariants (:mod:`tests.sim.invariants`). A failing seed names what broke and how to replay it.
"""

from __future__ import annotations

import hashlib

import pytest

from tests.sim.process import Ran
from tests.sim.runner import SeedResult, run_seed

SEEDS = range(300)


@pytest.mark.parametrize("seed", SEEDS)
def test_seed_keeps_every_invariant(seed: int) -> None:
    result = run_seed(seed)
    assert result.ok, (
        f"seed {seed} broke {len(result.failures)} invariant(s); replay with "
        f"`make soak SEED={seed}` (python -m tests.sim replay {seed}):\n  "
        + "\n  ".join(f[:400] for f in result.failures[:10])
    )


def _fingerprint(seed: int) -> str:
    result = run_seed(seed)
    assert result.sim is not None
    injector = result.sim.injector
    trace = [*injector.calls, *map(str, injector.fired), *result.failures]
    return hashlib.sha256("\n".join(trace).encode()).hexdigest()


def test_a_seed_replays_exactly() -> None:
    """The same seed makes the same calls, fires the same faults and ends the same way."""
    assert _fingerprint(7) == _fingerprint(7)
    assert _fingerprint(7) != _fingerprint(8)


def test_the_seeds_exercise_what_they_should() -> None:
    """Across the range, faults fire in every mode, two processes interleave, processes die
    and come back, and prongs of every kind find work: a schedule that did none of it would
    pass vacuously."""
    modes, nested, deaths, busy = set(), 0, 0, set()
    for seed in range(0, 40):
        result = run_seed(seed)
        assert result.sim is not None
        modes |= {f.mode for f in result.sim.injector.fired}
        assert result.runs > 0
        nested += sum(1 for r in _runs(result) if r.nested)
        deaths += sum(1 for r in _runs(result) if r.outcome is None)
        busy |= {
            r.prong
            for r in _runs(result)
            if r.outcome and r.outcome.report and r.outcome.report.found_work
        }
    assert modes == {"crash_before", "crash_after", "drop_after", "timeout_before", "fail_before"}
    assert nested > 0 and deaths > 0
    assert busy == {
        "store-transactions",
        "shopify-purchases",
        "shopify-redemptions",
        "expiry",
        "audit",
    }


def _runs(result: SeedResult) -> list[Ran]:
    return result.ran
