"""The report's charts: matplotlib figures rendered to inline SVG (text stays text, no files).

matplotlib is imported inside :func:`charts_for` only: the daemon imports this package's other
modules and must never load it (a test checks). Amounts become floats here, for plotting only;
every figure a person reads as a number is in the tables.
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from cards.ledger import Book
from cards.money import Money
from cards.report_figures import CurrencyFigures

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

COLOURS = {"issued": "#2f6db5", "store": "#e07b39", "online": "#6aa84f", "owed": "#7b4fa0"}
TOP_STORES = 10


@dataclass(frozen=True, slots=True)
class Chart:
    title: str
    svg: str  # an <svg> element, ready to inline


def _f(value: Money) -> float:
    return float(value.amount)


def _svg(figure: Figure) -> str:
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    text = buffer.getvalue()
    start = text.find("<svg")
    # The page sizes the chart (width 100%), the viewBox keeps its proportions.
    return re.sub(r'(<svg[^>]*?) width="[^"]*" height="[^"]*"', r"\1", text[start:], count=1)


def _axes(title: str, currency: str | None = None, height: float = 3.2) -> tuple[Figure, Axes]:
    from matplotlib.figure import Figure

    # 6 inches wide: half a desk page or a whole phone, with its text still readable on both.
    figure = Figure(figsize=(6, height), layout="constrained")
    axes = figure.subplots()
    axes.set_title(title, loc="left", fontsize=11)
    axes.spines[["top", "right"]].set_visible(False)
    axes.grid(axis="y", color="#e6e6e6")
    axes.set_axisbelow(True)
    if currency:
        axes.set_ylabel(currency)
    return figure, axes


def _labels(months: Sequence[str]) -> list[str]:
    """Every month when few, else every third: the axis stays legible on a phone."""
    step = 1 if len(months) <= 12 else 3
    return [m if i % step == 0 else "" for i, m in enumerate(months)]


def _issued_and_redeemed(f: CurrencyFigures) -> Chart:
    months = f.period.months()
    figure, axes = _axes("Issued and redeemed by month", f.currency)
    xs = list(range(len(months)))
    width = 0.28
    store = f.redeemed_by_month[Book.REDEEMED_IN_STORE]
    online = f.redeemed_by_month[Book.REDEEMED_ONLINE]
    axes.bar(
        [x - width for x in xs],
        [_f(f.issued_by_month[m].value) for m in months],
        width,
        label="issued",
        color=COLOURS["issued"],
    )
    axes.bar(
        xs,
        [_f(store[m].value) for m in months],
        width,
        label="redeemed in store",
        color=COLOURS["store"],
    )
    axes.bar(
        [x + width for x in xs],
        [_f(online[m].value) for m in months],
        width,
        label="redeemed online",
        color=COLOURS["online"],
    )
    axes.set_xticks(xs, _labels(months))
    axes.set_xlim(-0.6, max(len(xs), 4) - 0.4)  # a month or two keep bars of a sane width
    axes.legend(frameon=False, fontsize=9)
    return Chart("Issued and redeemed by month", _svg(figure))


def _liability(f: CurrencyFigures) -> Chart:
    months = f.period.months()
    figure, axes = _axes("Owed at the end of each month", f.currency)
    xs = list(range(len(months)))
    values = [_f(f.liability_by_month[m]) for m in months]
    axes.plot(xs, values, marker="o", color=COLOURS["owed"])
    axes.fill_between(xs, values, alpha=0.12, color=COLOURS["owed"])
    axes.set_xticks(xs, _labels(months))
    axes.set_ylim(bottom=0)
    return Chart("Owed at the end of each month", _svg(figure))


def _horizontal(
    title: str, labels: list[str], values: list[float], note: str, *, counts: bool = False
) -> Chart:
    from matplotlib.ticker import MaxNLocator

    figure, axes = _axes(title, height=1.1 + 0.32 * max(len(labels), 2))
    if counts:
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes.grid(axis="y", visible=False)
    axes.grid(axis="x", color="#e6e6e6")
    ys = list(range(len(labels)))
    axes.barh(ys, values, color=COLOURS["issued"])
    axes.set_yticks(ys, labels)
    axes.invert_yaxis()
    axes.set_xlabel(note)
    return Chart(title, _svg(figure))


def _popular(f: CurrencyFigures) -> Chart:
    labels = [a.as_string() for a, _ in f.popular_amounts]
    counts = [float(n) for _, n in f.popular_amounts]
    return _horizontal("Popular amounts", labels, counts, "cards issued", counts=True)


def _by_store(f: CurrencyFigures, names: Mapping[str, str]) -> Chart:
    ranked = sorted(f.issued_by_store.items(), key=lambda kv: -kv[1].value.amount)[:TOP_STORES]
    labels = ["(no store)" if s is None else names.get(s, s) for s, _ in ranked]
    return _horizontal(
        "Issued by store", labels, [_f(t.value) for _, t in ranked], f"value issued ({f.currency})"
    )


def _by_source(f: CurrencyFigures) -> Chart:
    ranked = sorted(f.issued_by_source.items(), key=lambda kv: -kv[1].value.amount)
    return _horizontal(
        "Issued by source",
        [s for s, _ in ranked],
        [_f(t.value) for _, t in ranked],
        f"value issued ({f.currency})",
    )


def charts_for(f: CurrencyFigures, store_names: Mapping[str, str]) -> list[Chart]:
    """Every chart of one currency (an empty breakdown draws no chart)."""
    import matplotlib

    style = {
        "svg.fonttype": "none",  # text as text: smaller, selectable, the page's font
        "svg.hashsalt": "giftbridge",  # the same figures give the same SVG
        "font.family": "sans-serif",
        "font.size": 10,
    }
    with matplotlib.rc_context(cast(Any, style)):  # typed keys: a Literal of every name
        charts = [_issued_and_redeemed(f), _liability(f)]
        if f.popular_amounts:
            charts.append(_popular(f))
        if f.issued_by_store:
            charts.append(_by_store(f, store_names))
        if f.issued_by_source:
            charts.append(_by_source(f))
    return charts

