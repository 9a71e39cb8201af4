"""The audit in the daemon: its config from Settings, its state file in STATE_DIR, and its job
run by the service (``once --prong audit``, and idle ticks that cost nothing)."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cards.vocab import ProngState
from config.layout import Status
from config.settings import load_settings
from daemon.audit_state_file import FILE_NAME, JsonFileStore
from daemon.audit_wiring import audit_config, audit_job, audit_progress
from daemon.health import RunResult
from prongs.audit_state import AuditState, FullCursor, OpenRepair
from tests.daemon.conftest import build_service, status_row
from tests.fakes import World

PEPPER = "p" * 40
CODE_KEY = base64.urlsafe_b64encode(bytes(range(32))).decode("ascii")


def test_the_config_comes_from_settings(tmp_path: Path) -> None:
    settings = load_settings(
        _env_file=None,
        state_dir=tmp_path,
        audit_interval_seconds=900,
        alert_email="ops@example.com",
        currency="EUR",
    )
    config = audit_config(settings)
    assert config.interval == timedelta(seconds=900)
    assert config.alert_email == "ops@example.com" and config.currency == "EUR"
    assert config.full_every == timedelta(days=1)
    assert audit_progress(settings).store.path == tmp_path / FILE_NAME  # type: ignore[attr-defined]


def test_the_state_file_round_trips_atomically_and_survives_a_bad_file(tmp_path: Path) -> None:
    store = JsonFileStore(tmp_path)
    assert store.load() == AuditState()  # no file yet: a fresh state
    now = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
    state = AuditState(
        mark=now,
        full=FullCursor(started_at=now, after_number=1234),
        open=[OpenRepair("fields", "gid://shopify/GiftCard/1", "2026-11-22T12:00:00Z", "rec1")],
    )
    store.save(state)
    assert store.load() == state
    assert [p.name for p in tmp_path.iterdir()] == [FILE_NAME]  # no temporary file left
    (tmp_path / FILE_NAME).write_text("{not json", encoding="utf-8")
    assert store.load() == AuditState()


def test_once_runs_the_audit_and_idle_ticks_make_no_outside_call(tmp_path: Path) -> None:
    world = World.build()
    settings = load_settings(
        _env_file=None, state_dir=tmp_path, code_pepper=PEPPER, code_key=CODE_KEY
    )
    job = audit_job(settings, world.deps())
    service, _ = build_service(world, [job])
    service.preflight()

    (outcome,) = service.run_once(["audit"])
    assert outcome.result is RunResult.OK
    assert JsonFileStore(tmp_path).load().last_full_finished_at is not None
    assert status_row(world, "audit")[Status.STATE] == ProngState.OFFLINE

    calls = len(world.injector.calls)
    world.clock.advance(60)
    service.runner.run_scheduled(job)
    assert world.injector.calls[calls:] == []  # not due: nothing read, nothing written
