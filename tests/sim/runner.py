"""One seed, start to finish: build the world, play the schedule with faults on, stop the faults,
run every prong until quiet, check the invariants.

    result = run_seed(12345)                      # quiet
    result = run_seed(12345, echo=print)          # every step, run and fault as it happens

Everything random comes from ``random.Random(seed)`` (and streams drawn from it): the world,
the schedule, the faults, the interleaving of two processes, the codes giftbridge generates.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from cards.vocab import ProngState
from config.layout import Status
from daemon.health import RunResult
from tests.sim import invariants
from tests.sim.events_shop import issue_native_unit
from tests.sim.logs import captured_lines
from tests.sim.process import LEASE_SECONDS, PRONGS, Cluster, Ran
from tests.sim.schedule import EVENTS, RUN, make_schedule
from tests.sim.world import SimWorld, build, seeded_codes

Echo = Callable[[str], None]
QUIET_ROUNDS = 24  # 20 s apart: several lease periods
MIN_STEPS, MAX_STEPS = 24, 48
TWO_PROCESSES = 0.35


@dataclass
class SeedResult:
    seed: int
    failures: list[str] = field(default_factory=list)
    steps: int = 0
    calls: int = 0
    faults: int = 0
    runs: int = 0
    sim: SimWorld | None = field(default=None, repr=False)  # the world, for a closer look
    ran: list[Ran] = field(default_factory=list, repr=False)  # every prong run, in order

    @property
    def ok(self) -> bool:
        return not self.failures


def _quiet(ran: Ran) -> bool:
    outcome = ran.outcome
    if outcome is None or outcome.result is RunResult.FAILED:
        return False
    report = outcome.report
    return report is None or not (report.found_work or report.errors)


def _ran(ran: Ran) -> bool:
    """The prong ran here: not skipped (a lease held elsewhere, or our own lapsed one)."""
    return ran.outcome is not None and ran.outcome.result is not RunResult.SKIPPED


def _settle(sim: SimWorld, cluster: Cluster, echo: Echo | None) -> bool:
    """Run every prong of every process, round after round, until a round in which every prong
    ran somewhere and none found work. A prong every process skipped (its lease lapsed during a
    jump of the clock, which its holder waits out like anyone's) is not quiet: time passes, as
    it would between a daemon's ticks, until a process claims it again."""
    for _ in range(QUIET_ROUNDS):
        quiet, ran = True, set()
        for index in range(len(cluster.processes)):
            for prong in PRONGS:
                outcome = cluster.run(index, prong)
                quiet = _quiet(outcome) and quiet
                if _ran(outcome):
                    ran.add(prong)
        if quiet and ran == set(PRONGS):
            return True
        sim.clock.advance(20)
    if echo:
        echo("never quiet")
    return False


def quiesce(sim: SimWorld, cluster: Cluster, echo: Echo | None = None) -> list[str]:
    """Faults stop; operators unpause; Shopify issues every native card still owed; time
    passes beyond every lease and the audit's settle windows; every prong runs until quiet."""
    sim.injector.faults_on = False
    status = sim.airtable.tables[Status.TABLE]
    for record_id, row in status.items():
        if row.get(Status.STATE) in (ProngState.PAUSED, ProngState.PAUSED.value):
            sim.airtable._apply(Status.TABLE, record_id, {Status.STATE: ProngState.OFFLINE})
    rng = random.Random(sim.seed)
    for order in sim.native_orders:
        while order.units:
            issue_native_unit(sim, rng, order)
    sim.clock.advance(LEASE_SECONDS + 1)
    if echo:
        echo("--- quiesce: faults off, every prong until quiet")
    problems = [] if _settle(sim, cluster, echo) else ["never quiet after the faults stopped"]
    sim.clock.advance(timedelta(hours=2).total_seconds())  # past the audit's settle windows
    for process in cluster.processes:
        process.progress.request_full()
    if echo:
        echo("--- two hours later: a full audit, every prong until quiet")
    if not _settle(sim, cluster, echo):
        problems.append("never quiet after the full audit")
    return problems


def run_seed(seed: int, *, echo: Echo | None = None, steps: int | None = None) -> SeedResult:
    rng = random.Random(seed)
    machines = 2 if rng.random() < TWO_PROCESSES else 1
    sim = build(seed, rng, two_processes=machines > 1)
    schedule = make_schedule(rng, steps or rng.randint(MIN_STEPS, MAX_STEPS), machines)
    cluster = Cluster(sim, machines, random.Random(rng.getrandbits(32)))
    result = SeedResult(seed, steps=len(schedule))
    if echo:
        echo(f"seed {seed}: {machines} process(es), {len(schedule)} steps")
        echo(f"  {sim.injector.plan.describe()}; shop zone {sim.shopify.timezone}")
        echo(f"  start {sim.clock.now().isoformat()}; {sim.configs.store.card.expiry}")
        cluster.on_run = _echo_runs(sim, echo)
        cluster.on_event = echo
    with seeded_codes(random.Random(rng.getrandbits(32))), captured_lines() as logs:
        sim.injector.faults_on = True
        for index in range(machines):  # each daemon starts with its first tick
            cluster.run(index, PRONGS[0])
        for number, step in enumerate(schedule, 1):
            if step.kind == RUN:
                cluster.run(step.process, step.prong)
            else:
                what = EVENTS[step.kind][0](sim, random.Random(step.seed))
                if echo:
                    echo(f"[{number}] {what}")
        problems = quiesce(sim, cluster, echo)
        result.failures = [
            *problems,
            *(f"escaped a run: {e}" for e in sim.escaped),
            *invariants.check(sim, logs.lines),
        ]
    result.calls = len(sim.injector.calls)
    result.faults = len(sim.injector.fired)
    result.runs = len(cluster.log)
    result.ran = cluster.log
    result.sim = sim
    return result


def _echo_runs(sim: SimWorld, echo: Echo) -> Callable[[Ran], None]:
    shown = [0]

    def show(ran: Ran) -> None:
        fired = sim.injector.fired
        for fault in fired[shown[0] :]:
            echo(f"    fault: {fault}")
        shown[0] = len(fired)
        echo(f"  {ran}")

    return show
