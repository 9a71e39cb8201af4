"""Values people type into Airtable forms, from the ordinary to the hostile.

Amounts are what the Airtable adapter hands a prong for a currency cell (a JSON number read as
``Decimal(repr(float))``, an int as ``Decimal(int)``; see ``clients.airtable_codec.decimal``), or
nothing. Texts are anything a person can type or paste. Codes come in every shape a clerk can
produce from a real code (case, separators, full-width letters, a typo, a swap) and some that
are not codes at all.
"""

from __future__ import annotations

import random
from decimal import Decimal

from cards.codes import ALPHABET, normalize

# JSON numbers Airtable can hold in a currency cell, as the adapter reads them.
HOSTILE_FLOATS = (
    1e30,
    -5.0,
    0.0,
    1.005,
    0.001,
    1e-07,
    5e-324,
    1.7976931348623157e308,
    1000000.01,
    999999999.99,
    -0.0,
    4.999,
)
HOSTILE_TEXTS = (
    "NaN",
    "Infinity",
    "-0",
    "1e30",
    " ",
    "\u200b",  # zero-width space
    "🎁💳🎉",
    '=HYPERLINK("http://evil.example","click")',
    "+SUM(A1:A9)",
    "@cmd|' /C calc'!A0",
    "'; DROP TABLE cards; --",
    "{Code} = 'x'",
    "line one\nline two\r\n\ttabbed",
    "\u202eevil",  # right-to-left override
    "a" * 5000,
    "Ünïcödé Ñame",
    "null",
)
HOSTILE_EMAILS = (
    "not-an-email",
    "a@b",
    "=1+1@example.com",
    "🎁@example.com",
    "x" * 300 + "@example.com",
    "two@@example.com",
    " spaced @example.com",
    "UPPER@EXAMPLE.COM",
)


def hostile_amount(rng: random.Random) -> Decimal | None:
    """An amount a person could leave in a currency cell that no rule should accept (or None)."""
    if rng.random() < 0.15:
        return None
    value = rng.choice(HOSTILE_FLOATS)
    if value == int(value) and abs(value) < 1e15 and rng.random() < 0.5:
        return Decimal(int(value))  # an integral JSON number arrives as an int
    return Decimal(repr(value))


def amount(rng: random.Random, low: int = 1, high: int = 12000) -> Decimal:
    """An ordinary amount in cents, as a person types it."""
    return Decimal(rng.randint(low, high)).scaleb(-2)


def hostile_text(rng: random.Random) -> str:
    return rng.choice(HOSTILE_TEXTS)


def name(rng: random.Random, hostile: bool) -> str | None:
    if hostile:
        return rng.choice((None, hostile_text(rng)))
    return rng.choice(("Rae Friend", "Pat Buyer", "Jo", "Ana María", "李小龍"))


def email(rng: random.Random, hostile: bool, who: str = "holder") -> str | None:
    if hostile:
        return rng.choice((None, rng.choice(HOSTILE_EMAILS), hostile_text(rng)))
    return f"{who}{rng.randint(1, 40)}@example.com"


def shaped(code: str, rng: random.Random) -> str:
    """The code as a clerk might type it: case, separators, full-width, spaces around it."""
    shape = rng.randrange(7)
    if shape == 0:
        return code.lower()
    if shape == 1:
        return "-".join(code[i : i + 4] for i in range(0, len(code), 4))
    if shape == 2:
        return " ".join(code[i : i + 4] for i in range(0, len(code), 4)).lower()
    if shape == 3:  # full-width letters: NFKC turns them back
        return "".join(chr(ord(c) + 0xFEE0) if c.isalnum() else c for c in code)
    if shape == 4:
        return f"  {code}\n"
    if shape == 5:
        return ".".join(code[i : i + 4] for i in range(0, len(code), 4))
    return code


def typo(code: str, rng: random.Random) -> str:
    """One substitution or one adjacent swap (the check character should catch either)."""
    chars = list(code)
    i = rng.randrange(len(chars) - 1)
    if rng.random() < 0.5:
        chars[i], chars[i + 1] = chars[i + 1], chars[i]
    else:
        chars[i] = rng.choice([c for c in ALPHABET if c != chars[i]])
    return "".join(chars)


def junk_code(rng: random.Random) -> str | None:
    """Something typed in a Code cell that is no card's code."""
    choice = rng.randrange(9)
    if choice == 0:
        return None
    if choice == 1:
        return "".join(rng.choice(ALPHABET) for _ in range(7))  # too short
    if choice == 2:
        return "".join(rng.choice(ALPHABET) for _ in range(21))  # too long
    if choice == 3:
        return "".join(rng.choice("0123456789") for _ in range(8))  # digits only
    if choice == 4:
        return "".join(rng.choice(ALPHABET) for _ in range(rng.randint(8, 20)))  # a stranger's
    if choice == 5:
        return "GIFT-🎁🎁-CARD"
    return hostile_text(rng)


def code_like(text: str | None) -> str | None:
    """The normalized form of ``text`` when it has a code's shape (8 to 20 letters and digits):
    what must never be found at rest."""
    if not text:
        return None
    value = normalize(text)
    if 8 <= len(value) <= 20 and value.isascii() and value.isalnum():
        return value
    return None
