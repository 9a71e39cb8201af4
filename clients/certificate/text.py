"""Text that fits: shrink a line to its width, wrap a message to a few lines, dates in words."""

from __future__ import annotations

import unicodedata
from datetime import date
from typing import TYPE_CHECKING, cast

if TYPE_CHECKING:
    from fpdf import FPDF

ELLIPSIS = "\u2026"
MAX_MESSAGE_CHARS = 600  # Airtable's field is free text; a certificate shows a note, not a letter
_MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip


def clean(text: str | None) -> str:
    """``text`` without controls or stray whitespace, with line breaks kept (messages use them).

    Joiners, variation selectors and direction marks stay: shaping needs them."""
    if not text:
        return ""
    kept: list[str] = []
    for char in unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\t", " "):
        if char == "\n" or unicodedata.category(char) not in ("Cc", "Cs", "Co", "Cn"):
            kept.append(char)
    lines = [" ".join(line.split()) for line in "".join(kept).split("\n")]
    return "\n".join(line for line in lines if line).strip()


def one_line(text: str | None) -> str:
    return " ".join(clean(text).split())


def long_date(day: date) -> str:
    """``21 November 2031``: the same in every locale the process may run under."""
    return f"{day.day} {_MONTHS[day.month - 1]} {day.year}"


def fit_line(
    pdf: FPDF, text: str, *, family: str, style: str, size: float, min_size: float, width: float
) -> float:
    """Set the largest font size from ``size`` down to ``min_size`` at which ``text`` fits
    ``width``; returns it. Text that does not fit even then is cut by :func:`cut_to_width`."""
    current = size
    while True:
        pdf.set_font(family, style, current)
        if pdf.get_string_width(text) <= width or current <= min_size:
            return current
        current = max(min_size, current - 0.5)


def cut_to_width(pdf: FPDF, text: str, width: float) -> str:
    """``text`` in the current font, cut with an ellipsis to ``width`` when it is wider."""
    if pdf.get_string_width(text) <= width:
        return text
    low, high = 0, len(text)
    while low < high:  # the longest prefix that fits with its ellipsis
        middle = (low + high + 1) // 2
        if pdf.get_string_width(text[:middle].rstrip() + ELLIPSIS) <= width:
            low = middle
        else:
            high = middle - 1
    return text[:low].rstrip() + ELLIPSIS


def wrap(pdf: FPDF, text: str, width: float, max_lines: int) -> list[str]:
    """``text`` broken into lines of ``width`` in the current font, at most ``max_lines``
    (the last one ending in an ellipsis when the text goes on)."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        got = cast("list[str]", pdf.multi_cell(width, 1, paragraph, dry_run=True, output="LINES"))
        lines.extend(got)
    if len(lines) <= max_lines:
        return lines
    kept = lines[:max_lines]
    kept[-1] = cut_to_width(pdf, kept[-1].rstrip() + ELLIPSIS, width)
    return kept


def fit_lines(
    pdf: FPDF,
    value: str,
    *,
    family: str,
    style: str,
    size: float,
    min_size: float,
    width: float,
    max_lines: int,
) -> tuple[list[str], float]:
    """``value`` on one line if it fits at three quarters of ``size`` or more, else wrapped to
    at most ``max_lines`` at the largest size down to ``min_size`` (then cut with an ellipsis).
    Returns the lines and the size they are set in (also the current font)."""
    one = fit_line(
        pdf,
        value,
        family=family,
        style=style,
        size=size,
        min_size=max(min_size, size * 0.75),
        width=width,
    )
    if pdf.get_string_width(value) <= width:
        return [value], one
    current = size * 0.85
    while True:
        pdf.set_font(family, style, current)
        lines = wrap(pdf, value, width, max_lines)
        if not lines[-1].endswith(ELLIPSIS) or current <= min_size:
            return lines, current
        current = max(min_size, current - 0.5)
