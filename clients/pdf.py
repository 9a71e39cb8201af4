"""Gift certificates as PDF (fpdf2): :class:`clients.ports.CertificatePort`.

fpdf2 ships no Unicode font, and its core fonts (Helvetica) encode latin-1 only, so every text
goes through :func:`latin1` first: typographic marks become their plain forms (the masked code's
bullets become ``*``), anything else outside latin-1 (emoji, CJK) becomes ``?``. Rendering never
fails on a customer's message.
"""

from __future__ import annotations

import unicodedata

from cards.vocab import Kind
from clients._without_numpy import numpy_hidden
from clients.records import CertificateData

with numpy_hidden():  # see clients._without_numpy: the daemon's memory
    from fpdf import FPDF
    from fpdf.enums import Align, XPos, YPos

_PLAIN = {
    "\u2022": "*",  # bullet: the masked code
    "\u2018": "'",
    "\u2019": "'",
    "\u201a": "'",
    "\u201b": "'",
    "\u201c": '"',
    "\u201d": '"',
    "\u201e": '"',
    "\u2010": "-",
    "\u2011": "-",
    "\u2012": "-",
    "\u2013": "-",
    "\u2014": "-",
    "\u2212": "-",
    "\u2026": "...",
    "\u20ac": "EUR",
    "\u2122": "(TM)",
    "\u00a0": " ",
    "\t": " ",
}
MAX_MESSAGE = 600


def latin1(text: str) -> str:
    """``text`` in characters Helvetica can show; unknown characters become ``?``."""
    out: list[str] = []
    for char in unicodedata.normalize("NFKC", text):
        char = _PLAIN.get(char, char)
        if char == "\n":
            out.append(char)
            continue
        if len(char) == 1 and unicodedata.category(char) in ("Cc", "Cf", "Cs", "Co", "Cn"):
            continue  # controls, zero-width joiners, variation selectors...
        try:
            char.encode("latin-1")
        except UnicodeEncodeError:
            char = "?"
        out.append(char)
    return "".join(out)


def _title(kind: Kind) -> str:
    return "Gift Certificate" if kind == Kind.CERTIFICATE else "Gift Card"


class FpdfCertificates:
    """Renders one landscape A5 page per certificate."""

    def __init__(self, *, compress: bool = True) -> None:
        self._compress = compress

    def render(self, data: CertificateData) -> bytes:
        pdf = FPDF(orientation="landscape", format=(148, 210))  # A5 in mm (named "A5" warns)
        pdf.set_compression(self._compress)
        pdf.set_title(latin1(f"{data.business_name} {_title(data.kind)}"))
        pdf.set_auto_page_break(auto=False)
        pdf.add_page()
        width = pdf.epw
        pdf.set_draw_color(60, 60, 60)
        pdf.rect(8, 8, pdf.w - 16, pdf.h - 16)
        self._line(pdf, width, latin1(data.business_name), size=22, style="B")
        self._line(pdf, width, _title(data.kind), size=14)
        self._line(
            pdf,
            width,
            latin1(f"{data.amount.as_string()} {data.amount.currency}"),
            size=30,
            style="B",
        )
        pdf.ln(2)
        if data.recipient_name:
            self._line(pdf, width, latin1(f"To: {data.recipient_name}"), size=12)
        if data.sender_name:
            self._line(pdf, width, latin1(f"From: {data.sender_name}"), size=12)
        if data.message:
            pdf.set_font("Helvetica", "I", 11)
            message = latin1(data.message)[:MAX_MESSAGE]
            pdf.multi_cell(width, 6, message, align=Align.C, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.ln(3)
        self._line(pdf, width, latin1(f"Code: {data.code_display}"), size=16, style="B")
        expiry = (
            f"Expires on {data.expires_on.isoformat()}" if data.expires_on else "Does not expire"
        )
        self._line(pdf, width, expiry, size=11)
        self._line(pdf, width, latin1(f"Theme: {data.theme.value}"), size=9)
        return bytes(pdf.output())

    @staticmethod
    def _line(pdf: FPDF, width: float, text: str, *, size: int, style: str = "") -> None:
        pdf.set_font("Helvetica", style, size)
        pdf.multi_cell(width, size * 0.5, text, align=Align.C, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
