"""A prong that keeps failing sits out 1, 3, 7 ... ticks, capped; one success resets it."""

from __future__ import annotations

from daemon.backoff import Backoff


def _pattern(backoff: Backoff, ticks: int, fails: bool = True) -> str:
    out = []
    for _ in range(ticks):
        if backoff.should_skip("p"):
            out.append(".")
        else:
            out.append("x")
            backoff.record("p", failed=fails)
    return "".join(out)


def test_the_skips_double_and_stop_at_the_cap() -> None:
    backoff = Backoff(tick_seconds=15, cap_seconds=120)  # at most 8 ticks
    assert _pattern(backoff, 30) == "xx.x...x.......x........x........"[:30]


def test_a_success_resets_and_other_prongs_are_unaffected() -> None:
    backoff = Backoff(tick_seconds=15)
    _pattern(backoff, 5)
    assert backoff.failures("p") == 3
    assert not backoff.should_skip("other")
    while backoff.should_skip("p"):
        pass
    backoff.record("p", failed=False)
    assert backoff.failures("p") == 0
    assert _pattern(backoff, 3, fails=False) == "xxx"
