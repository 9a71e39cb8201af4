"""The audit prong's job: its config from Settings and its state file in ``STATE_DIR``.

Kept beside :mod:`daemon.wiring` (which adds the job to the others) so the audit's knobs live in
one place; ``giftbridge audit`` builds its own job here too, with a progress it can watch.
"""

from __future__ import annotations

from datetime import timedelta

from cards.vocab import Prong
from config.settings import Settings
from daemon.audit_state_file import JsonFileStore
from daemon.runner import ProngJob
from prongs import audit
from prongs.audit import AuditConfig, AuditProgress
from prongs.deps import Deps
from prongs.report import Budget, Gate, RunReport


def audit_config(settings: Settings) -> AuditConfig:
    return AuditConfig(
        currency=settings.currency,
        interval=timedelta(seconds=settings.audit_interval_seconds),
        alert_email=settings.alert_email,
    )


def audit_progress(settings: Settings) -> AuditProgress:
    """The audit's state, kept in ``STATE_DIR/audit-state.json`` (read at the first run)."""
    return AuditProgress(JsonFileStore(settings.state_dir))


def audit_job(settings: Settings, deps: Deps, progress: AuditProgress | None = None) -> ProngJob:
    """The audit as the daemon runs it: every tick, doing nothing until a pass is due (so the
    watchdog sees it finish runs); an idle tick makes no outside call."""
    config = audit_config(settings)
    kept = progress or audit_progress(settings)
    kept.anchor(deps.clock.now(), config)  # coverage from this start, however late the 1st run

    def run(budget: Budget, gate: Gate) -> RunReport:
        return audit.run_once(deps, config, budget, gate, progress=kept)

    return ProngJob(Prong.AUDIT.value, run, airtable_polls_per_tick=0)
