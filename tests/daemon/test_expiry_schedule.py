"""The expiry prong in the daemon: its Status row is made when missing, ``once --prong expiry``
runs it whatever its schedule, and the scheduler's ticks run it once at start and then only
every ``EXPIRY_INTERVAL_SECONDS`` (a tick that is not due keeps the prong healthy)."""

from __future__ import annotations

import base64
from datetime import timedelta
from pathlib import Path

from cards.vocab import CardStatus, ProngState
from config.layout import GiftCards, Status
from config.settings import load_settings
from daemon.health import RunResult
from daemon.wiring import prong_jobs
from tests.daemon.conftest import build_service
from tests.fakes import World
from tests.prongs.expiry_kit import add_card, row, today

KEY = base64.urlsafe_b64encode(bytes(range(32))).decode("ascii")


def test_expiry_runs_at_start_then_every_interval_and_on_demand(
    tmp_path: Path, world: World
) -> None:
    settings = load_settings(
        _env_file=None,
        state_dir=tmp_path,
        code_pepper="p" * 40,
        code_key=KEY,
        expiry_interval_seconds=3600,
    )
    jobs = {j.name: j for j in prong_jobs(settings, world.deps())}
    service, _ = build_service(world, [jobs["expiry"]])
    card = add_card(world, today(world) - timedelta(days=1))

    (outcome,) = service.run_once(["expiry"])
    assert outcome.result is RunResult.OK and outcome.report is not None
    assert outcome.report.outcomes == {"Expired": 1}
    assert row(world, card)[GiftCards.STATUS] == CardStatus.EXPIRED
    rows = {r[Status.PRONG]: r for r in world.airtable.rows(Status.TABLE)}
    assert rows["expiry"][Status.STATE] == ProngState.OFFLINE  # created, then released

    job = jobs["expiry"]
    assert service.runner.run_scheduled(job) is None  # `once` counted as the last run
    world.clock.advance(1800)
    assert service.runner.run_scheduled(job) is None
    progressing, problems = service.health.progressing()
    assert progressing, problems
    world.clock.advance(1800)
    ran = service.runner.run_scheduled(job)
    assert ran is not None and ran.result is RunResult.OK
    assert service.runner.run_scheduled(job) is None
