"""``report.html``: one self-contained page (inline CSS and SVG, no scripts, no links out).

It reads on a phone and on a desk: tables scroll sideways inside their own box, charts take the
page's width. Every value is HTML-escaped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from html import escape

from cards.ledger import Books
from cards.report_figures import CurrencyFigures, Period
from daemon.report_charts import Chart
from daemon.report_tables import ReportTable, amount, percent

STYLE = """
* { box-sizing: border-box; }
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0; color: #1d2330;
  background: #f6f7f9; line-height: 1.45; }
main { max-width: 1100px; margin: 0 auto; padding: 1rem; }
h1 { font-size: 1.5rem; margin: .5rem 0 .2rem; } h2 { margin-top: 2rem; font-size: 1.3rem; }
h3 { font-size: 1.05rem; margin: 1.2rem 0 .4rem; }
.muted { color: #5f6b7a; font-size: .9rem; }
.tiles { display: grid; grid-template-columns: repeat(auto-fit, minmax(10rem, 1fr)); gap: .6rem; }
.tile { background: #fff; border: 1px solid #dde2e8; border-radius: 8px; padding: .6rem .8rem; }
.tile b { display: block; font-size: 1.25rem; } .tile span { color: #5f6b7a; font-size: .85rem; }
.verdict { border-radius: 8px; padding: .7rem .9rem; margin: .8rem 0; border: 1px solid; }
.verdict.ok { background: #eaf6ee; border-color: #9fd3ae; }
.verdict.off { background: #fdecec; border-color: #eea6a6; }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(min(100%, 30rem), 1fr));
  gap: .8rem; }
figure { margin: 0; background: #fff; border: 1px solid #dde2e8; border-radius: 8px;
  padding: .4rem; }
figure svg { width: 100%; height: auto; display: block; }
.scroll { overflow-x: auto; background: #fff; border: 1px solid #dde2e8; border-radius: 8px; }
table { border-collapse: collapse; width: 100%; font-size: .92rem; }
th, td { padding: .35rem .6rem; border-bottom: 1px solid #edf0f3; text-align: right;
  white-space: nowrap; }
th:first-child, td:first-child { text-align: left; white-space: normal; }
th { background: #f0f3f6; font-weight: 600; }
.tables { display: grid; grid-template-columns: repeat(auto-fit, minmax(min(100%, 24rem), 1fr));
  gap: 0 1rem; }
.tables > .wide { grid-column: 1 / -1; }
section.how li { margin-bottom: .3rem; }
"""


@dataclass(frozen=True, slots=True)
class ReportPage:
    business_name: str
    period: Period
    generated_at: datetime
    books: Books
    figures: dict[str, CurrencyFigures]
    tables: dict[str, list[ReportTable]]
    charts: dict[str, list[Chart]]


def _e(value: object) -> str:
    return escape(str(value))


def table_html(table: ReportTable) -> str:
    head = "".join(f"<th>{_e(c)}</th>" for c in table.columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{_e(cell)}</td>" for cell in row) + "</tr>" for row in table.rows
    )
    note = f"<p class=muted>{_e(table.note)}</p>" if table.note else ""
    wide = " class=wide" if len(table.columns) >= 5 else ""
    return (
        f"<div{wide}><h3>{_e(table.title)}</h3>"
        f'<div class=scroll><table id="{_e(table.file_name)}">'
        f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>{note}"
        f"<p class=muted>CSV: {_e(table.file_name)}</p></div>"
    )


def _verdict(f: CurrencyFigures) -> str:
    r = f.reconciliation
    formula = (
        f"Liability on {r.through} = issued {amount(r.totals.issued)} − redeemed "
        f"{amount(r.totals.redeemed)} − voided {amount(r.totals.voided)} − expired "
        f"{amount(r.totals.expired)} + refunded {amount(r.totals.refunded)} + net adjustments "
        f"{amount(r.totals.adjustments)} = <b>{amount(r.totals.liability)} {f.currency}</b>"
    )
    if not r.formula_holds:
        return (
            f"<div class='verdict off'>{formula}, but the entries add up to "
            f"{amount(r.ledger_liability)}: the difference is "
            f"{amount(r.totals.liability - r.ledger_liability)}.</div>"
        )
    if r.recorded_liability is None or r.difference is None:
        return (
            f"<div class='verdict ok'>✓ The books reconcile. {formula}. (The cards' balances "
            "are today's, so they are compared only for a period that ends today.)</div>"
        )
    if r.difference.is_zero:
        return (
            f"<div class='verdict ok'>✓ The books reconcile. {formula}, and the Active cards' "
            "balances today add up to the same.</div>"
        )
    return (
        f"<div class='verdict off'>{formula}, but the Active cards' balances add up to "
        f"{amount(r.recorded_liability)}: a difference of <b>{amount(r.difference)} "
        f"{f.currency}</b> over {len(r.differences)} card(s), listed below.</div>"
    )


def _tiles(f: CurrencyFigures) -> str:
    t = f.period_totals
    tiles = (
        ("Owed at the end", amount(f.closing_liability)),
        ("Issued", f"{amount(t.issued)} · {f.cards_issued} cards"),
        ("Redeemed", amount(t.redeemed)),
        ("Redemption rate", percent(f.redemption_rate)),
        ("Breakage", amount(t.breakage)),
    )
    cells = "".join(f"<div class=tile><span>{_e(k)}</span><b>{_e(v)}</b></div>" for k, v in tiles)
    return f"<div class=tiles>{cells}</div>"


def _currency_section(
    f: CurrencyFigures, tables: Sequence[ReportTable], charts: Sequence[Chart]
) -> str:
    figures = "".join(f"<figure aria-label='{_e(c.title)}'>{c.svg}</figure>" for c in charts)
    return (
        f"<section><h2>{_e(f.currency)}</h2>{_verdict(f)}{_tiles(f)}"
        f"<div class=charts>{figures}</div>"
        f"<div class=tables>{''.join(table_html(t) for t in tables)}</div></section>"
    )


HOW = """
<section class=how><h2>How these figures are computed</h2><ul>
<li><b>Issued</b>: every card once, at its Gift Cards row's Initial Value on its Issued At day,
whoever issued it (giftbridge's Created receipt and the Purchased receipts repeat that value and
are not counted again; cards Shopify issued itself have no Created receipt). A card with no
Issued At (Pending, or voided before it was issued) was never sold and is left out.</li>
<li><b>Redeemed in store</b>: Redeemed receipts. <b>Redeemed online</b>: Redeemed Online
receipts. <b>Refunded online</b>: Refunded Online receipts, value put back on a card.</li>
<li><b>Voided</b>: the balance a void debited, less what a Reactivated receipt credited back.</li>
<li><b>Expired</b>: the balance that expired (the Expired receipt's Amount), less any
expired balance an operator reinstated by extending the card's expiry.</li>
<li><b>Net adjustments</b>: Adjusted receipts, credits positive and debits negative.</li>
<li><b>Liability</b> (owed) = issued − redeemed − voided − expired + refunded + net
adjustments, from the first card on. <b>Breakage</b> = voided + expired.
<b>Redemption rate</b> = (redeemed − refunded) ÷ issued in the period.</li>
<li>Drift receipts repair Airtable's copy of a balance and move no money. Emails, balance checks,
rejected redemptions, reminders and alerts move no money either.</li>
<li>Receipts of a go-live rehearsal, and the cards it issued, are left out. Each receipt is in
its card's currency. Days and months are UTC.</li>
<li>Reconciliation: the formula is checked against the entries added up one by one and, for a
period that ends today, against the Balance of every Active card in Gift Cards; a card whose
balance differs from its receipts is listed.</li></ul></section>
"""


def _left_out(books: Books) -> str:
    notes = [
        (books.rehearsal_receipts, "Receipts of a go-live rehearsal (and of its cards)"),
        (books.unknown_card_receipts, "Money receipts of cards with no Gift Cards row"),
        (books.unissued_card_receipts, "Money receipts of cards never issued"),
    ]
    items = [f"<li>{_e(what)}: {n}</li>" for n, what in notes if n]
    items += [f"<li>{_e(problem)}</li>" for problem in books.problems]
    if not items:
        return ""
    return f"<h3>Left out of the figures</h3><ul class=muted>{''.join(items)}</ul>"


def render(page: ReportPage) -> str:
    p = page.period
    sections = (
        "".join(
            _currency_section(f, page.tables[cur], page.charts.get(cur, []))
            for cur, f in page.figures.items()
        )
        or "<p>No issued cards yet: nothing to report.</p>"
    )
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        "<meta name=viewport content='width=device-width, initial-scale=1'>"
        f"<title>{_e(page.business_name)} gift cards, {p.start} to {p.end}</title>"
        f"<style>{STYLE}</style></head><body><main>"
        f"<h1>{_e(page.business_name)}: gift cards, {p.start} to {p.end}</h1>"
        f"<p class=muted>Written {page.generated_at:%Y-%m-%d %H:%M} UTC by giftbridge report, "
        f"from the Receipts and Gift Cards tables. Currencies: "
        f"{_e(', '.join(page.figures) or 'none')}.</p>"
        f"{_left_out(page.books)}{sections}{HOW}</main></body></html>"
    )
