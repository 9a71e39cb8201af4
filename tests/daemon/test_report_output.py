"""report.html and the CSV files from the scripted history: one self-contained page, and CSVs
that are exactly the tables the page shows. And the daemon never loads matplotlib."""

from __future__ import annotations

import csv
import re
import subprocess
import sys
from datetime import UTC, date, datetime
from html.parser import HTMLParser
from pathlib import Path

import pytest

from cards.ledger import keep_books
from cards.report_figures import Period
from daemon.report_command import write_report
from prongs.books import ReportInput
from tests.unit.report_history import CARDS, RECEIPTS, TODAY

NOW = datetime(2025, 3, 5, 12, tzinfo=UTC)


class Tables(HTMLParser):
    """Every <table id=...> of a page: id -> rows of cell texts (header row first)."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self._table: str | None = None
        self._row: list[str] | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self._table = dict(attrs).get("id") or ""
            self.tables[self._table] = []
        elif tag == "tr" and self._table is not None:
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._row is not None and self._cell is not None:
            self._row.append("".join(self._cell))
            self._cell = None
        elif tag == "tr" and self._table is not None and self._row is not None:
            self.tables[self._table].append(self._row)
            self._row = None
        elif tag == "table":
            self._table = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    data = ReportInput(
        keep_books(CARDS, RECEIPTS), {"recS1": "Main Street", "recS2": "Harbour"}, 25, 9, 3
    )
    out = tmp_path_factory.mktemp("report")
    return write_report(
        data,
        Period(date(2025, 1, 1), TODAY),
        out,
        business_name="Corner Books",
        shop_currency="USD",
        now=NOW,
    )


def test_the_page_is_one_self_contained_file(written: list[Path]) -> None:
    page = written[0].read_text("utf-8")
    assert written[0].name == "report.html"
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", page, re.I)
    assert not re.search(r"<(script|link|img|iframe)\b", page, re.I)
    assert page.count("<svg") == 10  # five charts per currency, inline
    assert "@import" not in page
    assert not re.search(r"url\(\s*['\"]?(?!#)", page)  # only the SVGs' own #clip paths


def test_every_csv_is_a_table_the_page_shows(written: list[Path]) -> None:
    shown = Tables()
    shown.feed(written[0].read_text("utf-8"))
    csvs = written[1:]
    assert {p.name for p in csvs} == set(shown.tables)
    for path in csvs:
        with path.open(newline="", encoding="utf-8") as handle:
            rows = list(csv.reader(handle))
        assert rows == shown.tables[path.name], path.name
    assert {p.name.rsplit("-", 1)[1] for p in csvs} == {"USD.csv", "EUR.csv"}


def test_the_page_says_the_books_reconcile_and_shows_the_hand_computed_liability(
    written: list[Path],
) -> None:
    page = written[0].read_text("utf-8")
    assert page.index(">USD</h2>") < page.index(">EUR</h2>")  # the shop's currency first
    assert "✓ The books reconcile" in page and "<b>85.00 USD</b>" in page
    assert "How these figures are computed" in page
    with (written[0].parent / "liability-by-month-USD.csv").open(encoding="utf-8") as handle:
        assert list(csv.reader(handle))[1:] == [
            ["2025-01", "160.00"],
            ["2025-02", "115.00"],
            ["2025-03", "85.00"],
        ]
    with (written[0].parent / "issued-by-store-USD.csv").open(encoding="utf-8") as handle:
        assert ["Main Street", "2", "125.00"] in list(csv.reader(handle))


def test_neither_the_daemon_nor_its_service_loads_matplotlib() -> None:
    """Nor numpy, which matplotlib brings along and fpdf2 would otherwise import: the daemon
    builds every adapter, renders a certificate, serves its page, and none of them is loaded."""
    code = (
        "import sys\n"
        "import daemon.bootstrap, daemon.cli, daemon.service, daemon.summary, daemon.http\n"
        "from clients import factory\n"
        "from tests.clients.test_certificates import printable as certificate\n"
        "assert factory.FpdfCertificates().render(certificate()).startswith(b'%PDF')\n"
        "from tests.daemon.service_kit import start_and_stop_a_service\n"
        "start_and_stop_a_service()\n"
        "heavy = ('matplotlib', 'tqdm', 'numpy')\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in heavy)\n"
        "assert not loaded, loaded\n"
        "import matplotlib.figure\n"  # and the report can still draw afterwards
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr[-2000:]
