"""The code as a QR code (segno), drawn as vector squares so it prints sharp at any size.

Shopify POS redeems a gift card by scanning a QR code that holds the card's code, so the symbol
holds the normalized code and nothing else (upper case letters and digits: QR's alphanumeric
mode, version 1 or 2 for 8 to 20 characters). segno raises the error correction as far as the
version allows, which helps a creased or smudged paper copy. The quiet zone (4 modules, as the
QR standard asks) is painted white, so a coloured background never touches the symbol.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fpdf import FPDF

QUIET_MODULES = 4


def draw_qr(pdf: FPDF, payload: str, x: float, y: float, size: float) -> None:
    """A QR code of ``payload`` with its quiet zone in the ``size`` square at (``x``, ``y``)."""
    import segno

    symbol = segno.make_qr(payload, error="m", boost_error=True)
    rows = [list(row) for row in symbol.matrix]
    module = size / (len(rows) + 2 * QUIET_MODULES)
    origin_x, origin_y = x + QUIET_MODULES * module, y + QUIET_MODULES * module
    with pdf.local_context():
        pdf.set_fill_color(255, 255, 255)
        pdf.rect(x, y, size, size, style="F")
        pdf.set_fill_color(0, 0, 0)
        for r, row in enumerate(rows):
            for start, length in _dark_runs(row):
                # A hair of overlap hides the seams some viewers draw between adjacent squares.
                pdf.rect(
                    origin_x + start * module,
                    origin_y + r * module,
                    length * module + 0.02,
                    module + 0.02,
                    style="F",
                )


def _dark_runs(row: list[int]) -> list[tuple[int, int]]:
    """(start, length) of each run of dark modules in a row: one rectangle per run."""
    runs: list[tuple[int, int]] = []
    start = None
    for index, dark in enumerate([*row, 0]):
        if dark and start is None:
            start = index
        elif not dark and start is not None:
            runs.append((start, index - start))
            start = None
    return runs
