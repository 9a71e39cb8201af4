"""APScheduler 3.x: each prong its own job on its own thread, every ``TICK_SECONDS``.

Exactly one scheduler per process (two schedulers run jobs twice: apscheduler #521), one job id
per prong, ``max_instances=1`` (a slow run is never overlapped by the next tick; the counter is
in-process, the lock file covers other processes), ``coalesce=True`` and a small
``misfire_grace_time`` (after a stall, a suspend or a long GC pause each prong runs once, not once
per missed tick). The executor has a thread per job plus one, so a hung prong never starves the
others. A hung job makes APScheduler skip that job's later ticks forever: that is the watchdog's
business (see :mod:`daemon.health`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler

MISFIRE_GRACE_MAX = 10.0


def misfire_grace_seconds(tick_seconds: float) -> int:
    """Less than a tick (a late run still belongs to its tick), at least 1 s, at most 10 s."""
    return int(max(1.0, min(MISFIRE_GRACE_MAX, tick_seconds / 2)))


def quiet_scheduler_logs() -> None:
    """APScheduler logs through the standard library, outside our structlog chain: keep only its
    errors. A tick skipped because the previous run is still going is normal for a busy prong;
    a prong that stays stuck is reported by the watchdog, /healthz and the status page."""
    logging.getLogger("apscheduler").setLevel(logging.ERROR)


def build_scheduler(
    jobs: Sequence[tuple[str, Callable[[], object]]],
    tick_seconds: float,
    *,
    first_run: datetime | None = None,
) -> BackgroundScheduler:
    """A scheduler (not started) running each ``(job id, function)`` every tick.

    The first tick fires at ``first_run`` (default: as soon as the scheduler starts).
    """
    scheduler = BackgroundScheduler(
        timezone=UTC,
        executors={"default": ThreadPoolExecutor(max_workers=len(jobs) + 1)},
    )
    start = first_run or datetime.now(UTC)
    for job_id, func in jobs:
        scheduler.add_job(
            func,
            "interval",
            seconds=tick_seconds,
            id=job_id,
            name=job_id,
            next_run_time=start,
            max_instances=1,
            coalesce=True,
            misfire_grace_time=misfire_grace_seconds(tick_seconds),
            replace_existing=True,
        )
    return scheduler
