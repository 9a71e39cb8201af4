"""``giftbridge audit [--full]``: the audit prong in the foreground, with progress and a summary.

It runs the prong through the daemon's own runner (Status lease, run budget, metrics), run after
run, until nothing is due: the cards Shopify changed since the last audit, and with ``--full``
(or when one is due, daily) every card. A progress bar counts the cards compared (tqdm, imported
here only; plain lines when stdout is not a terminal). Then a table by class of drift: found,
repaired (mirrored, recorded or restored), needing a person, waiting (a transaction the online
prongs may still record). Exit 1 when something needs a person (a Shopify card gone, a drift the
row cannot take), or when the last run failed; 3 when another local giftbridge process (the
daemon) holds ``STATE_DIR``: the daemon audits by itself every ``AUDIT_INTERVAL_SECONDS``.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from config.settings import Settings
from daemon import bootstrap
from daemon.audit_wiring import audit_job, audit_progress
from daemon.health import RunResult
from daemon.lockfile import AlreadyRunning, LockFile
from daemon.metrics import default_metrics
from daemon.runner import RunOutcome
from prongs.audit import AuditProgress
from prongs.audit_tally import AuditTally, DriftClass, Result

EXIT_OK, EXIT_FAILED, EXIT_LOCKED = 0, 1, 3
MAX_FAILED_RUNS = 3  # runs in a row that failed: stop and say so
Listener = Callable[[AuditProgress], None]


def add_parser(add: Callable[..., Any], load: Callable[[argparse.Namespace], Settings]) -> None:
    """``audit`` under the CLI's commands (``add`` makes a sub-command, ``load`` the settings)."""

    def handler(args: argparse.Namespace) -> int:
        return cmd_audit(args, load(args))

    sub = add("audit", handler, "compare every changed card in Shopify and Airtable now")
    sub.add_argument("--full", action="store_true", help="compare every card, not only changed")


def cmd_audit(args: argparse.Namespace, settings: Settings) -> int:
    try:
        lock = LockFile(bootstrap.state_dir(settings)).acquire()
    except AlreadyRunning as exc:
        print(
            f"giftbridge audit: {exc}. The running daemon audits by itself every "
            f"{settings.audit_interval_seconds:g} s (a full pass daily); stop it to audit by hand.",
            file=sys.stderr,
        )
        return EXIT_LOCKED
    try:
        assembly = bootstrap.assemble(settings, default_metrics(), http=False)
        try:
            return _audit(assembly, full=args.full)
        finally:
            assembly.close()
    finally:
        lock.release()


def _audit(assembly: bootstrap.Assembly, *, full: bool) -> int:
    progress = audit_progress(assembly.settings)
    if full:
        progress.request_full()
    progress.request_incremental()
    job = audit_job(assembly.settings, assembly.clients.deps(), progress)
    service = assembly.service
    service.board.refresh()
    started = time.monotonic()
    outcomes: list[RunOutcome] = []
    with progress_bar() as listener, service.signals_handled():
        progress.listener = listener
        while not service.stop_signal.is_set():
            outcome = service.runner.run(job)
            outcomes.append(outcome)
            if outcome.result is RunResult.SKIPPED or not progress.busy:
                break
            if _failed_in_a_row(outcomes) >= MAX_FAILED_RUNS:
                break
    print_summary(progress.tally, outcomes, time.monotonic() - started)
    return exit_code(progress.tally, outcomes)


def _failed_in_a_row(outcomes: list[RunOutcome]) -> int:
    count = 0
    for outcome in reversed(outcomes):
        if outcome.result is not RunResult.FAILED:
            break
        count += 1
    return count


def exit_code(tally: AuditTally, outcomes: list[RunOutcome]) -> int:
    if tally.needs_person:
        return EXIT_FAILED
    if outcomes and outcomes[-1].result in (RunResult.FAILED, RunResult.SKIPPED):
        return EXIT_FAILED
    return EXIT_OK


@contextmanager
def progress_bar() -> Iterator[Listener]:
    """A tqdm bar of cards compared on a terminal; otherwise a plain line after every batch."""
    if not sys.stdout.isatty():

        def line(progress: AuditProgress) -> None:
            tally = progress.tally
            print(
                f"compared {tally.cards_compared} cards, {tally.drift_found} drift found",
                flush=True,
            )

        yield line
        return
    from tqdm import tqdm

    bar = tqdm(desc="audit", unit=" cards", dynamic_ncols=True)

    def tick(progress: AuditProgress) -> None:
        bar.update(progress.tally.cards_compared - bar.n)
        bar.set_postfix(drift=progress.tally.drift_found)

    try:
        yield tick
    finally:
        bar.close()


def summary_lines(tally: AuditTally, outcomes: list[RunOutcome], seconds: float) -> list[str]:
    passes = []
    if tally.full_passes_finished:
        passes.append(f"{tally.full_passes_finished} full pass")
    if tally.incrementals_finished:
        passes.append("the changed cards")
    what = " and ".join(passes) or "an unfinished pass (run again to go on)"
    lines = [
        f"audit: compared {tally.cards_compared} cards ({what}) in {seconds:.1f} s, "
        f"{len(outcomes)} run(s)"
    ]
    columns = [r.value for r in Result]
    width = max(len(c.value) for c in DriftClass)
    lines.append(f"{'class':<{width}}  {'found':>5}  " + "  ".join(f"{c:>14}" for c in columns))
    for kind in DriftClass:
        counts = [tally.count(kind, r) for r in Result]
        lines.append(
            f"{kind.value:<{width}}  {sum(counts):>5}  " + "  ".join(f"{n:>14}" for n in counts)
        )
    for outcome in outcomes:
        if outcome.result is not RunResult.OK:
            lines.append(f"run {outcome.result.value}: {outcome.detail}")
    if tally.needs_person:
        lines.append("needs a person (see Receipts, Action Drift Detected):")
        lines += [f"  {line}" for line in dict.fromkeys(tally.needs_person)]
    return lines


def print_summary(tally: AuditTally, outcomes: list[RunOutcome], seconds: float) -> None:
    print("\n".join(summary_lines(tally, outcomes, seconds)), flush=True)
