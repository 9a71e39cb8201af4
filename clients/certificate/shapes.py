"""Small vector motifs for the artwork, drawn with fpdf2's primitives (no image files).

Every motif takes its position in millimetres and its colours as RGB triples; none changes the
document's colours for what is drawn after it (each runs in a local graphics context).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fpdf import FPDF

RGB = tuple[int, int, int]


def hex_of(color: RGB) -> str:
    return "#{:02x}{:02x}{:02x}".format(*color)


def scatter(count: int, seed: int = 0) -> Iterator[tuple[float, float]]:
    """``count`` points in the unit square, spread evenly (the R2 sequence), the same every
    time: artwork looks hand-placed and never changes between a print and its reprint."""
    g = 1.32471795724474602596  # the plastic number
    a1, a2 = 1 / g, 1 / (g * g)
    for n in range(seed + 1, seed + count + 1):
        yield (0.5 + a1 * n) % 1, (0.5 + a2 * n) % 1


def leaf(
    pdf: FPDF, x: float, y: float, length: float, width: float, angle: float, color: RGB
) -> None:
    """A pointed leaf from its stem end (``x``, ``y``), pointing ``angle`` degrees (0 = right,
    90 = up)."""
    rad = math.radians(angle)
    ux, uy = math.cos(rad), -math.sin(rad)  # along the leaf (page y grows downwards)
    nx, ny = -uy, ux  # across it
    tip = (x + ux * length, y + uy * length)
    bulge = width * 0.75
    one = (x + ux * length * 0.3 + nx * bulge, y + uy * length * 0.3 + ny * bulge)
    two = (x + ux * length * 0.75 + nx * bulge * 0.8, y + uy * length * 0.75 + ny * bulge * 0.8)
    three = (x + ux * length * 0.75 - nx * bulge * 0.8, y + uy * length * 0.75 - ny * bulge * 0.8)
    four = (x + ux * length * 0.3 - nx * bulge, y + uy * length * 0.3 - ny * bulge)
    with pdf.new_path(x, y) as path:
        path.style.fill_color = hex_of(color)
        path.style.stroke_color = None
        path.curve_to(*one, *two, *tip)
        path.curve_to(*three, *four, x, y)
        path.close()


def stem(pdf: FPDF, points: list[tuple[float, float]], color: RGB, width: float) -> None:
    """A curved stem through four points (a cubic Bezier curve)."""
    with pdf.local_context():
        pdf.set_draw_color(*color)
        pdf.set_line_width(width)
        pdf.bezier(points)


def sprig(
    pdf: FPDF, x: float, y: float, length: float, angle: float, color: RGB, leaves: int = 5
) -> None:
    """A straight stem with leaves in pairs along it and one at its tip."""
    rad = math.radians(angle)
    ux, uy = math.cos(rad), -math.sin(rad)
    with pdf.local_context():
        pdf.set_draw_color(*color)
        pdf.set_line_width(0.35)
        pdf.line(x, y, x + ux * length, y + uy * length)
    size = length / (leaves * 0.62)
    for i in range(leaves):
        t = (i + 1) / (leaves + 0.6)
        px, py = x + ux * length * t, y + uy * length * t
        leaf(pdf, px, py, size, size * 0.42, angle + 42, color)
        leaf(pdf, px, py, size, size * 0.42, angle - 42, color)
    leaf(pdf, x + ux * length, y + uy * length, size * 1.05, size * 0.45, angle, color)


def balloon(
    pdf: FPDF, x: float, y: float, width: float, color: RGB, string_to: tuple[float, float]
) -> None:
    """A balloon centred at (``x``, ``y``) with a knot and a curly string down to ``string_to``."""
    height = width * 1.22
    bottom = y + height / 2
    with pdf.local_context():
        pdf.set_draw_color(150, 150, 150)
        pdf.set_line_width(0.25)
        sx, sy = string_to
        pdf.bezier([(x, bottom + 1.2), (x - 4, bottom + 8), (sx + 4, sy - 10), (sx, sy)])
        pdf.set_fill_color(*color)
        pdf.ellipse(x - width / 2, y - height / 2, width, height, style="F")
        pdf.polygon(
            [(x, bottom - 0.6), (x - 1.4, bottom + 1.4), (x + 1.4, bottom + 1.4)], style="F"
        )
        with pdf.local_context(fill_opacity=0.35):  # a highlight: the light comes from top left
            pdf.set_fill_color(255, 255, 255)
            pdf.ellipse(x - width * 0.3, y - height * 0.32, width * 0.18, height * 0.26, style="F")


def confetti(
    pdf: FPDF, x: float, y: float, w: float, h: float, colors: tuple[RGB, ...], count: int
) -> None:
    """Small dots and streamers spread over a box."""
    with pdf.local_context():
        for i, (u, v) in enumerate(scatter(count, seed=7)):
            pdf.set_fill_color(*colors[i % len(colors)])
            cx, cy = x + u * w, y + v * h
            if i % 3 == 0:
                pdf.circle(cx, cy, 0.9, style="F")
            else:
                with pdf.rotation((i * 47) % 180, cx, cy):
                    pdf.rect(cx - 1.5, cy - 0.45, 3.0, 0.9, style="F")


def ring(pdf: FPDF, cx: float, cy: float, radius: float, color: RGB, width: float) -> None:
    with pdf.local_context():
        pdf.set_draw_color(*color)
        pdf.set_line_width(width)
        pdf.circle(cx, cy, radius, style="D")


def snowflake(pdf: FPDF, cx: float, cy: float, radius: float, color: RGB, width: float) -> None:
    """Six arms, each with a pair of short branches."""
    with pdf.local_context():
        pdf.set_draw_color(*color)
        pdf.set_line_width(width)
        for arm in range(6):
            a = math.radians(arm * 60 + 90)
            ex, ey = cx + math.cos(a) * radius, cy - math.sin(a) * radius
            pdf.line(cx, cy, ex, ey)
            bx, by = cx + math.cos(a) * radius * 0.55, cy - math.sin(a) * radius * 0.55
            for turn in (-40, 40):
                b = a + math.radians(turn)
                length = radius * 0.32
                pdf.line(bx, by, bx + math.cos(b) * length, by - math.sin(b) * length)


def holly(pdf: FPDF, x: float, y: float, size: float, leaf_color: RGB, berry: RGB) -> None:
    """Two holly leaves and three berries, centred on (``x``, ``y``)."""
    leaf(pdf, x, y, size, size * 0.34, 200, leaf_color)
    leaf(pdf, x, y, size, size * 0.34, 340, leaf_color)
    with pdf.local_context():
        pdf.set_fill_color(*berry)
        r = size * 0.13
        for dx, dy in ((-r * 0.9, -r * 0.6), (r * 0.9, -r * 0.6), (0, r * 0.8)):
            pdf.circle(x + dx, y + dy, r, style="F")


def flower(
    pdf: FPDF, cx: float, cy: float, radius: float, petal: RGB, heart: RGB, petals: int = 5
) -> None:
    """Round petals about a centre."""
    with pdf.local_context():
        pdf.set_fill_color(*petal)
        for i in range(petals):
            a = math.radians(i * 360 / petals + 90)
            px, py = cx + math.cos(a) * radius * 0.55, cy - math.sin(a) * radius * 0.55
            pdf.circle(px, py, radius * 0.45, style="F")
        pdf.set_fill_color(*heart)
        pdf.circle(cx, cy, radius * 0.3, style="F")


def star(pdf: FPDF, cx: float, cy: float, radius: float, color: RGB) -> None:
    with pdf.local_context():
        pdf.set_fill_color(*color)
        pdf.star(cx, cy, radius * 0.42, radius, 5, rotate_degrees=-90, style="F")


def sparkle(pdf: FPDF, cx: float, cy: float, radius: float, color: RGB) -> None:
    """A four-pointed glint."""
    with pdf.local_context():
        pdf.set_fill_color(*color)
        pdf.star(cx, cy, radius * 0.22, radius, 4, rotate_degrees=0, style="F")


def bauble(
    pdf: FPDF, cx: float, cy: float, radius: float, color: RGB, cap: RGB, hang_from: float
) -> None:
    """A Christmas bauble on a thread from ``hang_from`` (a y) down to its cap."""
    with pdf.local_context():
        pdf.set_draw_color(*cap)
        pdf.set_line_width(0.3)
        pdf.line(cx, hang_from, cx, cy - radius - 1.5)
        pdf.set_fill_color(*color)
        pdf.circle(cx, cy, radius, style="F")
        pdf.set_fill_color(*cap)
        pdf.rect(cx - radius * 0.28, cy - radius - 1.6, radius * 0.56, 2.0, style="F")
        with pdf.local_context(fill_opacity=0.3):
            pdf.set_fill_color(255, 255, 255)
            pdf.ellipse(
                cx - radius * 0.55, cy - radius * 0.6, radius * 0.45, radius * 0.6, style="F"
            )
        with pdf.local_context(stroke_opacity=0.45):
            pdf.set_draw_color(255, 255, 255)
            pdf.set_line_width(0.35)
            pdf.line(cx - radius * 0.93, cy + radius * 0.3, cx + radius * 0.93, cy + radius * 0.3)
