"""Money: a Decimal amount with an ISO 4217 currency, exact to the currency's minor unit.

Floats never become money: binary floats cannot hold 0.10 exactly. Airtable's currency cells are
JSON numbers, so :meth:`Money.from_json_number` is the one door for them; it goes through the
number's shortest decimal repr and refuses anything finer than the currency's minor unit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import SupportsIndex

from cards.errors import DomainError

# ISO 4217 minor-unit exponents that differ from the common 2.
_EXPONENTS: dict[str, int] = {
    "BIF": 0,
    "CLP": 0,
    "DJF": 0,
    "GNF": 0,
    "ISK": 0,
    "JPY": 0,
    "KMF": 0,
    "KRW": 0,
    "PYG": 0,
    "RWF": 0,
    "UGX": 0,
    "UYI": 0,
    "VND": 0,
    "VUV": 0,
    "XAF": 0,
    "XOF": 0,
    "XPF": 0,
    "BHD": 3,
    "IQD": 3,
    "JOD": 3,
    "KWD": 3,
    "LYD": 3,
    "OMR": 3,
    "TND": 3,
}
_CURRENCY = re.compile(r"[A-Z]{3}")
#: No amount of money reaches 10^18 in any currency; a bigger (or astronomically precise) number
#: is a typo or an attack. Refusing it here also keeps every amount well inside Decimal's default
#: 28 digits, so no arithmetic on money can raise ``InvalidOperation``.
_LARGEST_MAGNITUDE = 18


class MoneyError(DomainError):
    """An amount that cannot be money: a float, NaN, infinity, too precise, mixed currencies."""


def check_currency(currency: str) -> str:
    if not isinstance(currency, str) or not _CURRENCY.fullmatch(currency):
        raise MoneyError(f"currency must be a 3-letter ISO 4217 code in capitals, got {currency!r}")
    return currency


def minor_unit_exponent(currency: str) -> int:
    """Digits after the decimal point for ``currency`` (2 unless ISO 4217 says otherwise)."""
    return _EXPONENTS.get(check_currency(currency), 2)


def _to_decimal(value: object) -> Decimal:
    if isinstance(value, bool | float):
        raise MoneyError(f"money must not be built from {type(value).__name__} {value!r}")
    if isinstance(value, Decimal):
        return value
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, str):
        text = value.strip()
        if not re.fullmatch(r"[+-]?(\d+(\.\d*)?|\.\d+)", text):
            raise MoneyError(f"not a decimal amount: {value!r}")
        try:
            return Decimal(text)
        except InvalidOperation as exc:  # pragma: no cover - the regex admits only valid text
            raise MoneyError(f"not a decimal amount: {value!r}") from exc
    raise MoneyError(f"money must be built from Decimal, int or str, got {type(value).__name__}")


@dataclass(frozen=True, slots=True)
class Money:
    """An exact amount in one currency. Build it with :meth:`of`, never the constructor."""

    amount: Decimal
    currency: str

    @classmethod
    def of(cls, value: Decimal | int | str, currency: str) -> Money:
        """Exact money; raises :class:`MoneyError` (and nothing else) for anything that is not:
        a float, NaN, infinity, a number of 10^18 or more, or one finer than the minor unit."""
        exponent = minor_unit_exponent(currency)
        number = _to_decimal(value)
        if not number.is_finite():
            raise MoneyError(f"money must be finite, got {number}")
        if number and number.adjusted() >= _LARGEST_MAGNITUDE:
            raise MoneyError(f"{number} is too large to be an amount of money")
        try:
            quantized = number.quantize(Decimal(1).scaleb(-exponent))
        except ArithmeticError as exc:  # InvalidOperation: more digits than the context holds
            raise MoneyError(f"{number} cannot be an amount of {currency}") from exc
        if quantized != number:
            raise MoneyError(
                f"{number} has more precision than {currency} allows ({exponent} decimals)"
            )
        return cls(quantized, currency)

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls.of(0, currency)

    @classmethod
    def from_json_number(cls, value: object, currency: str) -> Money:
        """Read an Airtable currency cell (a JSON number) exactly, or raise MoneyError."""
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise MoneyError(f"a currency cell must be a number, got {value!r}")
        if isinstance(value, float):
            if value != value or value in (float("inf"), float("-inf")):
                raise MoneyError(f"money must be finite, got {value!r}")
            # repr gives the shortest decimal that round-trips: 12.5 -> "12.5", 0.1 -> "0.1".
            return cls.of(Decimal(repr(value)), currency)
        return cls.of(value, currency)

    def _same(self, other: Money) -> None:
        if not isinstance(other, Money):
            raise MoneyError(f"cannot combine money with {type(other).__name__}")
        if other.currency != self.currency:
            raise MoneyError(f"cannot combine {self.currency} with {other.currency}")

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount - other.amount, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def __abs__(self) -> Money:
        return Money(abs(self.amount), self.currency)

    def __lt__(self, other: Money) -> bool:
        self._same(other)
        return self.amount < other.amount

    def __le__(self, other: Money) -> bool:
        self._same(other)
        return self.amount <= other.amount

    def __gt__(self, other: Money) -> bool:
        self._same(other)
        return self.amount > other.amount

    def __ge__(self, other: Money) -> bool:
        self._same(other)
        return self.amount >= other.amount

    def __round__(self, ndigits: SupportsIndex | None = None) -> Money:
        raise MoneyError("money is never rounded")

    @property
    def is_zero(self) -> bool:
        return self.amount == 0

    @property
    def is_positive(self) -> bool:
        return self.amount > 0

    @property
    def is_negative(self) -> bool:
        return self.amount < 0

    def as_string(self) -> str:
        """The amount with the currency's decimals, as Klaviyo and Shopify take it: ``"12.50"``."""
        return f"{self.amount:.{minor_unit_exponent(self.currency)}f}"

    def __str__(self) -> str:
        return f"{self.as_string()} {self.currency}"
