"""The stub: what a till needs. The value (or, on a reprint, the balance beside the initial
value), the QR code of the code in a white card with the grouped code under it. On the record
copy the card holds the masked code and says it cannot be spent, with no QR code."""

from __future__ import annotations

from typing import TYPE_CHECKING

from clients.certificate import text
from clients.certificate.artwork import Area
from clients.certificate.fonts import MONO, SERIF
from clients.certificate.qr import draw_qr
from clients.certificate.themes import Look
from clients.certificate.writing import caps, put, put_lines
from clients.records import CertificateData

if TYPE_CHECKING:
    from fpdf import FPDF

# 40 mm for 29 modules (version 1 with its quiet zone): about 1.4 mm a module, which a phone
# reads from paper at arm's length and a till's scanner from a phone screen showing the page.
QR_SIZE = 40.0
CARD_TOP = 52.0


def paint_stub(pdf: FPDF, data: CertificateData, look: Look, stub: Area) -> None:
    p = look.palette
    pdf.set_fill_color(*p.stub)
    pdf.rect(stub.x, stub.y, stub.w, stub.h, style="F")
    with pdf.rect_clip(stub.x, stub.y, stub.w, stub.h):
        look.draw_stub(pdf, p, stub)
    _perforation(pdf, look, stub)
    _value(pdf, data, look, stub)
    card = Area(stub.x + (stub.w - QR_SIZE - 8) / 2, CARD_TOP, QR_SIZE + 8, QR_SIZE + 19)
    with pdf.local_context():
        pdf.set_fill_color(255, 255, 255)
        pdf.rect(card.x, card.y, card.w, card.h, style="F", round_corners=True, corner_radius=2.5)
    if data.full_code:
        draw_qr(pdf, data.full_code, card.x + 4, card.y + 3, QR_SIZE)
    else:
        _record_copy_note(pdf, look, card)
    _code(pdf, look, card, data.code_display)
    pdf.set_text_color(*p.stub_ink)
    hint = "Scan or type the code to pay" if data.full_code else "Code masked"
    caps(pdf, hint, stub.x + 4, card.bottom + 5, stub.w - 8, 6.5, min_size=5.5, align="C")


def _code(pdf: FPDF, look: Look, card: Area, code: str) -> None:
    """The code under the QR code: on one line up to four groups of four, else on two lines
    (a 20-character code would shrink below what a clerk reads at a glance)."""
    groups = code.split("-")
    lines = [code]
    if len(code) > 19 and len(groups) > 1:
        half = (len(groups) + 1) // 2
        lines = ["-".join(groups[:half]), "-".join(groups[half:])]
    pdf.set_text_color(*look.palette.ink)
    size = min(
        text.fit_line(pdf, line, family=MONO, style="B", size=13, min_size=7.5, width=card.w - 5)
        for line in lines
    )
    pdf.set_font(MONO, "B", size)
    height = size * 0.42
    y = card.bottom - 8.5 - height * len(lines) / 2
    for line in lines:
        put(pdf, card.x, y, card.w, height, line, align="C")
        y += height


def _value(pdf: FPDF, data: CertificateData, look: Look, stub: Area) -> None:
    """The value, or on a reprint after spending the balance, with the initial value under it."""
    balance = data.balance
    spent = balance is not None and balance != data.amount
    shown = balance if balance is not None and spent else data.amount
    inner = stub.w - 10
    pdf.set_text_color(*look.palette.stub_ink)
    caps(pdf, "Balance" if spent else "Value", stub.x + 5, 13, inner, 8, align="C")
    figure = shown.as_string()
    size = text.fit_line(pdf, figure, family=SERIF, style="B", size=30, min_size=15, width=inner)
    put(pdf, stub.x, 18.5, stub.w, size * 0.42, figure, align="C")
    caps(pdf, shown.currency, stub.x + 5, 19.5 + size * 0.42, inner, 8, align="C")
    if not spent:
        return
    lines = []
    if data.balance_on is not None:
        lines.append(f"on {text.long_date(data.balance_on)}")
    lines.append(f"Initial value {data.amount.as_string()} {data.amount.currency}")
    pdf.set_font(SERIF, "", 7.5)
    put_lines(pdf, stub.x + 4, 37.5, stub.w - 8, 3.5, "\n".join(lines), align="C")


def _record_copy_note(pdf: FPDF, look: Look, card: Area) -> None:
    pdf.set_text_color(*look.palette.accent)
    caps(pdf, "Record copy", card.x + 3, card.y + 9, card.w - 6, 9, align="C")
    pdf.set_text_color(*look.palette.ink)
    pdf.set_font(SERIF, "", 7.5)
    put_lines(
        pdf,
        card.x + 4,
        card.y + 17,
        card.w - 8,
        3.6,
        "Not for spending: the code is masked. The holder's certificate, with the full code "
        "and its QR code, is printed with giftbridge card pdf.",
        align="C",
    )


def _perforation(pdf: FPDF, look: Look, stub: Area) -> None:
    """A dotted tear line with half-moon notches, as on a paper voucher."""
    with pdf.local_context():
        pdf.set_fill_color(*look.palette.paper)
        pdf.circle(stub.x, stub.y, 5, style="F")
        pdf.circle(stub.x, stub.bottom, 5, style="F")
        pdf.set_draw_color(*look.palette.paper)
        pdf.set_line_width(0.5)
        pdf.set_dash_pattern(dash=1.2, gap=1.6)
        pdf.line(stub.x, stub.y + 7, stub.x, stub.bottom - 7)
