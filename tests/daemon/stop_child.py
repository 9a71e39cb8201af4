"""A real daemon process for the SIGTERM test: ``python -m tests.daemon.stop_child DIR``.

One slow prong handles "records" one by one (start, 50 ms of effect in flight, done) and checks
its budget between them, as a real prong does; one idle prong. The real Service, scheduler,
signals, sd_notify (``$NOTIFY_SOCKET``) and lease over an in-memory Airtable. On exit it writes
the Status rows to ``DIR/status.json`` so the test can check the lease was released.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from cards.vocab import Prong
from config.layout import Status
from daemon.clock import SystemClock
from daemon.metrics import Metrics
from daemon.runner import ProngJob
from daemon.service import Service, ServiceConfig
from prongs.report import Budget, Gate, RunReport
from tests.fakes import World

STORE, PURCHASES = Prong.STORE_TRANSACTIONS.value, Prong.SHOPIFY_PURCHASES.value


def main(out: Path) -> int:
    world = World.build()
    work_log = out / "work.log"

    def slow(budget: Budget, gate: Gate) -> RunReport:
        report = RunReport(STORE, found_work=True)
        if not gate.claim():
            return report
        for i in range(10_000):
            if budget.exhausted:
                report.budget_exhausted = True
                break
            with work_log.open("a") as f:
                f.write(f"start {i}\n")
            time.sleep(0.05)  # the record's outside effects, in flight
            with work_log.open("a") as f:
                f.write(f"done {i}\n")
            report.record("Success")
            gate.heartbeat()
        return report

    config = ServiceConfig(
        tick_seconds=1,
        call_timeout_seconds=0.5,
        run_budget_seconds=20,
        lease_seconds=30,
        http_port=0,
        stop_timeout_seconds=5,
    )
    jobs = [ProngJob(STORE, slow), ProngJob(PURCHASES, lambda b, g: RunReport(PURCHASES))]
    service = Service(config, world.airtable, jobs, clock=SystemClock(), metrics=Metrics())
    code = service.run()
    rows = {
        r[Status.PRONG]: {k: str(v) for k, v in r.items()}
        for r in world.airtable.rows(Status.TABLE)
    }
    (out / "status.json").write_text(json.dumps(rows))
    return code


if __name__ == "__main__":
    raise SystemExit(main(Path(sys.argv[1])))
