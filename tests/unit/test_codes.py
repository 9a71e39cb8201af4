from __future__ import annotations

import itertools

import pytest
from cryptography.fernet import Fernet

from cards.codes import (
    ALPHABET,
    Code,
    CodeError,
    check_symbol,
    derive,
    digest,
    generate,
    mask_last4,
    normalize,
    seal,
    unseal,
)

PEPPER = "p" * 32


def test_no_repeats_over_100k_codes_at_the_default_length() -> None:
    codes = {generate().reveal() for _ in range(100_000)}
    assert len(codes) == 100_000


@pytest.mark.parametrize("length", [8, 12, 20])
def test_generated_codes_use_the_alphabet_and_carry_a_valid_check(length: int) -> None:
    for _ in range(200):
        code = generate(length)
        assert len(code.reveal()) == length
        assert set(code.reveal()) <= set(ALPHABET)
        assert code.has_valid_check


def test_alphabet_is_crockford_without_i_l_o_u() -> None:
    assert len(ALPHABET) == 32 and not set("ILOU") & set(ALPHABET)


@pytest.mark.parametrize("length", [7, 21, 0])
def test_generate_refuses_lengths_outside_8_to_20(length: int) -> None:
    with pytest.raises(CodeError):
        generate(length)


def _variants_substitution(code: str) -> list[str]:
    return [
        code[:i] + s + code[i + 1 :] for i in range(len(code)) for s in ALPHABET if s != code[i]
    ]


def _variants_transposition(code: str) -> list[str]:
    return [
        code[:i] + code[i + 1] + code[i] + code[i + 2 :]
        for i in range(len(code) - 1)
        if code[i] != code[i + 1]
    ]


@pytest.mark.parametrize("length", [8, 12, 16, 20])
def test_check_catches_every_single_substitution(length: int) -> None:
    for _ in range(20):
        code = generate(length).reveal()
        for variant in _variants_substitution(code):
            assert not Code(variant).has_valid_check, variant


@pytest.mark.parametrize("length", [8, 12, 16, 20])
def test_check_catches_every_adjacent_transposition(length: int) -> None:
    for _ in range(50):
        code = generate(length).reveal()
        for variant in _variants_transposition(code):
            assert not Code(variant).has_valid_check, variant


def test_check_catches_every_transposition_exhaustively_on_short_bodies() -> None:
    # Every ordered pair of distinct symbols in every adjacent position of an 8-symbol code.
    base = "0000000"
    for i, (a, b) in itertools.product(range(6), itertools.permutations(ALPHABET, 2)):
        body = base[:i] + a + b + base[i + 2 :]
        code = body + check_symbol(body)
        swapped = body[:i] + b + a + body[i + 2 :] + check_symbol(body)
        assert Code(code).has_valid_check and not Code(swapped).has_valid_check


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("7kq2-m9xh-4tpc", "7KQ2M9XH4TPC"),
        (" 7KQ2 M9XH 4TPC ", "7KQ2M9XH4TPC"),
        ("7kq2.m9xh.4tpc", "7KQ2M9XH4TPC"),
        ("７ＫＱ２Ｍ９ＸＨ４ＴＰＣ", "7KQ2M9XH4TPC"),  # full-width digits and letters (NFKC)
        ("7KQ2\u2013M9XH\u00a04TPC", "7KQ2M9XH4TPC"),  # en dash, no-break space
    ],
)
def test_normalization(typed: str, expected: str) -> None:
    assert normalize(typed) == expected
    assert Code.parse(typed).reveal() == expected


@pytest.mark.parametrize("typed", ["", "1234567", "A" * 21, "7KQ2M9XH4TP!", "7KQ2_M9XH4TPC"])
def test_wrong_shapes_are_refused(typed: str) -> None:
    with pytest.raises(CodeError):
        Code.parse(typed)


def test_shopify_codes_without_our_check_still_parse() -> None:
    code = Code.parse("abcdefghijklmnop")  # Shopify's own codes may use any letter
    assert code.reveal() == "ABCDEFGHIJKLMNOP"
    assert not code.has_valid_check


def test_masking_shows_eight_bullets_and_last_four_upper() -> None:
    assert Code.parse("7kq2m9xh4tpc").masked == "••••••••4TPC"
    assert mask_last4("x9y8") == "••••••••X9Y8"
    assert Code.parse("abcdefgh12345678901z").masked == "••••••••901Z"


def test_repr_and_str_never_show_the_code() -> None:
    code = Code.parse("7KQ2M9XH4TPC")
    assert "7KQ2M9XH" not in repr(code) and "7KQ2M9XH" not in str(code)
    assert "7KQ2M9XH" not in f"{code}" and "7KQ2M9XH" not in repr([code])


def test_digest_is_hmac_of_the_normalized_code() -> None:
    a = digest(Code.parse("7kq2-m9xh-4tpc"), PEPPER)
    assert a == digest(Code.parse("7KQ2M9XH4TPC"), PEPPER)
    assert len(a) == 64 and a == a.lower()
    assert a != digest(Code.parse("7KQ2M9XH4TPC"), "q" * 32)
    # A known vector: HMAC-SHA256(key="p"*32, msg="7KQ2M9XH4TPC").
    import hashlib
    import hmac

    assert a == hmac.new(PEPPER.encode(), b"7KQ2M9XH4TPC", hashlib.sha256).hexdigest()


def test_seal_round_trip_and_wrong_key() -> None:
    key = Fernet.generate_key().decode()
    code = generate()
    token = seal(code, key)
    assert code.reveal() not in token
    assert unseal(token, key) == code
    with pytest.raises(CodeError, match="does not open"):
        unseal(token, Fernet.generate_key().decode())
    with pytest.raises(CodeError):
        unseal("garbage", key)


@pytest.mark.parametrize("length", [8, 12, 20])
def test_derived_codes_are_the_same_for_a_key_and_differ_across_keys_and_secrets(
    length: int,
) -> None:
    key = Fernet.generate_key().decode()
    first = derive("create:recA1b2C3d4E5f6G7h", key, length)
    assert first == derive("create:recA1b2C3d4E5f6G7h", key, length)
    assert first.has_valid_check and len(first.reveal()) == length
    assert set(first.reveal()) <= set(ALPHABET)
    others = {derive(f"create:rec{i:014d}", key, length).reveal() for i in range(2000)}
    assert len(others) == 2000
    assert derive("create:recA1b2C3d4E5f6G7h", Fernet.generate_key().decode(), length) != first


def test_derived_symbols_are_spread_over_the_alphabet() -> None:
    key = Fernet.generate_key().decode()
    counts = dict.fromkeys(ALPHABET, 0)
    for i in range(3200):
        for symbol in derive(f"order:{i}:1:1", key, 20).reveal()[:-1]:
            counts[symbol] += 1
    expected = 3200 * 19 / 32
    assert all(0.85 * expected < n < 1.15 * expected for n in counts.values()), counts
