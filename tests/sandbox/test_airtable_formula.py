"""The formula parser and evaluator, without HTTP: pyairtable-built formulas, Airtable
semantics (blanks, checkboxes, links), hostile strings matched literally, and the 422s."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pyairtable import formulas as F

from sandbox.airtable.errors import AirtableError
from sandbox.airtable.formula import BinaryOp, FieldRef, Number, Text, parse
from sandbox.airtable.listing import Iterators, ListQuery, list_records
from sandbox.airtable.metadata import create_table
from sandbox.airtable.records import Writer
from sandbox.airtable.store import Base

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
HOSTILE = ["x' OR 1=1 OR '", '"),TRUE(),("', "{Code Digest}", "back\\slash", "\\'", "it's", "a\\"]


def _base() -> Base:
    base = Base("appFormulaTests01", "t")
    stores = create_table(
        base, {"name": "Stores", "fields": [{"name": "Name", "type": "singleLineText"}]}
    )
    create_table(
        base,
        {
            "name": "Cards",
            "fields": [
                {"name": "Code Digest", "type": "singleLineText"},
                {
                    "name": "Status",
                    "type": "singleSelect",
                    "options": {"choices": [{"name": "Active"}]},
                },
                {"name": "Balance", "type": "currency", "options": {"precision": 2, "symbol": "$"}},
                {
                    "name": "Active",
                    "type": "checkbox",
                    "options": {"icon": "check", "color": "greenBright"},
                },
                {
                    "name": "Store",
                    "type": "multipleRecordLinks",
                    "options": {"linkedTableId": stores.id},
                },
                {"name": "Expires", "type": "date", "options": {"dateFormat": {"name": "iso"}}},
                {
                    "name": "Seen",
                    "type": "dateTime",
                    "options": {
                        "dateFormat": {"name": "iso"},
                        "timeFormat": {"name": "24hour"},
                        "timeZone": "utc",
                    },
                },
            ],
        },
    )
    return base


def _add(base: Base, table: str, *rows: dict[str, Any]) -> list[str]:
    found = base.table(table)
    assert found is not None
    body = {"records": [{"fields": r} for r in rows]}
    return [r["id"] for r in Writer(base, found, body, "", NOW).create()["records"]]


def _select(base: Base, formula: object, table: str = "Cards") -> list[str]:
    found = base.table(table)
    assert found is not None
    result = list_records(base, found, ListQuery(formula=str(formula)), Iterators(60), "", NOW)
    return [r["id"] for r in result["records"]]


@pytest.fixture
def base() -> Base:
    return _base()


def test_precedence_and_associativity() -> None:
    node = parse("1 + 2 * 3 = 7 & ''")
    assert isinstance(node, BinaryOp) and node.op == "="
    assert parse("{A}-1-1") == BinaryOp("-", BinaryOp("-", FieldRef("A"), Number(1)), Number(1))


@given(st.text())
def test_quoted_strings_round_trip(text: str) -> None:
    assert parse(F.quoted(text)) == Text(text)


def test_double_quoted_strings_and_escapes() -> None:
    assert parse('"say \\"hi\\""') == Text('say "hi"')
    assert parse("'a\\nb'") == Text("a\nb")


@pytest.mark.parametrize("hostile", HOSTILE)
def test_hostile_strings_match_literally(base: Base, hostile: str) -> None:
    target, other = _add(base, "Cards", {"Code Digest": hostile}, {"Code Digest": "innocent"})
    assert _select(base, F.match({"Code Digest": hostile})) == [target]
    assert _select(base, F.EQ(F.Field("Code Digest"), hostile)) == [target]
    assert other not in _select(base, F.match({"Code Digest": hostile}))


def test_match_with_several_fields_and_comparisons(base: Base) -> None:
    rich, poor, _ = _add(
        base,
        "Cards",
        {"Code Digest": "a", "Status": "Active", "Balance": 50},
        {"Code Digest": "b", "Status": "Active", "Balance": 5.5},
        {"Code Digest": "c", "Balance": 99},
    )
    assert _select(base, F.match({"Status": "Active", "Balance": (">=", Decimal("10"))})) == [rich]
    assert _select(base, F.match({"Code Digest": "b", "Status": "Nope"}, match_any=True)) == [poor]
    assert _select(base, F.AND(F.Field("Balance").lt(6), F.NOT(F.Field("Status").eq("")))) == [poor]


def test_blank_cells_equal_empty_string_blank_and_zero(base: Base) -> None:
    empty, full = _add(base, "Cards", {"Code Digest": "x"}, {"Status": "Active", "Balance": 3})
    assert _select(base, "{Status} = ''") == [empty]
    assert _select(base, "{Status} = BLANK()") == [empty]
    assert _select(base, "{Balance} = 0") == [empty]
    assert _select(base, "NOT({Status})") == [empty]
    assert _select(base, "{Status}") == [full]


def test_checkbox_is_true_or_blank(base: Base) -> None:
    on, off = _add(base, "Cards", {"Active": True}, {"Active": False})
    assert _select(base, F.match({"Active": True})) == [on]
    assert _select(base, F.match({"Active": False})) == [off]
    assert _select(base, "{Active} + 1 = 2") == [on]


def test_links_read_as_the_linked_primary_values(base: Base) -> None:
    main, side = _add(base, "Stores", {"Name": "Main St"}, {"Name": "Side St"})
    both, one = _add(base, "Cards", {"Store": [main, side]}, {"Store": [side]})
    assert _select(base, "{Store} = 'Side St'") == [one]
    assert _select(base, "ARRAYJOIN({Store}, '|') = 'Main St|Side St'") == [both]
    assert _select(base, "FIND('Main', {Store})") == [both]


def test_text_functions(base: Base) -> None:
    rec = _add(base, "Cards", {"Code Digest": "  MiXed  "})[0]
    assert _select(base, "LOWER(TRIM({Code Digest})) = 'mixed'") == [rec]
    assert _select(base, "1 & 2 + 3 = '15'") == [rec]  # '+' binds tighter than '&'
    assert _select(base, "LEN(TRIM({Code Digest})) = 5") == [rec]
    assert _select(base, "SEARCH('zzz', {Code Digest}) = BLANK()") == [rec]
    assert _select(base, "FIND('X', UPPER({Code Digest})) = 5") == [rec]
    assert _select(base, "VALUE('$1,250.50') = 1250.5") == [rec]


def test_record_id_and_times(base: Base) -> None:
    rec = _add(base, "Cards", {"Seen": "2026-02-28T12:00:00Z", "Expires": "2026-03-02"})[0]
    assert _select(base, F.EQ(F.RECORD_ID(), rec)) == [rec]
    assert _select(base, F.IS_BEFORE(F.Field("Seen"), F.NOW())) == [rec]
    assert _select(base, F.IS_AFTER(F.Field("Expires"), F.TODAY())) == [rec]
    assert _select(base, F.IS_SAME(F.Field("Expires"), date(2026, 3, 2), "day")) == [rec]
    seen = datetime(2026, 2, 28, 12, tzinfo=UTC)
    assert _select(base, F.IS_SAME(F.Field("Seen"), seen, "second")) == [rec]
    assert _select(base, "IS_SAME({Seen}, '2026-02-28T12:00:00.001Z')") == []
    assert _select(base, "IS_SAME(DATEADD({Seen}, 1, 'days'), NOW())") == [rec]
    assert _select(base, "IS_AFTER(DATEADD({Seen}, 25, 'hours'), NOW())") == [rec]
    assert _select(base, "IS_AFTER(DATEADD({Seen}, 23, 'hours'), NOW())") == []
    assert _select(base, "DATETIME_DIFF(NOW(), {Seen}, 'hours') = 24") == [rec]
    assert _select(base, "IS_SAME(CREATED_TIME(), LAST_MODIFIED_TIME({Seen}))") == [rec]
    assert _select(
        base,
        "DATETIME_FORMAT(DATETIME_PARSE('02/03/2026', 'DD/MM/YYYY'), 'YYYY-MM-DD') = '2026-03-02'",
    ) == [rec]


def test_truthiness_of_results(base: Base) -> None:
    rec = _add(base, "Cards", {"Code Digest": "a"})[0]
    for falsy in ("0", "FALSE()", "''", "BLANK()", "0/1", "IF(FALSE(), 1)"):
        assert _select(base, falsy) == [], falsy
    for truthy in ("1", "TRUE()", "'x'", "-1", "IF({Code Digest}, 'yes', '')"):
        assert _select(base, truthy) == [rec], truthy


def test_run_time_errors_match_nothing_but_are_not_422(base: Base) -> None:
    _add(base, "Cards", {"Code Digest": "a"})
    assert _select(base, "1/0") == []
    assert _select(base, "IS_BEFORE('not a date', NOW())") == []
    assert _select(base, "{Code Digest} + 1") == []
    assert _select(base, "ISERROR(1/0)") != []


@pytest.mark.parametrize(
    "formula",
    [
        "{Code Digest} = 'a",
        "AND(",
        "{Status} == 'x'",
        "1 +",
        "NOT_A_FUNCTION(1)",
        "IF(TRUE())",
        "{Missing} = 1",
        "Missing = 1",
        "REGEX_MATCH({Status}, '.*')",
        "(" * 5000,
        "LAST_MODIFIED_TIME('Status')",
        "{Status} = 'a' OR 1=1",
    ],
)
def test_bad_formulas_are_422(base: Base, formula: str) -> None:
    with pytest.raises(AirtableError) as caught:
        _select(base, formula)
    assert (caught.value.status, caught.value.type) == (422, "INVALID_FILTER_BY_FORMULA")


def test_unknown_fields_are_named_in_the_message(base: Base) -> None:
    with pytest.raises(AirtableError, match="Unknown field names: Nope"):
        _select(base, "{Nope} = 1")
