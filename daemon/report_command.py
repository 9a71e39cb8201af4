"""``giftbridge report [--from DATE] [--to DATE] [--out DIR]``: sales and liability, with charts.

Reads Gift Cards and Receipts page by page at bulk priority (a till's redemption always goes
first at the Airtable limiter) with a progress bar (plain lines when stdout is not a terminal),
computes the figures (:mod:`cards.report_figures`) and writes ``report.html`` and a CSV per
table per currency into ``--out`` (default ``STATE_DIR/reports/<UTC time>/``, which the status
page links to). matplotlib and rich are imported here only when the command runs.
"""

from __future__ import annotations

import argparse
import sys
import time as clock
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from cards.report_figures import Period, day_of, report_figures
from clients.retry import RetryPolicy
from config.settings import Settings, SettingsError
from daemon import bootstrap
from daemon.report_files import REPORT_FILE, default_out
from prongs.books import Progress, ReportInput, read_for_report

#: A report waits out an Airtable 429 (30 s of silence) instead of failing.
REPORT_RETRY = RetryPolicy(attempts=6, deadline=120.0)
PLAIN_EVERY = 10  # pages between plain progress lines


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date like 2025-01-31") from None


def add_parser(add: Callable[..., Any], load: Callable[[argparse.Namespace], Settings]) -> None:
    """``report`` under the CLI's commands: ``add`` is the CLI's sub-command maker, ``load``
    its settings loader (logging configured)."""

    def handler(args: argparse.Namespace) -> int:
        return cmd_report(args, load(args))

    report = add("report", handler, "sales and liability report: report.html and CSV files")
    report.add_argument(
        "--from",
        dest="start",
        type=_day,
        metavar="DATE",
        help="first day (UTC), default: the month of the first card",
    )
    report.add_argument(
        "--to", dest="end", type=_day, metavar="DATE", help="last day (UTC), default: today"
    )
    report.add_argument(
        "--out", metavar="DIR", help="where to write (default: STATE_DIR/reports/<time>/)"
    )


class _PlainProgress:
    """A line every few pages, and one when a table is read to the end."""

    def __init__(self) -> None:
        self.what: str | None = None
        self.records = 0
        self.pages = 0

    def __call__(self, what: str, records: int) -> None:
        if what != self.what:
            self.flush()
            self.what, self.pages = what, -1  # the first call comes before the first page
        self.pages += 1
        self.records = records
        if self.pages and self.pages % PLAIN_EVERY == 0:
            print(f"reading {what}: {records} records", flush=True)

    def flush(self) -> None:
        if self.what is not None:
            print(f"read {self.what}: {self.records} records", flush=True)
            self.what = None


@contextmanager
def progress_bar() -> Iterator[Progress]:
    """A tqdm bar per table on a terminal (records read, and the rate), else a line every few
    pages."""
    if not sys.stdout.isatty():
        plain = _PlainProgress()
        yield plain
        plain.flush()
        return
    from tqdm import tqdm

    bars: dict[str, tqdm[Any]] = {}

    def tick(what: str, records: int) -> None:
        if what not in bars:
            bars[what] = tqdm(desc=f"reading {what}", unit=" records", dynamic_ncols=True)
        bar = bars[what]
        bar.update(records - bar.n)

    try:
        yield tick
    finally:
        for bar in bars.values():
            bar.close()


def _period(args: argparse.Namespace, data: ReportInput, today: date) -> Period:
    end = args.end or today
    if args.start is not None:
        start = args.start
    else:
        issued = [day_of(c.issued_at) for c in data.books.cards.values() if c.issued_at]
        start = min(issued, default=end).replace(day=1)
    if end < start:
        raise SettingsError(f"--to {end} is before --from {start}")
    return Period(start, end)


def write_report(
    data: ReportInput,
    period: Period,
    out: Path,
    *,
    business_name: str,
    shop_currency: str,
    now: datetime,
) -> list[Path]:
    """Compute the figures and write report.html and the CSV files (the shop's currency
    first, then any other the cards are in); returns the files written, report.html first."""
    from daemon import report_charts, report_html, report_tables

    computed = report_figures(data.books, period, now.astimezone(UTC).date())
    figures = dict(sorted(computed.items(), key=lambda kv: (kv[0] != shop_currency, kv[0])))
    tables = {cur: report_tables.tables_for(f, data.store_names) for cur, f in figures.items()}
    charts = {cur: report_charts.charts_for(f, data.store_names) for cur, f in figures.items()}
    out.mkdir(parents=True, exist_ok=True)
    written = [p for ts in tables.values() for p in report_tables.write_csvs(ts, out)]
    page = report_html.ReportPage(business_name, period, now, data.books, figures, tables, charts)
    html = out / REPORT_FILE
    html.write_text(report_html.render(page), encoding="utf-8")
    return [html, *written]


def cmd_report(args: argparse.Namespace, settings: Settings) -> int:
    if args.start and args.end and args.end < args.start:
        raise SettingsError(f"--to {args.end} is before --from {args.start}")
    now = datetime.now(UTC)
    settings, stop_sandbox = bootstrap.connect(settings)
    try:
        setup = bootstrap.report_setup(settings, REPORT_RETRY)
        source = setup.source
        started = clock.monotonic()
        try:
            with progress_bar() as tick:
                data = read_for_report(source, args.end or now.date(), tick)
        finally:
            source.close()
    finally:
        stop_sandbox()
    seconds = clock.monotonic() - started
    period = _period(args, data, now.date())
    out = Path(args.out) if args.out else default_out(setup.state_dir, now)
    written = write_report(
        data,
        period,
        out,
        business_name=setup.business_name,
        shop_currency=setup.shop_currency,
        now=now,
    )
    print(
        f"read {data.cards_read} cards and {data.receipts_read} receipts in {seconds:.1f} s "
        f"({data.requests} Airtable requests)"
    )
    print(f"wrote {written[0]} and {len(written) - 1} CSV files in {out}")
    return 0
