"""The figures of ``giftbridge report``, per currency, from the books (:mod:`cards.ledger`).

Pure functions of the entries, the cards and two dates: the period (``--from``..``--to``,
inclusive, UTC days) and today (for the expirations due and for comparing the books with the
balances the cards record today). Months are UTC calendar months, ``"2025-03"``.

The liability at the end of a month is the sum of every entry's change up to that day, from the
first card on: figures before ``--from`` still count towards it. Two checks reconcile it:

- the formula: issued - redeemed - voided - expired + refunded + net adjustments, summed over
  all time up to ``--to``, equals the liability the month-by-month entries add up to;
- the cards: when the period ends today (or later), the books' liability equals the sum of the
  Balance of every Active card; any card whose own books differ is listed with the difference.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from cards.ledger import Book, Books, CardFacts, Entry
from cards.money import Money
from cards.vocab import CardStatus

EXPIRY_HORIZONS = (30, 60, 90)
POPULAR_AMOUNTS = 12


def day_of(moment: datetime) -> date:
    return moment.astimezone(UTC).date()


def month_of(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def month_end(day: date) -> date:
    first_next = date(day.year + day.month // 12, day.month % 12 + 1, 1)
    return first_next - timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Period:
    """Days ``start`` to ``end``, both included."""

    start: date
    end: date

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError(f"the period ends ({self.end}) before it starts ({self.start})")

    def contains(self, day: date) -> bool:
        return self.start <= day <= self.end

    def months(self) -> list[str]:
        found, day = [], self.start.replace(day=1)
        while day <= self.end:
            found.append(month_of(day))
            day = month_end(day) + timedelta(days=1)
        return found

    def closing_day(self, month: str) -> date:
        """The last day of ``month`` inside the period."""
        year, number = (int(part) for part in month.split("-"))
        return min(month_end(date(year, number, 1)), self.end)


@dataclass(frozen=True, slots=True)
class Tally:
    count: int
    value: Money

    @classmethod
    def zero(cls, currency: str) -> Tally:
        return cls(0, Money.zero(currency))

    def plus(self, amount: Money) -> Tally:
        return Tally(self.count + 1, self.value + amount)


@dataclass(frozen=True, slots=True)
class Totals:
    """Sums of each line of the books over some entries."""

    currency: str
    sums: dict[Book, Money]

    @classmethod
    def of(cls, entries: Iterable[Entry], currency: str) -> Totals:
        sums = {book: Money.zero(currency) for book in Book}
        for entry in entries:
            sums[entry.book] = sums[entry.book] + entry.amount
        return cls(currency, sums)

    def __getitem__(self, book: Book) -> Money:
        return self.sums[book]

    @property
    def issued(self) -> Money:
        return self.sums[Book.ISSUED]

    @property
    def redeemed(self) -> Money:
        return self.sums[Book.REDEEMED_IN_STORE] + self.sums[Book.REDEEMED_ONLINE]

    @property
    def refunded(self) -> Money:
        return self.sums[Book.REFUNDED]

    @property
    def voided(self) -> Money:
        """Net of reactivations."""
        return self.sums[Book.VOIDED] - self.sums[Book.REACTIVATED]

    @property
    def expired(self) -> Money:
        """Net of expiries an operator extended afterwards."""
        return self.sums[Book.EXPIRED] - self.sums[Book.EXPIRY_REVERSED]

    @property
    def adjustments(self) -> Money:
        return self.sums[Book.ADJUSTED]

    @property
    def breakage(self) -> Money:
        return self.voided + self.expired

    @property
    def liability(self) -> Money:
        """issued - redeemed - voided - expired + refunded + net adjustments."""
        return (
            self.issued
            - self.redeemed
            - self.voided
            - self.expired
            + self.refunded
            + self.adjustments
        )


@dataclass(frozen=True, slots=True)
class CardDifference:
    card_id: str
    masked_code: str | None
    books: Money  # what the receipts say the card still holds
    recorded: Money  # what its row says (Balance if Active, else zero)

    @property
    def difference(self) -> Money:
        return self.recorded - self.books


@dataclass(frozen=True, slots=True)
class Reconciliation:
    through: date
    totals: Totals  # all time up to ``through``
    ledger_liability: Money  # the entries' changes added up one by one
    recorded_liability: Money | None  # the Active cards' balances, when comparable (today)
    differences: tuple[CardDifference, ...] = ()

    @property
    def formula_holds(self) -> bool:
        return self.totals.liability == self.ledger_liability

    @property
    def difference(self) -> Money | None:
        if self.recorded_liability is None:
            return None
        return self.recorded_liability - self.ledger_liability


@dataclass(frozen=True)
class CurrencyFigures:
    currency: str
    period: Period
    today: date
    issued_by_month: dict[str, Tally]
    issued_by_store: dict[str | None, Tally]
    issued_by_source: dict[str, Tally]
    popular_amounts: list[tuple[Money, int]]
    redeemed_by_month: dict[Book, dict[str, Tally]]  # in store, online, refunded online
    breakage_by_month: dict[str, Totals]
    liability_by_month: dict[str, Money]
    period_totals: Totals
    opening_liability: Money
    cards_issued: int
    cards_fully_redeemed: int
    expirations_due: dict[int, Tally]
    reconciliation: Reconciliation

    @property
    def closing_liability(self) -> Money:
        return self.opening_liability + self.period_totals.liability

    @property
    def redemption_rate(self) -> Decimal | None:
        """Value redeemed (net of refunds) / value issued, in the period."""
        issued = self.period_totals.issued.amount
        if issued == 0:
            return None
        return (self.period_totals.redeemed - self.period_totals.refunded).amount / issued


def _by_month(entries: Iterable[Entry], months: Sequence[str], currency: str) -> dict[str, Tally]:
    found = {m: Tally.zero(currency) for m in months}
    for entry in entries:
        month = month_of(day_of(entry.at))
        if month in found:
            found[month] = found[month].plus(entry.amount)
    return found


def _issued_tables(
    issues: Sequence[Entry], cards: dict[str, CardFacts], currency: str
) -> tuple[dict[str | None, Tally], dict[str, Tally], list[tuple[Money, int]]]:
    by_store: dict[str | None, Tally] = {}
    by_source: dict[str, Tally] = {}
    amounts: Counter[Money] = Counter()
    for entry in issues:
        card = cards[entry.card_id]
        by_store[entry.store_id] = by_store.get(entry.store_id, Tally.zero(currency)).plus(
            entry.amount
        )
        source = card.source.value if card.source else "(none)"
        by_source[source] = by_source.get(source, Tally.zero(currency)).plus(entry.amount)
        amounts[entry.amount] += 1
    popular = sorted(amounts.items(), key=lambda item: (-item[1], item[0].amount))
    return by_store, by_source, popular[:POPULAR_AMOUNTS]


def _liability_by_month(
    entries: Sequence[Entry], period: Period, currency: str
) -> dict[str, Money]:
    result: dict[str, Money] = {}
    running, index = Money.zero(currency), 0
    for month in period.months():
        closing = period.closing_day(month)
        while index < len(entries) and day_of(entries[index].at) <= closing:
            running = running + entries[index].change
            index += 1
        result[month] = running
    return result


def _reconcile(
    entries: Sequence[Entry], cards: dict[str, CardFacts], period: Period, today: date, cur: str
) -> Reconciliation:
    upto = [e for e in entries if day_of(e.at) <= period.end]
    ledger = Money.zero(cur)
    per_card: dict[str, Money] = defaultdict(lambda: Money.zero(cur))
    for entry in upto:
        ledger = ledger + entry.change
        per_card[entry.card_id] = per_card[entry.card_id] + entry.change
    recorded: Money | None = None
    differences: list[CardDifference] = []
    if period.end >= today:
        recorded = Money.zero(cur)
        for card in cards.values():
            recorded = recorded + card.outstanding
            books = per_card.get(card.id, Money.zero(cur))
            if books != card.outstanding:
                differences.append(
                    CardDifference(card.id, card.masked_code, books, card.outstanding)
                )
        differences.sort(key=lambda d: (-abs(d.difference.amount), d.card_id))
    return Reconciliation(period.end, Totals.of(upto, cur), ledger, recorded, tuple(differences))


def _expirations_due(cards: Iterable[CardFacts], today: date, cur: str) -> dict[int, Tally]:
    due = {days: Tally.zero(cur) for days in EXPIRY_HORIZONS}
    for card in cards:
        owed = card.outstanding
        if card.expires_on is None or not owed.is_positive or card.expires_on < today:
            continue
        for days in EXPIRY_HORIZONS:
            if card.expires_on <= today + timedelta(days=days):
                due[days] = due[days].plus(owed)
    return due


def currency_figures(books: Books, currency: str, period: Period, today: date) -> CurrencyFigures:
    cards = {i: c for i, c in books.cards.items() if c.currency == currency}
    entries = [e for e in books.entries if e.card_id in cards]
    months = period.months()
    inside = [e for e in entries if period.contains(day_of(e.at))]
    before = [e for e in entries if day_of(e.at) < period.start]
    issues = [e for e in inside if e.book == Book.ISSUED]
    by_store, by_source, popular = _issued_tables(issues, cards, currency)
    redeemed = {
        book: _by_month((e for e in inside if e.book == book), months, currency)
        for book in (Book.REDEEMED_IN_STORE, Book.REDEEMED_ONLINE, Book.REFUNDED)
    }
    breakage = {
        m: Totals.of((e for e in inside if month_of(day_of(e.at)) == m), currency) for m in months
    }
    issued_ids = {e.card_id for e in issues}
    return CurrencyFigures(
        currency=currency,
        period=period,
        today=today,
        issued_by_month=_by_month(issues, months, currency),
        issued_by_store=by_store,
        issued_by_source=by_source,
        popular_amounts=popular,
        redeemed_by_month=redeemed,
        breakage_by_month=breakage,
        liability_by_month=_liability_by_month(entries, period, currency),
        period_totals=Totals.of(inside, currency),
        opening_liability=Totals.of(before, currency).liability,
        cards_issued=len(issued_ids),
        cards_fully_redeemed=sum(1 for i in issued_ids if cards[i].status == CardStatus.REDEEMED),
        expirations_due=_expirations_due(cards.values(), today, currency),
        reconciliation=_reconcile(entries, cards, period, today, currency),
    )


def report_figures(books: Books, period: Period, today: date) -> dict[str, CurrencyFigures]:
    """The figures of every currency the issued cards are in, in alphabetical order."""
    currencies = sorted({c.currency for c in books.cards.values()})
    return {cur: currency_figures(books, cur, period, today) for cur in currencies}
