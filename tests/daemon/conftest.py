"""Builders for the daemon tests: a world of fakes, a recording notifier, tiny prong jobs."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
import structlog

from cards.vocab import Prong
from clients.ports import AirtablePort
from config.layout import Status
from daemon.metrics import Metrics
from daemon.notify import Notifier
from daemon.runner import ProngJob
from daemon.service import Service, ServiceConfig
from prongs.report import Budget, Gate, RunReport
from tests.fakes import World

PRONGS = [p.value for p in Prong]
STORE, PURCHASES, REDEMPTIONS = PRONGS[:3]
OWNER = "host-a:100:aaaaaa"


class RecordingNotifier(Notifier):
    """A notifier that keeps what it would have sent."""

    def __init__(self) -> None:
        super().__init__(None)
        self.sent: list[str] = []

    def send(self, *lines: str) -> bool:
        self.sent.extend(lines)
        return True

    def count(self, line: str) -> int:
        return self.sent.count(line)


@pytest.fixture(autouse=True)
def _fresh_structlog() -> Iterator[None]:
    """The CLI configures structlog onto pytest's captured stderr; undo it after each test."""
    yield
    structlog.reset_defaults()


@pytest.fixture
def world() -> World:
    return World.build()


def idle_store_job(airtable: AirtablePort) -> ProngJob:
    """Store transactions with empty queues: four polls, no claim (as the real prong idles)."""

    def run(budget: Budget, gate: Gate) -> RunReport:
        airtable.pending_redemptions(10)
        airtable.pending_creations(10)
        airtable.pending_balance_checks(10)
        airtable.pending_card_actions(10)
        return RunReport(STORE)

    return ProngJob(STORE, run, airtable_polls_per_tick=4)


def idle_job(name: str) -> ProngJob:
    """A Shopify prong with nothing to do: it touches no Airtable at all."""
    return ProngJob(name, lambda budget, gate: RunReport(name), airtable_polls_per_tick=0)


@dataclass
class WorkJob:
    """A prong with ``items`` to do: claims, handles one item per step, heartbeats between them,
    and stops at a recovery point when its budget says so."""

    name: str
    items: int = 3
    fail_with: Exception | None = None
    handled_error: str | None = None
    block: threading.Event | None = None  # wait on this inside the run (a hung or slow run)
    started: threading.Event = field(default_factory=threading.Event)
    done: list[int] = field(default_factory=list)
    claims: list[bool] = field(default_factory=list)

    def run(self, budget: Budget, gate: Gate) -> RunReport:
        report = RunReport(self.name, found_work=True)
        allowed = gate.claim()
        self.claims.append(allowed)
        if not allowed:
            report.skipped = "gate said no"
            return report
        self.started.set()
        if self.block is not None:
            self.block.wait(30)
        if self.fail_with is not None:
            raise self.fail_with
        for item in range(self.items):
            if budget.exhausted:
                report.budget_exhausted = True
                break
            self.done.append(item)
            report.record("Success")
            gate.heartbeat()
        if self.handled_error:
            report.errors.append(self.handled_error)
        return report

    def job(self) -> ProngJob:
        return ProngJob(self.name, self.run, airtable_polls_per_tick=1)


def small_config(**overrides: object) -> ServiceConfig:
    values: dict[str, object] = {
        "tick_seconds": 15.0,
        "call_timeout_seconds": 10.0,
        "run_budget_seconds": 45.0,
        "lease_seconds": 90.0,
        "http_port": None,
        "stop_timeout_seconds": 5.0,
    }
    values.update(overrides)
    return ServiceConfig(**values)  # type: ignore[arg-type]


def build_service(
    world: World,
    jobs: list[ProngJob],
    *,
    config: ServiceConfig | None = None,
    environ: dict[str, str] | None = None,
    owner: str = OWNER,
) -> tuple[Service, RecordingNotifier]:
    notifier = RecordingNotifier()
    service = Service(
        config or small_config(),
        world.airtable,
        jobs,
        clock=world.clock,
        notifier=notifier,
        metrics=Metrics(),
        owner=owner,
        environ=environ or {},
    )
    return service, notifier


def status_row(world: World, prong: str) -> dict[str, object]:
    rows = [r for r in world.airtable.rows(Status.TABLE) if r.get(Status.PRONG) == prong]
    assert len(rows) == 1, rows
    return rows[0]


def status_writes(world: World) -> list[tuple[str, str, dict[str, object]]]:
    return [w for w in world.airtable.writes if w[0] == Status.TABLE]


def airtable_calls(world: World) -> list[str]:
    return [c for c in world.injector.calls if c.startswith("airtable.")]
