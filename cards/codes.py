"""Gift card codes: generate (or derive from an action key), normalize, check, mask, digest, seal.

Codes giftbridge issues are ``length`` symbols of the Crockford base32 alphabet (no I, L, O, U),
the last one a check symbol. The check is a weighted sum over GF(32): position ``i`` counted from
the right (the check itself is position 0) has weight alpha**i for a primitive alpha, and the sum
of weight x value over the whole code is zero. Weights are distinct and non-zero, so every single
substitution (w*(a-b) != 0) and every adjacent transposition ((w1-w2)*(a-b) != 0) changes the sum.

A :class:`Code` never shows its plaintext in ``repr`` or ``str``: only :meth:`Code.reveal` does,
and only the email to the card's holder and the printable certificate call it.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import unicodedata
from dataclasses import dataclass, field

from cryptography.fernet import Fernet, InvalidToken

from cards.errors import DomainError

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_VALUE = {symbol: index for index, symbol in enumerate(ALPHABET)}
MIN_LENGTH, MAX_LENGTH, DEFAULT_LENGTH = 8, 20, 12
_STRIP = re.compile(r"[\s\-.\u2010-\u2015\u2212]+")
_SHAPE = re.compile(r"[A-Z0-9]{8,20}")
_MASK = "\u2022" * 8


class CodeError(DomainError):
    """A code that cannot be used: wrong shape, or a sealed token that does not open."""


def _gf_mul(a: int, b: int) -> int:
    """Multiply in GF(2^5) modulo the primitive polynomial x^5 + x^2 + 1."""
    product = 0
    while b:
        if b & 1:
            product ^= a
        b >>= 1
        a <<= 1
        if a & 0x20:
            a ^= 0x25
    return product


def _weights(count: int) -> list[int]:
    weights, w = [], 1
    for _ in range(count):
        weights.append(w)
        w = _gf_mul(w, 2)  # alpha = x is primitive for x^5 + x^2 + 1 (order 31)
    return weights


def _syndrome(symbols: str) -> int:
    total = 0
    for weight, symbol in zip(_weights(len(symbols)), reversed(symbols), strict=True):
        total ^= _gf_mul(weight, _VALUE[symbol])
    return total


def check_symbol(body: str) -> str:
    """The symbol that completes ``body`` (Crockford symbols only) into a valid code."""
    # With the check at weight 1, the sum is zero when check = sum of the shifted body (XOR).
    return ALPHABET[_syndrome(body + "0")]


def normalize(text: str) -> str:
    """NFKC, strip spaces, dashes and dots, upper-case: the one normalization for every entry."""
    return _STRIP.sub("", unicodedata.normalize("NFKC", text)).upper()


@dataclass(frozen=True, slots=True)
class Code:
    """A normalized gift card code. ``repr`` and ``str`` are masked; use :meth:`reveal`."""

    _value: str = field(repr=False)

    @classmethod
    def parse(cls, text: str) -> Code:
        """Normalize ``text``; raise :class:`CodeError` unless it is 8 to 20 letters and digits."""
        value = normalize(text)
        if not _SHAPE.fullmatch(value):
            raise CodeError("a code is 8 to 20 letters and digits")
        return cls(value)

    def reveal(self) -> str:
        return self._value

    @property
    def last4(self) -> str:
        return self._value[-4:]

    @property
    def masked(self) -> str:
        return mask_last4(self.last4)

    @property
    def has_valid_check(self) -> bool:
        """True for a code giftbridge could have issued (Crockford symbols, check symbol right)."""
        return all(c in _VALUE for c in self._value) and _syndrome(self._value) == 0

    def __repr__(self) -> str:
        return f"Code({self.masked})"

    def __str__(self) -> str:
        return self.masked


def mask_last4(last_characters: str) -> str:
    """Eight bullets and the last 4 characters in upper case, for any card of any origin."""
    return _MASK + last_characters[-4:].upper()


def generate(length: int = DEFAULT_LENGTH) -> Code:
    """A new random code from ``secrets``: ``length - 1`` symbols and a check symbol."""
    if not MIN_LENGTH <= length <= MAX_LENGTH:
        raise CodeError(f"code length must be {MIN_LENGTH} to {MAX_LENGTH}, got {length}")
    body = "".join(secrets.choice(ALPHABET) for _ in range(length - 1))
    return Code(body + check_symbol(body))


_DERIVATION = b"giftbridge card code v1\x00"


def derive(key: str, secret: str, length: int = DEFAULT_LENGTH) -> Code:
    """The code of the card issued under action key ``key``: ``length - 1`` symbols taken from
    HMAC-SHA256(``secret``, key) and a check symbol.

    The same key always gives the same code, so a card can never be issued twice for one key
    whatever happens to its Gift Cards row: Shopify refuses a second ``giftCardCreate`` with the
    same code (TAKEN), and the card found by that code carries the key in its note. Without the
    secret (``CODE_KEY``, which already opens every sealed code) the codes are as unpredictable
    as :func:`generate`'s: HMAC-SHA256 is a pseudorandom function, and each byte modulo 32 is
    uniform over the alphabet (256 = 8 x 32)."""
    if not MIN_LENGTH <= length <= MAX_LENGTH:
        raise CodeError(f"code length must be {MIN_LENGTH} to {MAX_LENGTH}, got {length}")
    stream = hmac.new(secret.encode("utf-8"), _DERIVATION + key.encode("utf-8"), hashlib.sha256)
    body = "".join(ALPHABET[byte % 32] for byte in stream.digest()[: length - 1])
    return Code(body + check_symbol(body))


def digest(code: Code, pepper: str) -> str:
    """Lower-case hex HMAC-SHA256 of the normalized code, keyed with the pepper (UTF-8)."""
    return hmac.new(
        pepper.encode("utf-8"), code.reveal().encode("utf-8"), hashlib.sha256
    ).hexdigest()


def seal(code: Code, key: str) -> str:
    """A Fernet token of the code under ``key`` (a Fernet key)."""
    return Fernet(key.encode("ascii")).encrypt(code.reveal().encode("utf-8")).decode("ascii")


def unseal(token: str, key: str) -> Code:
    """Open a sealed code; raise :class:`CodeError` if the key is wrong or the token damaged."""
    try:
        plain = Fernet(key.encode("ascii")).decrypt(token.encode("ascii"))
    except (InvalidToken, ValueError) as exc:
        raise CodeError("the sealed code does not open with this CODE_KEY") from exc
    return Code.parse(plain.decode("utf-8"))
