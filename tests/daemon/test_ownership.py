"""The lease protocol (daemon.ownership) against a simulated Status row: two claimants never
both act, whatever the latencies, the order writes land in, late acknowledgements, a holder
that stops and wakes up late, or wall clocks an hour apart."""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

import pytest

from cards.vocab import ProngState
from clients.records import StatusRow
from daemon.ownership import CLAIM_ACK_SECONDS, ProngLease, Step, Verdict, WriteRows
from tests.daemon.lease_sim import EPOCH, PRONG, Latency, Sim, overlaps, random_latency


def fixed(table: dict[str, tuple[float, float]]) -> Latency:
    def latency(name: str, step: Step) -> tuple[float, float]:
        return table.get(f"{name}:{type(step).__name__}", table.get(name, (0.1, 0.1)))

    return latency


def winners(sim: Sim) -> list[str]:
    return [name for name, c in sim.claimants.items() if c.windows]


@pytest.mark.parametrize("seed", range(300))
def test_claimants_starting_together_never_both_act(seed: int) -> None:
    rng = random.Random(seed)
    sim = Sim(random_latency(rng, slow=0.2))
    for name in "abc"[: rng.choice((2, 3))]:
        sim.add(name, start=rng.uniform(0, 1.0), wall_offset=rng.uniform(-3600, 3600))
    sim.run(until=400)
    assert not overlaps(sim), sim.history


@pytest.mark.parametrize("seed", range(50))
def test_with_ordinary_latencies_someone_gets_the_lease_within_seconds(seed: int) -> None:
    rng = random.Random(500 + seed)
    sim = Sim(random_latency(rng, slow=0.0, quick=0.4))  # Airtable's usual round trips
    for name in "abc":
        sim.add(name, start=rng.uniform(0, 1.0))
    sim.run(until=60)
    assert len(winners(sim)) == 1
    assert min(w[0] for c in sim.claimants.values() for w in c.windows) < 10


@pytest.mark.parametrize("first", ["a", "b"])
def test_whichever_write_lands_last_wins_and_both_agree(first: str) -> None:
    second = "b" if first == "a" else "a"
    sim = Sim(fixed({f"{first}:WriteRows": (0.1, 0.1), f"{second}:WriteRows": (0.5, 0.1)}))
    sim.add("a")
    sim.add("b")
    sim.run(until=10)
    assert winners(sim) == [second]
    assert sim.row.owner == sim.claimants[second].lease.owner
    assert not sim.claimants[first].lease.held


def test_a_claim_acknowledged_late_gives_up_even_when_its_write_landed() -> None:
    slow = [(0.1, CLAIM_ACK_SECONDS + 0.5)]  # the first write only

    def latency(name: str, step: Step) -> tuple[float, float]:
        return slow.pop() if isinstance(step, WriteRows) and slow else (0.1, 0.1)

    sim = Sim(latency)
    sim.add("a")
    sim.run(until=10)
    assert sim.row.owner == sim.claimants["a"].lease.owner  # its write is there...
    assert winners(sim) == []  # ...but it did not count
    sim.run(until=200)  # and its own row is taken only once unchanged for a lease period
    (window,) = sim.claimants["a"].windows
    assert window[0] >= 90


def test_a_holder_that_stops_and_wakes_up_late_never_acts_beside_the_new_owner() -> None:
    sim = Sim(fixed({}))
    a = sim.add("a")
    sim.run(until=20)
    assert winners(sim) == ["a"]
    a.frozen.append((31.0, 400.0))  # a hangs just after its renewal at 30 s...
    sim.add("b", start=40.0, wall_offset=7200)  # ...while b, two hours ahead, watches
    sim.run(until=600)
    assert winners(sim) == ["a", "b"]
    b_start = sim.claimants["b"].windows[0][0]
    assert b_start >= a.windows[0][1]  # b takes over only after a's lease ended on a's clock
    assert not overlaps(sim)
    assert not a.lease.held  # a woke up, saw it lost the row, and acts no more


def test_renewals_keep_another_daemon_out_forever() -> None:
    sim = Sim(random_latency(random.Random(7), slow=0.05))
    sim.add("a")
    sim.add("b", start=5.0)
    sim.run(until=3600)
    assert len(winners(sim)) == 1
    (holder,) = [c for c in sim.claimants.values() if c.windows]
    assert len(holder.windows) == 1 and holder.lease.held


@pytest.mark.parametrize("seed", range(200))
def test_random_freezes_and_slow_answers_never_let_two_act(seed: int) -> None:
    rng = random.Random(1000 + seed)
    sim = Sim(random_latency(rng, slow=0.15))
    for name in "abc":
        claimant = sim.add(name, start=rng.uniform(0, 60), wall_offset=rng.uniform(-600, 600))
        for _ in range(rng.randint(0, 3)):
            start = rng.uniform(0, 1500)
            claimant.frozen.append((start, start + rng.uniform(1, 300)))
    sim.run(until=2000)
    assert not overlaps(sim), sim.history


def row(**fields: Any) -> StatusRow:
    return StatusRow("recStatus00000001", PRONG, **fields)


def test_what_counts_as_free() -> None:
    lease = ProngLease(PRONG, "me:1:aa", 90.0, 15.0, dead_owners=frozenset({"me:0:old"}))
    at = EPOCH
    assert lease.assess(row(state=ProngState.PAUSED), 0) is Verdict.PAUSED
    assert lease.assess(row(owner="other:1:bb"), 0) is Verdict.FREE  # released: no lease time
    held = row(owner="other:1:bb", lease_expires_at=at, heartbeat_at=at)
    assert lease.assess(held, 0) is Verdict.ELSEWHERE
    assert lease.assess(held, 89) is Verdict.ELSEWHERE
    assert lease.assess(held, 90) is Verdict.TAKEN_OVER  # unchanged for a lease, on our clock
    moved = row(owner="other:1:bb", lease_expires_at=at, heartbeat_at=at + timedelta(seconds=30))
    assert lease.assess(moved, 100) is Verdict.ELSEWHERE  # it renewed: watch again from now
    assert lease.assess(moved, 189) is Verdict.ELSEWHERE
    dead = row(owner="me:0:old", lease_expires_at=at, heartbeat_at=at)
    assert lease.assess(dead, 0) is Verdict.TAKEN_OVER  # our STATE_DIR's previous process


def test_effects_stop_a_margin_before_the_lease_runs_out_on_our_own_clock() -> None:
    lease = ProngLease(PRONG, "me:1:aa", 90.0, 15.0)
    lease.won(sent=100.0, done=103.0, verdict=Verdict.TAKEN_OVER)
    assert lease.may_act(174.9) and not lease.may_act(175.0)
    assert lease.contested(192.0) and not lease.contested(193.0)
    lease.renewed(sent=130.0, done=131.0)
    assert lease.may_act(204.9)
    lease.renewed(sent=170.0, done=205.5)  # acknowledged after the lease stopped being good
    assert not lease.held and not lease.may_act(206.0)


def test_our_own_lapsed_lease_is_claimed_again_at_once_while_the_row_shows_our_last_write() -> None:
    """Renewals failed while Airtable was down: the lease ran out on our clock, but the row still
    shows our last write acknowledged in time, so nobody's write landed since: claim it again
    now, not after a lease period of silent tills."""
    lease = ProngLease(PRONG, "me:1:aa", 90.0, 15.0)
    lease.won(sent=100.0, done=103.0, verdict=Verdict.FREE, at=EPOCH)
    renewed_at = EPOCH + timedelta(seconds=30, microseconds=123_456)
    lease.renewed(sent=130.0, done=131.0, at=renewed_at)
    lease.check(row(owner="me:1:aa", lease_expires_at=EPOCH, heartbeat_at=renewed_at), 300.0)
    assert not lease.held  # ran out before the next renewal
    ours = row(owner="me:1:aa", lease_expires_at=EPOCH, heartbeat_at=renewed_at)
    assert lease.assess(ours, 300.0) is Verdict.FREE
    moved = row(owner="me:1:aa", lease_expires_at=EPOCH, heartbeat_at=renewed_at + timedelta(1))
    assert lease.assess(moved, 300.0) is Verdict.ELSEWHERE  # not our last good write: wait


def test_a_renewal_acknowledged_too_late_leaves_the_row_like_anyone_elses() -> None:
    lease = ProngLease(PRONG, "me:1:aa", 90.0, 15.0)
    lease.won(sent=100.0, done=103.0, verdict=Verdict.FREE, at=EPOCH)
    late = EPOCH + timedelta(seconds=70)
    lease.renewed(sent=170.0, done=205.5, at=late)  # it may have landed after a taker's claim
    assert not lease.held
    landed = row(owner="me:1:aa", lease_expires_at=EPOCH, heartbeat_at=late)
    assert lease.assess(landed, 206.0) is Verdict.ELSEWHERE
    assert lease.assess(landed, 296.0) is Verdict.TAKEN_OVER  # unchanged for a lease
