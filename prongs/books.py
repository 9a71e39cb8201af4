"""Reading the books: what ``giftbridge report`` and the status page's summary read, and how.

Both read through :class:`clients.ports.ReportSource` page by page at ``Priority.BULK`` (every
till's redemption goes first at the shared limiter) and hand the rows to the pure functions of
:mod:`cards.ledger`, :mod:`cards.report_figures` and :mod:`cards.headline`.

- The report reads every Gift Cards row, every receipt the books use up to the end of the period
  (the liability at the end of a month counts everything before it), and the store names.
- The summary reads this month's receipts and the cards issued this month and the requests that
  need an operator (:func:`read_month`), and the Active cards for the liability
  (:func:`read_active_cards`); ``daemon.summary`` decides how often.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import TypeVar

from cards.headline import Headline, headline
from cards.ledger import Books, CardFacts, ReceiptFacts, keep_books
from clients.ports import Priority, ReportSource, priority
from clients.report_records import FlaggedRequest

T = TypeVar("T")
#: Told (what is being read, records so far) before the first page and after each page.
Progress = Callable[[str, int], None]
STUCK_AFTER = timedelta(minutes=10)


def _no_progress(what: str, records: int) -> None:
    return None


@dataclass
class Reader:
    """Reads listings to the end, counting the pages (one Airtable request each)."""

    progress: Progress = _no_progress
    requests: int = 0

    def read(self, pages: Iterable[list[T]], what: str = "") -> list[T]:
        rows: list[T] = []
        self.progress(what, 0)
        for page in pages:
            self.requests += 1
            rows += page
            self.progress(what, len(rows))
        return rows


@dataclass
class ReportInput:
    books: Books
    store_names: dict[str, str]
    receipts_read: int
    cards_read: int
    requests: int  # Airtable requests the reading took


def read_for_report(
    source: ReportSource, until: date, progress: Progress = _no_progress
) -> ReportInput:
    """Everything the report needs, for a period ending on ``until`` (UTC, inclusive)."""
    end = datetime.combine(until + timedelta(days=1), time(), tzinfo=UTC)
    reader = Reader(progress)
    with priority(Priority.BULK):
        cards = reader.read(source.iter_cards(), "Gift Cards")
        receipts = reader.read(source.iter_receipts(None, end), "Receipts")
        names = source.store_names()
        reader.requests += 1
    books = keep_books(cards, receipts)
    return ReportInput(books, names, len(receipts), len(cards), reader.requests)


# --- the status page's summary ----------------------------------------------------------------


def month_start(now: datetime) -> datetime:
    utc = now.astimezone(UTC)
    return datetime(utc.year, utc.month, 1, tzinfo=UTC)


@dataclass
class MonthRead:
    """This month's issues and receipts, and the requests an operator should look at."""

    read_at: datetime
    issued: list[CardFacts]
    receipts: list[ReceiptFacts]
    flagged: list[FlaggedRequest]
    table_ids: dict[str, str]
    requests: int


def read_month(source: ReportSource, now: datetime) -> MonthRead:
    reader = Reader()
    start = month_start(now)
    with priority(Priority.BULK):
        flagged = source.flagged_requests(now - STUCK_AFTER)
        reader.requests += 4  # one listing per request table, usually one page each
        receipts = reader.read(source.iter_receipts(start, None))
        issued = reader.read(source.iter_cards(issued_since=start))
        table_ids = source.table_ids()
    return MonthRead(now, issued, receipts, flagged, table_ids, reader.requests)


def read_flagged(source: ReportSource, now: datetime) -> list[FlaggedRequest]:
    """The requests an operator should look at (one listing per request table)."""
    with priority(Priority.BULK):
        return source.flagged_requests(now - STUCK_AFTER)


def read_active_cards(source: ReportSource) -> tuple[list[CardFacts], int]:
    """The Active cards (the liability) and the requests the reading took."""
    reader = Reader()
    with priority(Priority.BULK):
        cards = reader.read(source.iter_cards(active_only=True))
    return cards, reader.requests


def headline_of(
    month: MonthRead, active: list[CardFacts], shop_currency: str
) -> dict[str, Headline]:
    today = month.read_at.astimezone(UTC).date()
    return headline(month.issued, month.receipts, active, today, shop_currency)
