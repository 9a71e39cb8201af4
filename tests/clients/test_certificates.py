"""The printable certificate and its record copy, rendered for real (fpdf2) and read back the way
a person (pdftotext), a till (a QR scanner on a raster) and a curious reader (raw streams) would."""

from __future__ import annotations

import re
import subprocess
import sys
from datetime import date

import pytest

from cards.money import Money
from cards.vocab import Kind, Theme
from clients.certificate.fonts import FALLBACK_FONTS, FONT_DIR, MAIN_FONTS, fallbacks_for
from clients.pdf import FpdfCertificates
from clients.records import CertificateData
from tests.certificate_tools import pdf_text, qr_codes, raw_streams

CODE = "7KQ2M9XH4TAB"
HEADLINES = {
    Theme.STANDARD: "Gift Card",
    Theme.BIRTHDAY: "Happy Birthday",
    Theme.WEDDING: "Happily Ever After",
    Theme.HOLIDAY: "Season's Greetings",
    Theme.THANK_YOU: "Thank You",
}


def printable(**changes: object) -> CertificateData:
    values: dict[str, object] = {
        "business_name": "Café Lumière",
        "code_display": "7KQ2-M9XH-4TAB",
        "full_code": CODE,
        "amount": Money.of("50.00", "USD"),
        "kind": Kind.GIFT_CARD,
        "theme": Theme.BIRTHDAY,
        "expires_on": date(2031, 11, 21),
        "recipient_name": "Zoë Kowalska",
        "sender_name": "Ann",
        "message": "Happy birthday! Enjoy it.",
    }
    values.update(changes)
    return CertificateData(**values)  # type: ignore[arg-type]


def record_copy(**changes: object) -> CertificateData:
    return printable(code_display="••••••••4TAB", full_code=None, **changes)


def squeezed(text: str) -> str:
    """Text without spaces: letter-spaced capitals come out of pdftotext as ``V A L U E``."""
    return re.sub(r"\s+", "", text)


RENDER = FpdfCertificates()


@pytest.mark.parametrize("theme", list(Theme))
def test_every_theme_renders_what_a_certificate_must_show_and_a_scannable_qr_code(
    theme: Theme,
) -> None:
    pdf = RENDER.render(printable(theme=theme))
    text = pdf_text(pdf)
    for shown in (
        "CAFÉ LUMIÈRE",
        "Zoë Kowalska",
        "Ann",
        "Happy birthday! Enjoy it.",
        "50.00",
        "Valid until 21 November 2031",
        "7KQ2-M9XH-4TAB",
        HEADLINES[theme],
    ):
        assert shown in text, (shown, text)
    assert "USD" in squeezed(text) and "GIFTCARD" in squeezed(text).upper()
    assert qr_codes(pdf) == [CODE]


@pytest.mark.parametrize("theme", list(Theme))
def test_the_record_copy_shares_the_design_with_the_code_masked_and_no_qr_code(
    theme: Theme,
) -> None:
    pdf = RENDER.render(record_copy(theme=theme))
    text = pdf_text(pdf)
    assert "••••••••4TAB" in text and HEADLINES[theme] in text and "Zoë Kowalska" in text
    assert "RECORDCOPY" in squeezed(text)
    assert qr_codes(pdf) == []
    streams = raw_streams(pdf)
    for secret in (CODE, "7KQ2-M9XH", "7KQ2M9XH"):
        assert secret not in text and secret.encode() not in streams and secret.encode() not in pdf


def test_the_qr_code_scans_from_a_coarse_raster_like_a_phone_photo_and_a_long_code() -> None:
    long_code = "7KQ2M9XH4TABPQ7RZZ9K"  # 20 characters, the longest Shopify accepts
    pdf = RENDER.render(printable(code_display="7KQ2-M9XH-4TAB-PQ7R-ZZ9K", full_code=long_code))
    assert qr_codes(pdf, dpi=60) == [long_code]
    text = pdf_text(pdf)
    assert "7KQ2-M9XH-4TAB" in text and "PQ7R-ZZ9K" in text  # two lines under the QR code


def test_names_in_any_script_and_emoji_come_through_as_text() -> None:
    names = {
        "recipient_name": "Zażółć Gęślą & Γιώργος & 山田 花子 & 김민수",
        "sender_name": "محمد الأحمد",
        "message": "שלום דוד! Καλή τύχη 🎂🎉 末永くお幸せに",
        "business_name": "Księgarnia Ωμέγα",
    }
    text = pdf_text(RENDER.render(printable(theme=Theme.WEDDING, **names)))
    assert "KSIĘGARNIAΩΜΈΓΑ" in squeezed(text)  # the eyebrow: letter-spaced capitals
    for word in (
        "Zażółć",
        "Gęślą",
        "Γιώργος",
        "山田",
        "花子",
        "김민수",
        "محمد",
        "الأحمد",
        "שלום",
        "דוד",
        "Καλή",
        "🎂",
        "🎉",
        "末永くお幸せに",
    ):
        assert word in text, (word, text)


def test_a_right_to_left_recipient_keeps_the_layout_of_the_lines_after_it() -> None:
    # fpdf2 2.8.9 loses the font of the line after one that starts in a fallback font: the
    # sender, the message and the footer would vanish (see clients/certificate/writing.py).
    data = printable(recipient_name="שרה כהן", sender_name="山田", message="Love, the team")
    text = pdf_text(RENDER.render(data))
    for shown in ("שרה כהן", "山田", "Love, the team", "Valid until 21 November 2031"):
        assert shown in text, (shown, text)


def test_a_reprint_shows_the_balance_beside_the_initial_value() -> None:
    data = printable(balance=Money.of("32.50", "USD"), balance_on=date(2026, 3, 12))
    text = pdf_text(RENDER.render(data))
    assert "32.50" in text and "Initial value 50.00 USD" in text and "on 12 March 2026" in text
    assert "BALANCE" in squeezed(text)
    unspent = pdf_text(RENDER.render(printable(balance=Money.of("50.00", "USD"))))
    assert "Initial value" not in unspent and "VALUE" in squeezed(unspent)


def test_a_certificate_that_never_expires_and_has_no_names_says_so() -> None:
    data = printable(
        expires_on=None,
        kind=Kind.CERTIFICATE,
        recipient_name=None,
        sender_name=None,
        message=None,
        theme=Theme.STANDARD,
    )
    text = pdf_text(RENDER.render(data))
    assert "Does not expire" in text and "Single use" in text and "Gift Certificate" in text
    assert "FOR" not in squeezed(text) and "FROM" not in squeezed(text)


def test_long_names_and_messages_are_fitted_and_cut_with_an_ellipsis_never_overflowing() -> None:
    data = printable(
        recipient_name="Maximiliane Alexandrina " * 6,
        message="We could not let the day pass without saying thank you. " * 30,
    )
    pdf = RENDER.render(data)
    text = pdf_text(pdf)
    assert "Maximiliane" in text and "…" in text
    assert text.count("We could not let the day pass") < 10
    assert qr_codes(pdf) == [CODE]


def test_text_that_no_font_can_show_or_controls_never_break_rendering() -> None:
    data = printable(message="\x07bell \u200b zero width \U000e0041 tag \ufffe", sender_name="\t")
    assert RENDER.render(data).startswith(b"%PDF-")


def test_fallback_fonts_load_only_for_the_scripts_the_text_has() -> None:
    assert fallbacks_for(["Zoë Kowalska", "Γιώργος", "Дмитрий", "7KQ2-M9XH"]) == []
    picked = fallbacks_for(["山田", "محمد", "🎂"])
    assert [font.file for font in picked] == [
        "NotoNaskhArabic-Regular.ttf",
        "DroidSansFallback.ttf",
        "Noto-COLRv1-noflags.ttf",
    ]


def test_every_font_ships_with_its_licence() -> None:
    for font in (*MAIN_FONTS, *FALLBACK_FONTS):
        assert font.path.is_file(), font.path
    licences = {path.name for path in FONT_DIR.glob("*.txt")}
    assert {"OFL.txt", "LICENSE-Apache-2.0.txt"} <= licences
    assert "Droid Sans Fallback" in (FONT_DIR / "LICENSE-Apache-2.0.txt").read_text()
    assert "SIL OPEN FONT LICENSE Version 1.1" in (FONT_DIR / "OFL.txt").read_text()
    assert (FONT_DIR / "SOURCES.md").is_file()


def test_the_daemon_starts_without_the_renderers_heavy_libraries() -> None:
    # A clean interpreter: this test process has imported them all already.
    probe = (
        "import sys, daemon.bootstrap, daemon.cli, clients.pdf; "
        "print(sorted(m for m in ('fpdf', 'segno', 'fontTools', 'uharfbuzz', 'PIL') "
        "if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.strip() == "[]"
