"""Checking a bulk-issuance CSV file (cards.bulk_csv, cards.bulk): pure, every problem by line."""

from __future__ import annotations

import hashlib
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cards.bulk import BulkFile, check_file
from cards.creation import CreationAsk, ValidCreation, validate_creation
from cards.money import Money
from cards.policy import AmountLimits
from cards.vocab import CardSource, Channel, Kind, ReceiptSource, Theme

LIMITS = AmountLimits(Money.of("5.00", "USD"), Money.of("1000.00", "USD"))
HEAD = "recipient_name,recipient_email,amount"


def check(text: str | bytes, currency: str = "USD") -> BulkFile:
    data = text.encode("utf-8") if isinstance(text, str) else text
    limits = (
        LIMITS
        if currency == "USD"
        else AmountLimits(Money.of(5, currency), Money.of(100000, currency))
    )
    return check_file(data, currency=currency, limits=limits)


def problems(text: str | bytes) -> list[str]:
    return [str(p) for p in check(text).problems]


def test_the_batch_is_the_first_twelve_hex_of_the_files_sha256() -> None:
    data = f"{HEAD}\nAnn,ann@example.com,25\n".encode()
    assert check(data).batch == hashlib.sha256(data).hexdigest()[:12]


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
@pytest.mark.parametrize("bom", ["", "\ufeff"])
def test_comma_semicolon_and_tab_files_with_or_without_a_bom_read_alike(
    delimiter: str, bom: str
) -> None:
    head = delimiter.join(["Recipient Name", " RECIPIENT_EMAIL ", "amount", "Theme", "is-gift"])
    rows = [
        delimiter.join(["Zoë Ünal", "zoe@example.com", "25.50", "thank you", ""]),
        delimiter.join(["李雷", "li@example.com", "40", "BIRTHDAY", "no"]),
    ]
    checked = check(bom + "\r\n".join([head, *rows]) + "\r\n")
    assert checked.problems == ()
    assert [
        (r.line, r.ask.recipient_name, r.valid.amount, r.valid.theme) for r in checked.rows
    ] == [
        (2, "Zoë Ünal", Money.of("25.50", "USD"), Theme.THANK_YOU),
        (3, "李雷", Money.of("40.00", "USD"), Theme.BIRTHDAY),
    ]
    assert checked.total == Money.of("65.50", "USD")


def test_a_semicolon_file_may_write_a_decimal_comma() -> None:
    checked = check("recipient_name;recipient_email;amount\nAnn;ann@example.com;25,50\n")
    assert [r.valid.amount for r in checked.rows] == [Money.of("25.50", "USD")]


def test_line_numbers_are_the_files_own_across_blank_lines_and_multiline_messages() -> None:
    text = (
        f"{HEAD},message\n"
        'Ann,ann@example.com,25,"Dear Ann,\nthank you"\n'
        "\n"
        ",,,\n"
        "Bob,bob@example.com,30,\n"
    )
    checked = check(text)
    assert [r.line for r in checked.rows] == [2, 6]
    assert checked.rows[0].valid.message == "Dear Ann,\nthank you"
    assert checked.rows[0].import_key(checked.batch) == f"import:{checked.batch}:2"


def test_two_bad_rows_are_both_reported_by_line_column_and_fix() -> None:
    found = problems(f"{HEAD}\nAnn,ann@example.com,25\nBob,bob@,3\nCy,cy@example.com,12.345\n")
    assert found == [
        "line 3, amount: The amount 3.00 USD is below the minimum 5.00 USD. "
        "Use an amount from 5.00 USD to 1000.00 USD.",
        "line 3, recipient_email: Not an email address: bob@. Correct the address.",
        "line 4, amount: The amount is not valid: 12.345 has more precision than USD allows "
        "(2 decimals). "
        "Use an amount from 5.00 USD to 1000.00 USD.",
    ]


def test_file_level_problems_name_what_is_wrong() -> None:
    assert problems(b"recipient_name,amount\nAnn,25\n") == [
        "line 1, recipient_email: The header has no such column. The header needs "
        "recipient_name, recipient_email, amount; it may add message, theme, kind, "
        "purchaser_name, purchaser_email, is_gift."
    ]
    assert problems(f"{HEAD},mesage\nAnn,ann@example.com,25,hi\n") == [
        "line 1, mesage: This column is not one giftbridge knows. Did you mean message?"
    ]
    assert problems(f"{HEAD},amount\nAnn,ann@example.com,25,26\n") == [
        "line 1, amount: The column appears twice in the header. Keep one."
    ]
    assert problems(f"{HEAD}\nAnn,ann@example.com,25,extra\n") == [
        "line 2: The row has 4 cells, the header 3. Put quotes around a value that holds "
        "the delimiter (comma)."
    ]
    (empty,) = problems(b"")
    assert empty.startswith("The file is empty. The header needs recipient_name, ")
    assert problems(f"{HEAD}\n") == ["The file has a header but no rows. Add a row per card."]


def test_a_file_that_is_not_utf8_is_refused_at_its_line() -> None:
    data = f"{HEAD}\nAnn,ann@example.com,25\n".encode() + "Zoë,zoe@example.com,30\n".encode(
        "cp1252"
    )
    assert problems(data) == [
        "line 3: The file is not UTF-8 (byte 0xEB). Save it as UTF-8 (in Excel: Save As, "
        "'CSV UTF-8')."
    ]


def test_an_unknown_column_is_ignored_with_a_note_and_duplicates_are_noted() -> None:
    rows = "Ann,ann@example.com,25,17\nBob,b@x.io,5,2\nAnn,ann@example.com,25,17\n"
    checked = check(f"{HEAD},Employee No\n{rows}")
    assert checked.problems == () and len(checked.rows) == 3
    assert checked.notes == (
        "column 'Employee No' is not used: giftbridge ignores it",
        "lines 2 and 4 are the same: both are issued (delete one if that is a slip)",
    )


@pytest.mark.parametrize(
    ("amount", "problem"),
    [
        ("$25", "'$25' is not a plain number."),
        ("1,000.00", "The row has 4 cells, the header 3."),
        ('"1,000.00"', "'1,000.00' is not a plain number."),
        ("1e3", "'1e3' is not a plain number."),
        ("0", "The amount 0.00 USD is below the minimum 5.00 USD."),
        ("-5", "The amount -5.00 USD is below the minimum 5.00 USD."),
        ("1000.01", "The amount 1000.01 USD is above the maximum 1000.00 USD."),
        ("", "The cell is empty."),
    ],
)
def test_amounts_are_plain_numbers_within_the_limits(amount: str, problem: str) -> None:
    (found,) = problems(f"{HEAD}\nAnn,ann@example.com,{amount}\n")
    assert problem in found


def test_a_currency_without_decimals_says_so() -> None:
    (found,) = [str(p) for p in check(f"{HEAD}\nAnn,ann@example.com,2500.5\n", "JPY").problems]
    assert "more precision than JPY allows (0 decimals)" in found


@pytest.mark.parametrize(
    ("cells", "problem"),
    [
        (
            "theme=Party",
            "line 2, theme: 'Party' is not a theme. Use one of: Standard, Birthday, "
            "Wedding, Holiday, Thank You.",
        ),
        (
            "kind=voucher",
            "line 2, kind: 'voucher' is not a kind. Use one of: Gift Card, Certificate.",
        ),
        ("is_gift=maybe", "line 2, is_gift: 'maybe' is neither yes nor no."),
        (
            "is_gift=yes",
            "line 2, purchaser_name: Missing the purchaser's name. Name who the gift "
            "is from, or write no in is_gift.",
        ),
        ("purchaser_email=hr@", "line 2, purchaser_email: Not an email address: hr@."),
        (
            "purchaser_name=Acme;is_gift=no",
            "line 2, is_gift: is_gift is no, but the purchaser is not the recipient.",
        ),
    ],
)
def test_optional_columns_are_checked_too(cells: str, problem: str) -> None:
    extra = dict(pair.split("=") for pair in cells.split(";"))
    if "purchaser_email" in extra:
        extra["purchaser_name"] = "Acme"
    head = ",".join([HEAD, *extra])
    (found,) = problems(f"{head}\nAnn,ann@example.com,25,{','.join(extra.values())}\n")
    assert found.startswith(problem)


def test_who_holds_the_card() -> None:
    head = f"{HEAD},purchaser_name,purchaser_email,is_gift,kind"
    checked = check(
        f"{head}\n"
        "Ann,ann@example.com,25,,,,\n"  # her own card
        "Bob,bob@example.com,25,Acme,hr@acme.example,,certificate\n"  # a gift (a purchaser named)
        "Cy,cy@example.com,25,Cy,cy@example.com,no,\n"  # her own, the purchaser cells repeat her
        "Di,di@example.com,25,Acme,,yes,\n"  # a gift without a confirmation
    )
    assert checked.problems == ()
    held = [
        (r.valid.is_gift, r.valid.purchaser_name, r.valid.purchaser_email, r.valid.recipient_email)
        for r in checked.rows
    ]
    assert held == [
        (False, "Ann", "ann@example.com", None),
        (True, "Acme", "hr@acme.example", "bob@example.com"),
        (False, "Cy", "cy@example.com", None),
        (True, "Acme", None, "di@example.com"),
    ]
    assert checked.rows[1].valid.kind == Kind.CERTIFICATE
    assert {r.valid.source for r in checked.rows} == {CardSource.BULK}
    assert {r.valid.receipt_source for r in checked.rows} == {ReceiptSource.MANUAL}


@given(
    amount=st.decimals(min_value=Decimal("-10"), max_value=Decimal("1500"), places=3),
    email=st.sampled_from(["ann@example.com", "ann@", "ann example.com"]),
)
def test_a_row_passes_exactly_when_the_shared_creation_rule_accepts_it(
    amount: Decimal, email: str
) -> None:
    """One validation: the CSV check never accepts what the store prong would refuse, nor the
    other way round."""
    checked = check(f"{HEAD},purchaser_name,is_gift\nAnn,{email},{amount},Acme,yes\n")
    ask = CreationAsk(
        amount=amount,
        purchaser_name="Acme",
        recipient_name="Ann",
        recipient_email=email,
        is_gift=True,
        channel=Channel.BULK,
    )
    verdict = validate_creation(ask, currency="USD", limits=LIMITS, portal_enabled=False)
    assert bool(checked.rows) == isinstance(verdict, ValidCreation)
    if checked.rows:
        assert checked.rows[0].valid == verdict
