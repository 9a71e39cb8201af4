"""The giftbridge side of ``bench_bulk``, in a process of its own (as the daemon runs beside its
sandbox, so the sandbox's heap never slows this one's garbage collector): the store prong run
after run on a thread, and ``giftbridge cards import`` writing a file and following its batch,
over ONE set of limiters (the shared Airtable budget a daemon and a command beside it keep).

Reads the sandbox's ``GIFTBRIDGE_*`` variables from the environment; prints one JSON line when
the batch is final: when the import started, wrote its rows and saw the last row final, this
process's CPU seconds, and the prong's run errors.

    python -m bench.bulk_worker --file order.csv [--store NAME] [--budget 45]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
import threading
import time
from dataclasses import replace
from typing import Any

from clients.factory import (
    Limiters,
    build_airtable,
    build_bulk,
    build_certificates,
    build_email,
    build_shopify,
)
from config.settings import Settings
from daemon import bootstrap, cli
from daemon.bootstrap import BulkSetup
from daemon.cards_commands import BULK_RETRY
from daemon.cards_import import Console, checked_file, import_batch
from daemon.clock import SystemClock
from daemon.logging import configure as configure_logging
from daemon.wiring import card_config
from prongs.card_locks import CardLocks
from prongs.deps import Deps
from prongs.report import Budget, OpenGate
from prongs.store_context import StoreConfig
from prongs.store_transactions import run_once


class StampedLines(io.TextIOBase):
    """The command's output, each line with the time it was printed (and echoed to stderr)."""

    def __init__(self) -> None:
        self.lines: list[tuple[float, str]] = []

    def write(self, text: str) -> int:
        for line in text.splitlines():
            if line:
                self.lines.append((time.time(), line))
                print(f"  import: {line}", file=sys.stderr, flush=True)
        return len(text)

    def first(self, prefix: str) -> float | None:
        return next((t for t, line in self.lines if line.startswith(prefix)), None)


def prong_loop(deps: Deps, config: StoreConfig, budget: float, stop: threading.Event) -> list[str]:
    """Runs back to back while they find work, as the scheduler's ticks would without the
    wait between them; a second's pause when idle. Once ``stop`` is set, it drains: runs until
    one finds nothing, so a redemption the tills submitted as the import ended is finished."""
    errors: list[str] = []
    clock = SystemClock()
    while True:
        report = run_once(deps, config, Budget(clock, budget), OpenGate())
        errors += report.errors
        if not report.found_work:
            if stop.is_set():
                return errors
            stop.wait(1.0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--file", required=True)
    parser.add_argument("--store")
    parser.add_argument("--budget", type=float, default=45.0)
    args = parser.parse_args(argv)
    configure_logging(level="WARNING", json_lines=False)
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    limiters, configs = Limiters(), bootstrap.adapter_configs(settings)
    airtable = build_airtable(configs.airtable, limiters)
    # The command's adapters wait out a 429 as the command's do (its own retry policy).
    patient = replace(configs.airtable, retry=BULK_RETRY)
    command_airtable, bulk = build_airtable(patient, limiters), build_bulk(patient, limiters)
    shopify, email = (
        build_shopify(configs.shopify, limiters),
        build_email(configs.klaviyo, limiters),
    )
    deps = Deps(airtable, shopify, email, build_certificates(), SystemClock(), CardLocks())
    config = StoreConfig(card=card_config(settings))
    stop, errors = threading.Event(), list[str]()
    prong = threading.Thread(
        target=lambda: errors.extend(prong_loop(deps, config, args.budget, stop))
    )
    prong.start()
    out = StampedLines()
    console = Console(out, interactive=False)  # type: ignore[arg-type]
    command = ["cards", "import", args.file, *(["--store", args.store] if args.store else [])]
    namespace = cli.build_parser().parse_args(command)
    setup = BulkSetup(
        command_airtable, bulk, settings.currency, settings.amount_limits, lambda: None
    )
    started = time.time()
    try:
        checked = checked_file(namespace, setup.currency, setup.limits, console)
        code = (
            1 if checked is None else import_batch(namespace, checked, setup, console, deps.clock)
        )
    finally:
        finished = time.time()
        stop.set()
        prong.join()
        for adapter in (airtable, command_airtable, bulk, shopify, email):
            adapter.close()
    times = os.times()
    result: dict[str, Any] = {
        "code": code,
        "started": started,
        "written": out.first("wrote "),
        "finished": finished,
        "cpu": times.user + times.system,
        "errors": errors[:20],
        "error_count": len(errors),
    }
    print(json.dumps(result), flush=True)
    return code


if __name__ == "__main__":
    raise SystemExit(main())
