"""Simulated giftbridge processes: each one the daemon's runner, Status board and prong jobs over
the shared fakes, with its own process-local state.

A :class:`Machine` is what survives a restart (``STATE_DIR``: the audit's state file). A
:class:`SimProcess` is one process on it: its owner name, its card locks, the late-refund sweep,
the audit's progress, its Status board and :class:`~daemon.runner.ProngRunner` (lease, Paused,
containment of a run's exception), exactly as :mod:`daemon.service` assembles them. When a
process dies (a SimulatedCrash), :class:`Cluster` starts the next generation on the same
machine: nothing in memory survives, the machine's state does. Two machines are two daemons
pointed at one base by mistake (each with its own lock file, so nothing local stops them).
"""

from __future__ import annotations

import contextlib
import random
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field

from cards.vocab import Prong
from clients.errors import ClientError
from daemon.backoff import Backoff
from daemon.health import HealthBook
from daemon.lease import HEARTBEAT_SECONDS, StatusBoard
from daemon.leases import Leases
from daemon.metrics import Metrics
from daemon.ownership import lease_length
from daemon.runner import ProngJob, ProngRunner, RunOutcome, StopSignal
from prongs import audit, expiry, shopify_purchases, shopify_redemptions, store_transactions
from prongs.audit import AuditProgress
from prongs.audit_state import MemoryStore
from prongs.card_locks import CardLocks
from prongs.containment import AttemptBook
from prongs.deps import Deps
from prongs.orders_sweep import RefundSweep
from prongs.report import Budget, Gate, RunReport
from tests.fakes import SimulatedCrash
from tests.sim import events, events_shop
from tests.sim.events import Event
from tests.sim.world import SimWorld

PRONGS = tuple(p.value for p in Prong)
Run = Callable[[Budget, Gate], RunReport]
RUN_BUDGET_SECONDS = 45.0
TICK_SECONDS = 15.0
CALL_TIMEOUT_SECONDS = 10.0
EFFECT_MARGIN = CALL_TIMEOUT_SECONDS + 5.0  # as daemon.service.Service.effect_margin
LEASE_SECONDS = lease_length(
    90.0, HEARTBEAT_SECONDS, TICK_SECONDS, CALL_TIMEOUT_SECONDS, EFFECT_MARGIN
)


@dataclass
class Machine:
    name: str
    audit_store: MemoryStore = field(default_factory=MemoryStore)
    attempts: AttemptBook = field(default_factory=AttemptBook)  # STATE_DIR/attempts
    owners: list[str] = field(default_factory=list)  # STATE_DIR/owners: its earlier processes
    generation: int = 0


class SimProcess:
    def __init__(self, sim: SimWorld, machine: Machine) -> None:
        machine.generation += 1
        self.name = f"{machine.name}#{machine.generation}"
        self.machine = machine
        self.dead = False
        self.ticked = False  # a daemon's first tick runs every prong
        self.sim = sim
        world = sim.world
        self.deps = Deps(
            world.airtable, world.shopify, world.email, world.certificates, world.clock, CardLocks()
        )
        self.sweep = RefundSweep()
        self.progress = AuditProgress(machine.audit_store)
        self.progress.anchor(world.clock.now(), sim.configs.audit)  # as daemon.audit_wiring
        self.jobs = {job.name: job for job in self._jobs()}
        self.board = StatusBoard(world.airtable, PRONGS, world.clock)
        owner = f"sim:{self.name}"
        self.leases = Leases(
            self.board,
            PRONGS,
            owner,
            world.clock,
            lease_seconds=LEASE_SECONDS,
            margin=EFFECT_MARGIN,
            dead_owners=frozenset(machine.owners),  # the lock file proves they are gone
        )
        machine.owners.append(owner)
        self.runner = ProngRunner(
            leases=self.leases,
            health=HealthBook(PRONGS, world.clock, hung_after=LEASE_SECONDS, stall_after=600),
            metrics=Metrics(),
            backoff=Backoff(TICK_SECONDS),
            clock=world.clock,
            stop=StopSignal(),
            run_budget_seconds=RUN_BUDGET_SECONDS,
        )

    def _jobs(self) -> list[ProngJob]:
        deps, c = self.deps, self.sim.configs

        def store(budget: Budget, gate: Gate) -> RunReport:
            return store_transactions.run_once(deps, c.store, budget, gate, self.machine.attempts)

        def purchases(budget: Budget, gate: Gate) -> RunReport:
            return shopify_purchases.run_once(deps, c.purchases, budget, gate)

        def redemptions(budget: Budget, gate: Gate) -> RunReport:
            return shopify_redemptions.run_once(deps, c.redemptions, budget, gate, sweep=self.sweep)

        def expiring(budget: Budget, gate: Gate) -> RunReport:
            return expiry.run_once(deps, c.expiry, budget, gate)

        def auditing(budget: Budget, gate: Gate) -> RunReport:
            return audit.run_once(deps, c.audit, budget, gate, progress=self.progress)

        runs = {
            Prong.STORE_TRANSACTIONS.value: store,
            Prong.SHOPIFY_PURCHASES.value: purchases,
            Prong.SHOPIFY_REDEMPTIONS.value: redemptions,
            Prong.EXPIRY.value: expiring,
            Prong.AUDIT.value: auditing,
        }
        return [ProngJob(name, self._guarded(name, run)) for name, run in runs.items()]

    def _guarded(self, prong: str, run: Run) -> Run:
        """The run, noting any exception that is not a client error: the runner contains it,
        but a prong is meant to turn every failure into a report line."""

        def guarded(budget: Budget, gate: Gate) -> RunReport:
            try:
                return run(budget, gate)
            except ClientError:
                raise
            except Exception as exc:
                trace = "".join(traceback.format_exception(exc, limit=-4))
                self.sim.escaped.append(f"{self.name} {prong}: {type(exc).__name__}: {trace}")
                raise

        return guarded

    def run(self, prong: str) -> RunOutcome:
        """One tick of one prong: the board read the service makes (our leases checked, free ones
        claimed, held ones renewed when due), then the runner's run."""
        self.sim.stores_at_run_start[self.name] = self.sim.active_stores()
        with contextlib.suppress(Exception):  # the service logs it, keeps ticking; so will the run
            self.leases.read_and_claim()
            self.leases.renew_if_due(HEARTBEAT_SECONDS)
        return self.runner.run(self.jobs[prong])


@dataclass
class Ran:
    """One prong run as the schedule saw it."""

    process: str
    prong: str
    outcome: RunOutcome | None  # None: the process died during the run
    nested: bool = False

    @property
    def died(self) -> bool:
        return self.outcome is None

    def __str__(self) -> str:
        where = "  (interleaved) " if self.nested else ""
        if self.outcome is None:
            return f"{where}{self.process} {self.prong}: DIED"
        o = self.outcome
        report = o.report
        found = f" processed={report.processed} found={report.found_work}" if report else ""
        detail = f" [{o.detail}]" if o.detail else ""
        return f"{where}{self.process} {self.prong}: {o.result.value}{found}{detail}"


# What people and Shopify do while a giftbridge run is between two of its calls.
MID_RUN_EVENTS: tuple[tuple[str, Event], ...] = (
    ("edit_request", events.edit_request),
    ("delete_request", events.delete_request),
    ("delete_card_row", events.delete_card_row),
    ("toggle_store", events.toggle_store),
    ("pause_prong", events.pause_prong),
    ("checkout", events_shop.checkout),
    ("refund", events_shop.refund),
    ("admin_change", events_shop.admin_change),
    ("stall", events_shop.stall),
)


class Cluster:
    """The seed's processes (one machine, or two): runs prongs, restarts the dead, and lets the
    world move between two calls of a run (another process's run, or a person's edit)."""

    def __init__(self, sim: SimWorld, machines: int, rng: random.Random) -> None:
        self.sim = sim
        self.rng = rng
        self.machines = [Machine(name) for name in ("A", "B")[:machines]]
        self.processes = [SimProcess(sim, m) for m in self.machines]
        self.log: list[Ran] = []
        self.on_run: Callable[[Ran], None] | None = None
        self.on_event: Callable[[str], None] | None = None
        sim.injector.interleave = self._interleave

    def run(self, index: int, prong: str, *, nested: bool = False) -> Ran:
        """Run ``prong`` in process ``index``; a process that dies is replaced at once, and a
        new process runs every prong first (the daemon's first tick)."""
        process = self.processes[index]
        if not process.ticked:
            process.ticked = True
            for first in PRONGS:
                if first != prong and self._run_once(index, first, nested).died:
                    break  # the next process ticks at its own first run
        return self._run_once(index, prong, nested)

    def _run_once(self, index: int, prong: str, nested: bool) -> Ran:
        process = self.processes[index]
        injector = self.sim.injector
        outer = injector.current
        injector.current = process
        try:
            ran = Ran(process.name, prong, process.run(prong), nested)
        except SimulatedCrash:
            ran = Ran(process.name, prong, None, nested)
        finally:
            injector.current = outer
        if process.dead or ran.outcome is None:
            process.dead = True
            self.processes[index] = SimProcess(self.sim, self.machines[index])
        self.log.append(ran)
        if self.on_run is not None:
            self.on_run(ran)
        return ran

    def _interleave(self) -> None:
        """Between two calls of the current run: another process runs one prong (two
        machines, half the time), or a person or Shopify changes something."""
        current = self.sim.injector.current
        others = [i for i, p in enumerate(self.processes) if p is not current]
        if others and self.rng.random() < 0.5:
            self.run(self.rng.choice(others), self.rng.choice(PRONGS), nested=True)
            return
        _, event = self.rng.choice(MID_RUN_EVENTS)
        what = event(self.sim, random.Random(self.rng.getrandbits(32)))
        if self.on_event is not None:
            self.on_event(f"  (mid-run) {what}")
