"""``giftbridge cards import FILE.csv [--store NAME] [--dry-run] [--no-wait] [--yes]``: bulk
issuance, DESIGN.md (the parser: :mod:`daemon.cards_commands`).

Import: every row is checked first (:func:`cards.bulk.check_file`, the creation rules of every
request); any problem is printed with its line, column and fix, and nothing is written. Then the
rows are upserted as Creation Requests (Channel Bulk, Batch, Import Key; 10 a request) and the
command follows the batch with a progress bar until every row is final (plain lines when stdout
is not a terminal), then prints a summary. The running daemon issues the cards; Ctrl-C only stops
the waiting. Importing the same file again writes nothing and shows where the batch stands.
Exit status: 0 when every row is created (or written, with ``--no-wait``, or checked, with
``--dry-run``), 1 when a row has a problem or was not created.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from cards.bulk import BulkFile, check_file
from cards.bulk_csv import MAX_BYTES
from cards.money import Money
from cards.policy import AmountLimits
from clients.ports import Clock, Priority, priority
from clients.retry import RetryPolicy
from config.settings import Mode, Settings
from daemon import bootstrap
from daemon.bootstrap import BulkSetup
from daemon.clock import SystemClock
from prongs.bulk_import import (
    BatchSummary,
    ImportRefused,
    Plan,
    choose_store,
    follow,
    plan_import,
    write_rows,
)

PLAIN_EVERY = 10.0  # seconds between plain progress lines


@dataclass
class Console:
    """Where the command writes, whether a terminal shows it (a bar then, else plain lines),
    and who answers a question (None: nobody, stdin is not a terminal)."""

    out: TextIO
    interactive: bool
    ask: Callable[[str], str] | None = None

    def say(self, line: str = "") -> None:
        print(line, file=self.out, flush=True)


def read_file(path: Path) -> bytes:
    try:
        if path.stat().st_size > MAX_BYTES:
            raise ImportRefused(f"{path} is over 10 MB: split it into smaller files")
        return path.read_bytes()
    except OSError as exc:
        raise ImportRefused(f"{path}: {exc.strerror or exc}") from None


def report_checks(checked: BulkFile, console: Console, name: str) -> bool:
    """Print the notes and every problem; True when the file may be imported."""
    for note in checked.notes:
        console.say(f"note: {note}")
    for problem in checked.problems:
        console.say(f"problem: {problem}")
    if checked.problems:
        lines = {p.line for p in checked.problems if p.line}
        console.say(
            f"{name}: {len(checked.problems)} problem(s) on {len(lines)} line(s): "
            "nothing was imported; fix them and run the command again"
        )
        return False
    console.say(
        f"{name}: {len(checked.rows)} cards worth {checked.total} in total "
        f"(batch {checked.batch}, {checked.delimiter_name}-separated)"
    )
    return True


def describe_plan(plan: Plan, console: Console) -> None:
    total, missing = len(plan.rows), len(plan.missing)
    if plan.existing and not missing:
        console.say(f"batch {plan.batch} was imported before: nothing new to create")
    elif plan.existing:
        console.say(
            f"batch {plan.batch}: {total - missing} of {total} rows were imported before "
            f"(an interrupted import); the other {missing} are added now"
        )
    if plan.repeats:
        first = plan.repeats[0]
        where = f" (line {first.earlier_line} there)" if first.earlier_line else ""
        console.say(
            f"this file is a new batch ({plan.batch}), but {len(plan.repeats)} of its rows "
            f"repeat rows of an earlier import: line {first.line} is in batch {first.batch}"
            f"{where}. A changed file is a new batch: importing it issues every row again."
        )


def confirmed(plan: Plan, args: argparse.Namespace, console: Console) -> bool:
    if not plan.repeats or args.yes or args.dry_run:
        return True
    if console.ask is None:
        raise ImportRefused(
            "rows repeat an earlier import: nothing was written; add --yes to issue them again"
        )
    answer = console.ask("Issue these cards again, as a new batch? [y/N] ")
    return answer.strip().casefold() in {"y", "yes"}


def checked_file(
    args: argparse.Namespace, currency: str, limits: AmountLimits, console: Console
) -> BulkFile | None:
    """The file checked row by row, or None (its problems printed)."""
    path = Path(args.file)
    checked = check_file(read_file(path), currency=currency, limits=limits)
    return checked if report_checks(checked, console, path.name) else None


def import_batch(
    args: argparse.Namespace, checked: BulkFile, setup: BulkSetup, console: Console, clock: Clock
) -> int:
    """Everything after the checks: plan, write, follow (see the module's docstring)."""
    path = Path(args.file)
    with priority(Priority.BULK):
        store = choose_store(setup.airtable.stores(), args.store) if args.store else None
        plan = plan_import(setup.bulk, checked, store)
        describe_plan(plan, console)
        if args.dry_run:
            worth = sum((r.amount for r in plan.missing), Money.zero(setup.currency))
            console.say(
                f"dry run: would create {len(plan.missing)} Creation Requests worth {worth}"
                + (f", linked to {store.name}" if store else "")
                + "; nothing was written"
            )
            return 0
        if not confirmed(plan, args, console):
            console.say("nothing was written")
            return 1
        if plan.missing:
            created = write_rows(setup.bulk, plan)
            console.say(f"wrote {created} rows to Creation Requests (batch {plan.batch})")
        if args.no_wait:
            console.say(later(path))
            return 0
        return wait_for(setup, plan, console, clock, path)


def later(path: Path) -> str:
    return (
        "the daemon issues them at bulk priority, behind every redemption; to see where the "
        f"batch stands, run `giftbridge cards import {path}` again (it writes nothing twice)"
    )


def wait_for(setup: BulkSetup, plan: Plan, console: Console, clock: Clock, path: Path) -> int:
    def stall() -> None:
        console.say(
            "no row has moved for two minutes: is the daemon running (giftbridge run, or "
            "`systemctl status giftbridge`)? Ctrl-C stops waiting"
        )

    try:
        with progress(console, plan.batch, clock) as tick:
            summary = follow(setup.bulk, plan.batch, len(plan.rows), clock, tick, stall)
    except KeyboardInterrupt:
        console.say(f"stopped waiting; giftbridge goes on issuing batch {plan.batch}")
        console.say(later(path))
        return 0
    print_summary(summary, console)
    return 0 if summary.all_created else 1


@contextmanager
def progress(console: Console, batch: str, clock: Clock) -> Iterator[Callable[[int, int], None]]:
    """A tqdm bar on a terminal; else a line every 10 s and when the batch is done."""
    if not console.interactive:
        last = [float("-inf")]

        def line(done: int, rows: int) -> None:
            if done == rows or clock.monotonic() - last[0] >= PLAIN_EVERY:
                last[0] = clock.monotonic()
                console.say(f"batch {batch}: {done} of {rows} rows final")

        yield line
        return
    from tqdm import tqdm  # here: only this command draws a bar

    bars: list[tqdm[Any]] = []

    def tick(done: int, rows: int) -> None:
        if not bars:
            bars.append(tqdm(total=rows, desc=f"batch {batch}", unit=" cards", file=console.out))
        bars[0].update(done - bars[0].n)

    try:
        yield tick
    finally:
        for bar in bars:
            bar.close()


def print_summary(summary: BatchSummary, console: Console) -> None:
    console.say(f"batch {summary.batch}: {summary.rows} rows")
    width = max((len(o) for o in summary.outcomes), default=7)
    for outcome, count in sorted(summary.outcomes.items(), key=lambda kv: (-kv[1], kv[0])):
        console.say(f"  {outcome:<{width}}  {count:>5}")
    if summary.not_created:
        console.say("rows to look at:")
    for end in summary.not_created:
        status = end.status.value if end.status else "(open)"
        console.say(f"  line {end.line:<5} {status:<16} {end.outcome or ''}: {end.message or ''}")


# --- the command ---------------------------------------------------------------------------


def cmd_import(args: argparse.Namespace, settings: Settings, retry: RetryPolicy) -> int:
    console = Console(sys.stdout, sys.stdout.isatty(), input if sys.stdin.isatty() else None)
    checked = checked_file(args, settings.currency, settings.amount_limits, console)
    if checked is None:
        return 1
    if settings.mode is Mode.SANDBOX:
        console.say(
            "note: no credentials set: this command starts its own sandbox, which a daemon "
            "started by `make run` does not see (README: point both at `giftbridge sandbox`)"
        )
    connected, stop_sandbox = bootstrap.connect(settings)
    try:
        setup = bootstrap.bulk_setup(connected, retry)
        try:
            return import_batch(args, checked, setup, console, SystemClock())
        finally:
            setup.close()
    finally:
        stop_sandbox()
