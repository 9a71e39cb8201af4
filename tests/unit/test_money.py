from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cards.money import Money, MoneyError, minor_unit_exponent


def test_of_quantizes_to_the_minor_unit() -> None:
    assert Money.of("12.5", "USD").as_string() == "12.50"
    assert Money.of(7, "JPY").as_string() == "7"
    assert Money.of("1.234", "KWD").as_string() == "1.234"


@pytest.mark.parametrize("value", ["12.345", "0.001", Decimal("1.005")])
def test_over_precise_amounts_are_refused_not_rounded(value: str | Decimal) -> None:
    with pytest.raises(MoneyError, match="more precision"):
        Money.of(value, "USD")


def test_yen_has_no_decimals() -> None:
    with pytest.raises(MoneyError):
        Money.of("1.5", "JPY")


@pytest.mark.parametrize("value", [1.5, True, None, [1]])
def test_floats_and_non_numbers_are_refused(value: object) -> None:
    with pytest.raises(MoneyError):
        Money.of(value, "USD")  # type: ignore[arg-type]


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-inf", "1e3", "12,50", "", "abc"])
def test_nan_infinity_and_junk_text_are_refused(value: str) -> None:
    with pytest.raises(MoneyError):
        Money.of(value, "USD")


def test_decimal_nan_and_infinity_are_refused() -> None:
    for value in (Decimal("NaN"), Decimal("Infinity")):
        with pytest.raises(MoneyError):
            Money.of(value, "USD")


def test_mixed_currencies_are_refused() -> None:
    with pytest.raises(MoneyError, match="cannot combine"):
        Money.of(1, "USD") + Money.of(1, "EUR")
    with pytest.raises(MoneyError):
        _ = Money.of(1, "USD") < Money.of(1, "EUR")


def test_arithmetic_and_comparisons() -> None:
    a, b = Money.of("10.00", "USD"), Money.of("2.50", "USD")
    assert (a - b).as_string() == "7.50"
    assert (a + b) == Money.of("12.5", "USD")
    assert b < a and a >= b and not a.is_zero
    assert (b - a).is_negative and abs(b - a) == Money.of("7.5", "USD")
    assert Money.zero("USD").is_zero


def test_money_is_never_rounded() -> None:
    with pytest.raises(MoneyError):
        round(Money.of(1, "USD"))


@pytest.mark.parametrize(
    ("cell", "expected"), [(12.5, "12.50"), (0.1, "0.10"), (100, "100.00"), (19.99, "19.99")]
)
def test_airtable_currency_cells_parse_exactly(cell: float, expected: str) -> None:
    assert Money.from_json_number(cell, "USD").as_string() == expected


@pytest.mark.parametrize("cell", [12.345, float("nan"), float("inf"), "12.50", True, None])
def test_bad_airtable_cells_are_refused(cell: object) -> None:
    with pytest.raises(MoneyError):
        Money.from_json_number(cell, "USD")


def test_shopify_decimal_strings_parse_exactly() -> None:
    assert Money.of("29.9", "USD").amount == Decimal("29.90")
    assert Money.of("-5.00", "USD").is_negative


def test_currency_codes_are_checked() -> None:
    with pytest.raises(MoneyError):
        Money.of(1, "usd")
    assert minor_unit_exponent("EUR") == 2


@given(st.integers(min_value=0, max_value=10**9), st.integers(min_value=0, max_value=10**9))
def test_cents_arithmetic_is_exact(a: int, b: int) -> None:
    x = Money.of(Decimal(a).scaleb(-2), "USD")
    y = Money.of(Decimal(b).scaleb(-2), "USD")
    assert (x + y - y) == x
    assert (x + y).amount == Decimal(a + b).scaleb(-2)


HOSTILE_NUMBERS = [
    Decimal("1e30"),
    Decimal("1E+999999999"),
    Decimal("-1E+999999999"),
    Decimal("1E-999999999"),
    Decimal("sNaN"),
    Decimal("-Infinity"),
    Decimal("1e18"),
    Decimal("123456789012345678901234567890.12"),
]


@pytest.mark.parametrize("value", HOSTILE_NUMBERS, ids=str)
def test_every_hostile_number_is_a_money_error_never_invalid_operation(value: Decimal) -> None:
    with pytest.raises(MoneyError):
        Money.of(value, "USD")


@pytest.mark.parametrize("cell", [1e30, 1e308, -1e308, 5e-324, 1e18])
def test_hostile_airtable_cells_are_money_errors(cell: float) -> None:
    with pytest.raises(MoneyError):
        Money.from_json_number(cell, "USD")


@given(st.decimals(allow_nan=True, allow_infinity=True))
def test_money_of_any_decimal_is_money_or_a_money_error(value: Decimal) -> None:
    try:
        money = Money.of(value, "KWD")
    except MoneyError:
        return
    assert money.amount == value and abs(money.amount) < Decimal("1e18")
    assert money + money - money == money  # arithmetic on any money never raises
