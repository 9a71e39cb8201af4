"""Each theme's artwork: a motif at the top right of the main area, a quiet pattern on the stub.

A main-area motif stays inside the corner the layout leaves it (``Look.art_width`` narrows the
headline beside it); only the Standard seal uses the business's initial. Patterns on the stub
are faint (low opacity) and keep out of the value's band, so the amount and the code stay clear.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from clients.certificate import shapes
from clients.certificate.fonts import SERIF
from clients.certificate.writing import put

if TYPE_CHECKING:
    from fpdf import FPDF

RGB = tuple[int, int, int]


class Colours(Protocol):
    @property
    def paper(self) -> RGB: ...
    @property
    def accent(self) -> RGB: ...
    @property
    def stub(self) -> RGB: ...
    @property
    def art(self) -> tuple[RGB, ...]: ...


@dataclass(frozen=True, slots=True)
class Area:
    x: float
    y: float
    w: float
    h: float

    @property
    def right(self) -> float:
        return self.x + self.w

    @property
    def bottom(self) -> float:
        return self.y + self.h


def pattern_points(area: Area, count: int, seed: int) -> list[tuple[float, float]]:
    """Evenly spread points over the stub, none in the band where the value is printed."""
    points = [(area.x + u * area.w, area.y + v * area.h) for u, v in shapes.scatter(count, seed)]
    return [
        (x, y)
        for x, y in points
        if x > area.x + 4 and not 8 < y - area.y < 50 and not 108 < y - area.y < 121
    ]


def _frame(pdf: FPDF, area: Area, color: RGB, inset: float) -> None:
    """A thin double rule inside ``area``."""
    with pdf.local_context():
        pdf.set_draw_color(*color)
        pdf.set_line_width(0.5)
        pdf.rect(area.x + inset, area.y + inset, area.w - 2 * inset, area.h - 2 * inset)
        pdf.set_line_width(0.2)
        inner = inset + 1.6
        pdf.rect(area.x + inner, area.y + inner, area.w - 2 * inner, area.h - 2 * inner)


# --- Standard: a classic double frame with corner ornaments; a fine lattice on the stub ------


def standard_main(pdf: FPDF, colours: Colours, area: Area, initial: str) -> None:
    gold = colours.art[0]
    framed = Area(area.x, area.y, area.w - 4, area.h)
    _frame(pdf, framed, gold, 6)
    for cx in (framed.x + 6, framed.right - 6):
        for cy in (framed.y + 6, framed.bottom - 6):
            with pdf.local_context():
                pdf.set_fill_color(*gold)
                pdf.polygon([(cx, cy - 2), (cx + 2, cy), (cx, cy + 2), (cx - 2, cy)], style="F")
    _seal(pdf, gold, area, initial)


def _seal(pdf: FPDF, gold: RGB, area: Area, initial: str) -> None:
    """A gold seal with the business's initial, at the top right of the main area."""
    cx, cy = area.right - 30, area.y + 32
    shapes.ring(pdf, cx, cy, 12.5, gold, 0.8)
    shapes.ring(pdf, cx, cy, 10.8, gold, 0.3)
    for i in range(24):
        with pdf.rotation(i * 15, cx, cy), pdf.local_context():
            pdf.set_fill_color(*gold)
            pdf.circle(cx, cy - 14.3, 0.45, style="F")
    if initial:
        pdf.set_font(SERIF, "B", 26)
        pdf.set_text_color(*gold)
        put(pdf, cx - 10, cy - 5.2, 20, 10.4, initial, align="C")


def standard_stub(pdf: FPDF, colours: Colours, area: Area) -> None:
    with pdf.local_context(stroke_opacity=0.18):
        pdf.set_draw_color(*colours.art[0])
        pdf.set_line_width(0.25)
        step = 7.0
        offset = -area.h
        while offset < area.w:
            pdf.line(area.x + offset, area.bottom, area.x + offset + area.h, area.y)
            pdf.line(area.x + offset, area.y, area.x + offset + area.h, area.bottom)
            offset += step


# --- Birthday: a bunch of balloons and confetti ---------------------------------------------


def birthday_main(pdf: FPDF, colours: Colours, area: Area, initial: str) -> None:
    art = colours.art
    shapes.confetti(pdf, area.x + 4, area.y + 3, area.w - 8, 9, art, 14)
    knot = (area.right - 19, area.y + 52)
    shapes.balloon(pdf, area.right - 27, area.y + 22, 13, art[1], knot)
    shapes.balloon(pdf, area.right - 12, area.y + 18, 12, art[2], knot)
    shapes.balloon(pdf, area.right - 19, area.y + 30, 14, art[0], knot)


def birthday_stub(pdf: FPDF, colours: Colours, area: Area) -> None:
    with pdf.local_context(fill_opacity=0.22):
        shapes.confetti(pdf, area.x, area.y + 50, area.w, area.h - 50, ((255, 255, 255),), 22)
        shapes.confetti(pdf, area.x, area.y, area.w, 8, ((255, 255, 255),), 5)


# --- Wedding: two rings and olive sprigs ----------------------------------------------------


def wedding_main(pdf: FPDF, colours: Colours, area: Area, initial: str) -> None:
    gold, sage, blush = colours.art[0], colours.art[1], colours.art[2]
    cx, cy = area.right - 24, area.y + 22
    shapes.sprig(pdf, cx - 2, cy + 14, 13, 165, sage, leaves=3)
    shapes.sprig(pdf, cx + 2, cy + 14, 13, 15, sage, leaves=3)
    shapes.ring(pdf, cx - 4.2, cy, 7.5, gold, 1.2)
    shapes.ring(pdf, cx + 4.2, cy, 7.5, blush, 1.2)
    shapes.sparkle(pdf, cx + 12, cy - 9, 2.4, gold)
    shapes.sparkle(pdf, cx - 13, cy - 7, 1.6, blush)


def wedding_stub(pdf: FPDF, colours: Colours, area: Area) -> None:
    with pdf.local_context(fill_opacity=0.16):
        for i, (x, y) in enumerate(pattern_points(area, 16, seed=3)):
            shapes.leaf(pdf, x, y, 7, 3, 40 + i * 37 % 90, (255, 255, 255))


# --- Holiday: holly, a star and snowflakes --------------------------------------------------


def holiday_main(pdf: FPDF, colours: Colours, area: Area, initial: str) -> None:
    red, green, gold, frost = colours.art
    shapes.bauble(pdf, area.right - 30, area.y + 30, 6.5, red, gold, hang_from=area.y)
    shapes.bauble(pdf, area.right - 16, area.y + 20, 5, green, gold, hang_from=area.y)
    shapes.star(pdf, area.right - 39, area.y + 12, 3.2, gold)
    shapes.snowflake(pdf, area.right - 12, area.y + 40, 4.5, frost, 0.5)
    shapes.snowflake(pdf, area.right - 42, area.y + 44, 3.5, frost, 0.45)
    shapes.sparkle(pdf, area.right - 21, area.y + 46, 1.8, gold)


def holiday_stub(pdf: FPDF, colours: Colours, area: Area) -> None:
    with pdf.local_context(stroke_opacity=0.25):
        for i, (x, y) in enumerate(pattern_points(area, 18, seed=11)):
            shapes.snowflake(pdf, x, y, 2.5 + (i % 3), (255, 255, 255), 0.35)


# --- Thank You: a flowering sprig -----------------------------------------------------------


def thank_you_main(pdf: FPDF, colours: Colours, area: Area, initial: str) -> None:
    sage, peach, honey, clay = colours.art
    bx, by = area.right - 24, area.y + 54
    heads = (
        (area.right - 36, area.y + 20, 6.0, peach),
        (area.right - 21, area.y + 13, 5.0, clay),
        (area.right - 10, area.y + 26, 4.5, peach),
    )
    for hx, hy, _, _ in heads:
        shapes.stem(pdf, [(bx, by), (bx, by - 12), (hx, hy + 14), (hx, hy)], sage, 0.45)
    shapes.leaf(pdf, bx - 0.5, by - 12, 9, 3.4, 140, sage)
    shapes.leaf(pdf, bx + 0.5, by - 15, 9, 3.4, 35, sage)
    shapes.leaf(pdf, bx - 1, by - 5, 7, 2.8, 200, sage)
    for hx, hy, radius, petal in heads:
        shapes.flower(pdf, hx, hy, radius, petal, honey)


def thank_you_stub(pdf: FPDF, colours: Colours, area: Area) -> None:
    with pdf.local_context(fill_opacity=0.15):
        for x, y in pattern_points(area, 14, seed=5):
            shapes.flower(pdf, x, y, 4, (255, 255, 255), colours.stub)
