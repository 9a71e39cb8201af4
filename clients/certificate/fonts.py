"""The certificate's fonts: shipped in ``fonts/`` beside this module, with their licences.

A serif (Noto Serif, Latin, Greek and Cyrillic) sets every text and a monospace (Noto Sans Mono)
sets the code. Scripts the serif lacks fall back glyph by glyph to Hebrew, Arabic, CJK (Droid
Sans Fallback: Han, kana, Hangul) and colour emoji (Noto COLRv1). fpdf2 embeds only the glyphs a
page uses, so a certificate stays small whatever the font files weigh.

Loading a font costs time (the CJK and emoji files take about 0.3 s each), so a fallback is
registered only when the certificate's text has a character the serif cannot show and the
fallback can: a Latin-only certificate never opens them. Text shaping (HarfBuzz, through fpdf2)
joins Arabic letters, orders right-to-left runs and forms emoji sequences (skin tones, ZWJ).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fpdf import FPDF

FONT_DIR = Path(__file__).resolve().with_name("fonts")
SERIF = "GiftSerif"
MONO = "GiftMono"


@dataclass(frozen=True, slots=True)
class FontFile:
    family: str
    style: str  # "", "B", "I"
    file: str

    @property
    def path(self) -> Path:
        return FONT_DIR / self.file


MAIN_FONTS = (
    FontFile(SERIF, "", "NotoSerif-Regular.ttf"),
    FontFile(SERIF, "B", "NotoSerif-Bold.ttf"),
    FontFile(SERIF, "I", "NotoSerif-Italic.ttf"),
    FontFile(MONO, "B", "NotoSansMono-Bold.ttf"),
)
# Tried in this order for a character the serif lacks.
FALLBACK_FONTS = (
    FontFile("GiftHebrew", "", "NotoSerifHebrew-Regular.ttf"),
    FontFile("GiftArabic", "", "NotoNaskhArabic-Regular.ttf"),
    FontFile("GiftCJK", "", "DroidSansFallback.ttf"),
    FontFile("GiftEmoji", "", "Noto-COLRv1-noflags.ttf"),
)
# Characters that only steer shaping (joiners, variation selectors, direction marks): they need
# no glyph of their own, so they never call for a fallback font by themselves.
_STEERING = frozenset({0x200C, 0x200D, 0x200E, 0x200F, 0xFE0E, 0xFE0F, 0x20E3})


@cache
def coverage(file: str) -> frozenset[int]:
    """The code points ``file`` has a glyph for (read once per process: the cmap only)."""
    from fontTools.ttLib import TTFont

    with TTFont(FONT_DIR / file, lazy=True) as font:
        return frozenset(font.getBestCmap())


def fallbacks_for(texts: Iterable[str]) -> list[FontFile]:
    """The fallback fonts the texts need: each one that shows a character the serif cannot."""
    missing = {ord(char) for text in texts for char in text} - _STEERING
    missing -= coverage(MAIN_FONTS[0].file)
    missing = {point for point in missing if point > 0x1F}  # controls: never drawn
    needed: list[FontFile] = []
    for font in FALLBACK_FONTS:
        if not missing:
            break
        shown = missing & coverage(font.file)
        if shown:
            needed.append(font)
            missing -= shown
    return needed


def register_fonts(pdf: FPDF, texts: Iterable[str]) -> None:
    """Add the serif, the monospace and the fallbacks ``texts`` need; shape text with HarfBuzz."""
    for font in MAIN_FONTS:
        pdf.add_font(font.family, font.style, str(font.path))
    fallbacks = fallbacks_for(texts)
    for font in fallbacks:
        pdf.add_font(font.family, font.style, str(font.path))
    if fallbacks:
        # exact_match=False: bold or italic text falls back to the regular face.
        pdf.set_fallback_fonts([font.family for font in fallbacks], exact_match=False)
    pdf.set_text_shaping(True)


def close_fonts(pdf: FPDF) -> None:
    """Close the font files fpdf2 opened: it reads them lazily and leaves them open."""
    for font in pdf.fonts.values():
        ttfont = getattr(font, "ttfont", None)
        if ttfont is not None:
            ttfont.close()
