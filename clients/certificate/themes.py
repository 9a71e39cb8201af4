"""One look per Theme: colours, the headline, and the artwork drawn around the text.

Colours are chosen to print well on an office printer and to keep the text dark on a light paper
(contrast of at least 7:1 for the ink); the stub carries white text on the theme's deep colour.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from cards.vocab import Theme
from clients.certificate import artwork

if TYPE_CHECKING:
    from fpdf import FPDF

RGB = tuple[int, int, int]


@dataclass(frozen=True, slots=True)
class Palette:
    paper: RGB  # the main area's background
    ink: RGB  # names and message
    accent: RGB  # eyebrow, rules, labels
    headline: RGB
    stub: RGB  # the stub behind the amount and the QR code
    stub_ink: RGB
    art: tuple[RGB, ...]  # artwork colours


@dataclass(frozen=True, slots=True)
class Look:
    headline: str | None  # None: the kind ("Gift Card") is the headline
    palette: Palette
    draw_main: Callable[[FPDF, Palette, artwork.Area, str], None]
    draw_stub: Callable[[FPDF, Palette, artwork.Area], None]
    art_width: float  # how much of the headline's width the artwork takes at the top right


LOOKS: dict[Theme, Look] = {
    Theme.STANDARD: Look(
        None,
        Palette(
            paper=(251, 249, 244),
            ink=(28, 36, 56),
            accent=(150, 118, 52),
            headline=(28, 42, 78),
            stub=(28, 42, 78),
            stub_ink=(255, 255, 255),
            art=((190, 156, 84), (28, 42, 78)),
        ),
        artwork.standard_main,
        artwork.standard_stub,
        36,
    ),
    Theme.BIRTHDAY: Look(
        "Happy Birthday",
        Palette(
            paper=(255, 251, 245),
            ink=(40, 36, 70),
            accent=(201, 70, 60),
            headline=(40, 36, 70),
            stub=(214, 76, 66),
            stub_ink=(255, 255, 255),
            art=((240, 110, 96), (38, 160, 150), (246, 186, 62), (120, 98, 200), (236, 120, 160)),
        ),
        artwork.birthday_main,
        artwork.birthday_stub,
        34,
    ),
    Theme.WEDDING: Look(
        "Happily Ever After",
        Palette(
            paper=(253, 250, 246),
            ink=(64, 52, 52),
            accent=(160, 104, 94),
            headline=(92, 66, 62),
            stub=(126, 142, 122),
            stub_ink=(255, 255, 255),
            art=((196, 150, 120), (143, 163, 140), (226, 190, 180)),
        ),
        artwork.wedding_main,
        artwork.wedding_stub,
        38,
    ),
    Theme.HOLIDAY: Look(
        "Season's Greetings",
        Palette(
            paper=(250, 250, 246),
            ink=(24, 46, 38),
            accent=(168, 36, 48),
            headline=(22, 72, 54),
            stub=(22, 82, 60),
            stub_ink=(255, 255, 255),
            art=((168, 36, 48), (22, 96, 66), (206, 166, 58), (200, 214, 222)),
        ),
        artwork.holiday_main,
        artwork.holiday_stub,
        30,
    ),
    Theme.THANK_YOU: Look(
        "Thank You",
        Palette(
            paper=(252, 249, 243),
            ink=(56, 46, 38),
            accent=(176, 92, 58),
            headline=(90, 62, 44),
            stub=(176, 92, 58),
            stub_ink=(255, 255, 255),
            art=((120, 150, 108), (214, 136, 96), (236, 196, 120), (176, 92, 58)),
        ),
        artwork.thank_you_main,
        artwork.thank_you_stub,
        30,
    ),
}


def look_of(theme: Theme) -> Look:
    return LOOKS.get(theme, LOOKS[Theme.STANDARD])
