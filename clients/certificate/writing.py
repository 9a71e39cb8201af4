"""Putting text on the page: every string goes through :func:`put`.

fpdf2 2.8.9 wraps a line whose first glyph comes from a fallback font (an Arabic or Japanese
name, an emoji) in a saved graphics state, sets the page's font inside it, and still records the
font as set: the next line in the same font is then drawn with no font at all (blank, and
"No font in show" in poppler; the regression came with py-pdf/fpdf2#1775). Clearing the flag
after each line makes fpdf2 set the font again, at the cost of a few bytes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from clients.certificate import text
from clients.certificate.fonts import SERIF

if TYPE_CHECKING:
    from fpdf import FPDF

CAPS_TRACKING = 0.12  # letter spacing of small capitals, in ems


def put(
    pdf: FPDF, x: float, y: float, width: float, height: float, value: str, align: str = "L"
) -> None:
    """One line of ``value`` in the current font, in the box at (``x``, ``y``)."""
    pdf.set_xy(x, y)
    pdf.cell(width, height, value, align=align)
    pdf.current_font_is_set_on_page = False


def put_lines(
    pdf: FPDF,
    x: float,
    y: float,
    width: float,
    line_height: float,
    value: str,
    align: str = "L",
) -> float:
    """``value`` wrapped to ``width``; returns the y below it."""
    pdf.set_xy(x, y)
    pdf.multi_cell(width, line_height, value, align=align)
    pdf.current_font_is_set_on_page = False
    return pdf.get_y()


def caps(
    pdf: FPDF,
    value: str,
    x: float,
    y: float,
    width: float,
    size: float,
    *,
    min_size: float | None = None,
    align: str = "L",
) -> None:
    """Small letter-spaced capitals (the eyebrow, labels), shrunk to ``min_size`` and then cut
    with an ellipsis when they do not fit ``width``."""
    shown = value.upper()
    current = size
    while True:
        pdf.set_font(SERIF, "", current)
        pdf.set_char_spacing(current * CAPS_TRACKING)
        if min_size is None or current <= min_size or pdf.get_string_width(shown) <= width:
            break
        current = max(min_size, current - 0.5)
    put(pdf, x, y, width, current * 0.4, text.cut_to_width(pdf, shown, width), align)
    pdf.set_char_spacing(0)
