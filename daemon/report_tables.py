"""The report's tables: each one shown in ``report.html`` AND written as a CSV, from one value.

A :class:`ReportTable` holds its cells as the text both files show (amounts with the currency's
decimals and no symbol, so a spreadsheet reads them as numbers), so the CSV files are exactly
what the page shows. One set of tables per currency; file names are ``<slug>-<CURRENCY>.csv``.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from cards.ledger import Book
from cards.money import Money
from cards.report_figures import CurrencyFigures, Tally

Row = tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ReportTable:
    slug: str
    title: str
    columns: tuple[str, ...]
    rows: tuple[Row, ...]
    currency: str
    note: str | None = None

    @property
    def file_name(self) -> str:
        return f"{self.slug}-{self.currency}.csv"

    def write_csv(self, directory: Path) -> Path:
        path = directory / self.file_name
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(self.columns)
            writer.writerows(self.rows)
        return path


def amount(value: Money) -> str:
    return value.as_string()


def percent(value: Decimal | None) -> str:
    return "n/a" if value is None else f"{value * 100:.1f}%"


def _tally(tally: Tally) -> Row:
    return (str(tally.count), amount(tally.value))


def summary_rows(f: CurrencyFigures) -> tuple[Row, ...]:
    t = f.period_totals
    rate_cards = f"{f.cards_fully_redeemed} of {f.cards_issued}" if f.cards_issued else "0 of 0"
    return (
        ("Owed at the start of the period", amount(f.opening_liability)),
        ("Issued", amount(t.issued)),
        ("Redeemed in store", amount(t[Book.REDEEMED_IN_STORE])),
        ("Redeemed online", amount(t[Book.REDEEMED_ONLINE])),
        ("Refunded online", amount(t.refunded)),
        ("Voided, net of reactivations", amount(t.voided)),
        ("Expired, net of extensions", amount(t.expired)),
        ("Net adjustments", amount(t.adjustments)),
        ("Owed at the end of the period", amount(f.closing_liability)),
        ("Breakage (expired + voided)", amount(t.breakage)),
        ("Redemption rate (redeemed net of refunds / issued)", percent(f.redemption_rate)),
        ("Cards issued in the period that are fully redeemed", rate_cards),
    )


def reconciliation_rows(f: CurrencyFigures) -> tuple[Row, ...]:
    r = f.reconciliation
    t = r.totals
    rows: list[Row] = [
        ("Issued", "+", amount(t.issued)),
        ("Redeemed (in store and online)", "-", amount(t.redeemed)),
        ("Voided, net of reactivations", "-", amount(t.voided)),
        ("Expired, net of extensions", "-", amount(t.expired)),
        ("Refunded online", "+", amount(t.refunded)),
        ("Net adjustments", "+", amount(t.adjustments)),
        ("Liability by the formula", "=", amount(t.liability)),
        ("Liability by adding up every entry", "=", amount(r.ledger_liability)),
        ("The formula holds", "", "yes" if r.formula_holds else "NO"),
    ]
    if r.recorded_liability is not None and r.difference is not None:
        rows += [
            ("Active cards' balances today", "", amount(r.recorded_liability)),
            ("Difference (balances - books)", "", amount(r.difference)),
            ("Cards whose balance differs", "", str(len(r.differences))),
        ]
    return tuple(rows)


def _by_month(f: CurrencyFigures) -> tuple[ReportTable, ...]:
    cur, months = f.currency, f.period.months()
    store = f.redeemed_by_month[Book.REDEEMED_IN_STORE]
    online = f.redeemed_by_month[Book.REDEEMED_ONLINE]
    refunded = f.redeemed_by_month[Book.REFUNDED]
    return (
        ReportTable(
            "issued-by-month",
            "Issued by month",
            ("Month", "Cards", "Value"),
            tuple((m, *_tally(f.issued_by_month[m])) for m in months),
            cur,
        ),
        ReportTable(
            "redemptions-by-month",
            "Redemptions by month",
            (
                "Month",
                "In store: count",
                "In store: value",
                "Online: count",
                "Online: value",
                "Refunded online",
            ),
            tuple(
                (m, *_tally(store[m]), *_tally(online[m]), amount(refunded[m].value))
                for m in months
            ),
            cur,
        ),
        ReportTable(
            "liability-by-month",
            "Owed at the end of each month (liability)",
            ("Month", "Owed"),
            tuple((m, amount(f.liability_by_month[m])) for m in months),
            cur,
            note="The last month ends on the last day of the period.",
        ),
        ReportTable(
            "breakage-by-month",
            "Breakage by month",
            ("Month", "Expired", "Expiry extended", "Voided", "Reactivated", "Breakage (net)"),
            tuple(
                (
                    m,
                    amount(b[Book.EXPIRED]),
                    amount(b[Book.EXPIRY_REVERSED]),
                    amount(b[Book.VOIDED]),
                    amount(b[Book.REACTIVATED]),
                    amount(b.breakage),
                )
                for m, b in f.breakage_by_month.items()
            ),
            cur,
        ),
    )


def _issued(f: CurrencyFigures, store_names: Mapping[str, str]) -> tuple[ReportTable, ...]:
    cur = f.currency

    def store(store_id: str | None) -> str:
        return "(no store)" if store_id is None else store_names.get(store_id, store_id)

    stores = sorted(f.issued_by_store.items(), key=lambda kv: (-kv[1].value.amount, store(kv[0])))
    sources = sorted(f.issued_by_source.items(), key=lambda kv: (-kv[1].value.amount, kv[0]))
    return (
        ReportTable(
            "issued-by-store",
            "Issued by store",
            ("Store", "Cards", "Value"),
            tuple((store(s), *_tally(t)) for s, t in stores),
            cur,
        ),
        ReportTable(
            "issued-by-source",
            "Issued by source",
            ("Source", "Cards", "Value"),
            tuple((s, *_tally(t)) for s, t in sources),
            cur,
        ),
        ReportTable(
            "popular-amounts",
            "Popular amounts",
            ("Amount", "Cards"),
            tuple((amount(a), str(n)) for a, n in f.popular_amounts),
            cur,
            note="The most issued card values in the period, most popular first.",
        ),
    )


def tables_for(f: CurrencyFigures, store_names: Mapping[str, str]) -> list[ReportTable]:
    """Every table of one currency, in the order the page shows them."""
    cur = f.currency
    tables = [
        ReportTable("summary", "The period at a glance", ("Figure", "Value"), summary_rows(f), cur),
        *_by_month(f)[:1],
        *_issued(f, store_names),
        *_by_month(f)[1:],
        ReportTable(
            "expirations-due",
            f"Expirations due after {f.today.isoformat()}",
            ("Within", "Cards", "Value"),
            tuple((f"{days} days", *_tally(t)) for days, t in f.expirations_due.items()),
            cur,
            note="Active cards with a balance whose Expires On falls within the days shown.",
        ),
        ReportTable(
            "reconciliation",
            f"Reconciliation, all time up to {f.reconciliation.through.isoformat()}",
            ("Line", "", "Value"),
            reconciliation_rows(f),
            cur,
        ),
    ]
    differences = f.reconciliation.differences
    if differences:
        tables.append(
            ReportTable(
                "card-differences",
                "Cards whose balance differs from their receipts",
                ("Card", "Masked code", "By the receipts", "Balance recorded", "Difference"),
                tuple(
                    (
                        d.card_id,
                        d.masked_code or "",
                        amount(d.books),
                        amount(d.recorded),
                        amount(d.difference),
                    )
                    for d in differences
                ),
                cur,
                note="Look at each card's receipts and its Shopify transactions; the audit "
                "records a Shopify transaction that no receipt accounts for.",
            )
        )
    return tables


def write_csvs(tables: Sequence[ReportTable], directory: Path) -> list[Path]:
    return [table.write_csv(directory) for table in tables]
