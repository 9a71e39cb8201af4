"""The certificate page: an A5 landscape voucher with a main area and a stub.

The main area (left) says who it is for and from whom, the message and the expiry; the stub
(right) carries what a till needs: the value, the QR code and the code. The record copy has the
same page with the masked code and, in place of the QR code, a note that it cannot be spent.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cards.vocab import Kind
from clients.certificate import text
from clients.certificate.artwork import Area
from clients.certificate.fonts import SERIF, close_fonts, register_fonts
from clients.certificate.stub import paint_stub
from clients.certificate.themes import Look, look_of
from clients.certificate.writing import caps, put
from clients.records import CertificateData

if TYPE_CHECKING:
    from fpdf import FPDF

WIDTH, HEIGHT = 210.0, 148.0  # A5 landscape, mm
STUB_X = 146.0
LEFT = 17.0
TEXT_RIGHT = STUB_X - 14.0
FOOTER_Y = HEIGHT - 22.0
MESSAGE_LINES = 6


def render_certificate(data: CertificateData, *, compress: bool = True) -> bytes:
    from fpdf import FPDF

    look = look_of(data.theme)
    pdf = FPDF(orientation="landscape", unit="mm", format=(HEIGHT, WIDTH))
    pdf.set_compression(compress)
    pdf.set_auto_page_break(auto=False)
    pdf.set_margin(0)
    register_fonts(pdf, _texts(data, look))
    pdf.set_title(f"{text.one_line(data.business_name)} {kind_title(data.kind)}")
    pdf.set_creator("giftbridge")
    try:
        pdf.add_page()
        _paint_main(pdf, data, look)
        paint_stub(pdf, data, look, Area(STUB_X, 0, WIDTH - STUB_X, HEIGHT))
        return bytes(pdf.output())
    finally:
        close_fonts(pdf)


def kind_title(kind: Kind) -> str:
    return "Gift Certificate" if kind == Kind.CERTIFICATE else "Gift Card"


def _texts(data: CertificateData, look: Look) -> list[str]:
    """Every text the page may show: the fonts it needs are chosen from these."""
    return [
        data.business_name,
        data.recipient_name or "",
        data.sender_name or "",
        data.message or "",
        data.code_display,
        look.headline or "",
    ]


def _paint_main(pdf: FPDF, data: CertificateData, look: Look) -> None:
    p = look.palette
    pdf.set_fill_color(*p.paper)
    pdf.rect(0, 0, STUB_X, HEIGHT, style="F")
    look.draw_main(pdf, p, Area(0, 0, STUB_X, HEIGHT), _initial(data.business_name))
    width = TEXT_RIGHT - LEFT
    beside_art = width - look.art_width
    y = 17.0
    pdf.set_text_color(*p.accent)
    caps(pdf, text.one_line(data.business_name), LEFT, y, beside_art, 9, min_size=7)
    y += 7
    headline = look.headline or kind_title(data.kind)
    pdf.set_text_color(*p.headline)
    size = text.fit_line(
        pdf, headline, family=SERIF, style="B", size=30, min_size=18, width=beside_art
    )
    put(pdf, LEFT, y, beside_art, size * 0.45, text.cut_to_width(pdf, headline, beside_art))
    y += size * 0.45 + 2.5
    if look.headline:
        pdf.set_text_color(*p.accent)
        caps(pdf, kind_title(data.kind), LEFT, y, beside_art, 8.5)
    y += 8
    with pdf.local_context():
        pdf.set_draw_color(*p.accent)
        pdf.set_line_width(0.4)
        pdf.line(LEFT, y, LEFT + 22, y)
    _body(pdf, data, look, y + 7, FOOTER_Y - 5, width)
    _footer(pdf, data, look, width)


def _initial(name: str) -> str:
    """The first letter or digit of the business name, for the Standard theme's seal."""
    return next((char.upper() for char in name if char.isalnum()), "")


def _body(
    pdf: FPDF, data: CertificateData, look: Look, top: float, bottom: float, width: float
) -> None:
    """The names and the message, centred in the room between the rule and the footer."""
    p = look.palette
    names: list[tuple[str, list[str], float]] = []
    for label, name, size in (("For", data.recipient_name, 20), ("From", data.sender_name, 14)):
        value = text.one_line(name)
        if value:
            lines, got = text.fit_lines(
                pdf,
                value,
                family=SERIF,
                style="B",
                size=size,
                min_size=11,
                width=width,
                max_lines=2,
            )
            names.append((label, lines, got))
    names_height = sum(4.5 + len(lines) * got * 0.46 + 4 for _, lines, got in names)
    message, message_size = _message_lines(pdf, data, bottom - top - names_height, width)
    height = names_height + len(message) * message_size * 0.52
    y = top + max(0.0, (bottom - top - height) * 0.4)  # a little above the middle
    for label, lines, got in names:
        pdf.set_text_color(*p.accent)
        caps(pdf, label, LEFT, y, width, 7)
        y += 4.5
        pdf.set_text_color(*p.ink)
        pdf.set_font(SERIF, "B", got)
        for line in lines:
            put(pdf, LEFT, y, width, got * 0.46, line)
            y += got * 0.46
        y += 4
    pdf.set_text_color(*p.ink)
    pdf.set_font(SERIF, "I", message_size)
    for line in message:
        put(pdf, LEFT, y, width, message_size * 0.52, line)
        y += message_size * 0.52


def _message_lines(
    pdf: FPDF, data: CertificateData, room: float, width: float
) -> tuple[list[str], float]:
    """The message wrapped to the room left (at most :data:`MESSAGE_LINES` lines), shrinking
    from 12.5 to 10 pt before it is cut with an ellipsis."""
    message = text.clean(data.message)
    if len(message) > text.MAX_MESSAGE_CHARS:
        message = message[: text.MAX_MESSAGE_CHARS].rstrip() + text.ELLIPSIS
    if not message:
        return [], 0.0
    size = 12.5
    while True:
        pdf.set_font(SERIF, "I", size)
        fits = max(1, min(MESSAGE_LINES, int(room // (size * 0.52))))
        lines = text.wrap(pdf, message, width, fits)
        cut = lines[-1].endswith(text.ELLIPSIS) and not message.endswith(text.ELLIPSIS)
        if not cut or size <= 10:
            return lines, size
        size -= 0.5


def _footer(pdf: FPDF, data: CertificateData, look: Look, width: float) -> None:
    p = look.palette
    expiry = (
        f"Valid until {text.long_date(data.expires_on)}" if data.expires_on else "Does not expire"
    )
    pdf.set_text_color(*p.ink)
    pdf.set_font(SERIF, "B", 9)
    put(pdf, LEFT, FOOTER_Y, width, 4, expiry)
    how = (
        "Single use: redeemed in full on one order, online or in store."
        if data.kind == Kind.CERTIFICATE
        else "Spend it online at checkout or in store, all at once or over several visits."
    )
    pdf.set_font(SERIF, "", 7.5)
    put(pdf, LEFT, FOOTER_Y + 5, width, 3.5, how)
