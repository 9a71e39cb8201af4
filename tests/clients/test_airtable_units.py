"""Airtable adapter units: the cell codec, formulas, error bodies and status classes."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
import requests
from pyairtable.formulas import to_formula_str

from cards.money import Money
from cards.vocab import CardStatus, Kind, ReceiptAction
from clients import airtable_codec as codec
from clients import airtable_queries as q
from clients.airtable_batch import merge_updates
from clients.airtable_errors import error_type, is_iterator_expired, translate
from clients.errors import (
    AmbiguousOutcome,
    InvariantViolation,
    Permanent,
    RateLimited,
    Retryable,
)
from clients.ratelimit import LimiterTimeout

# --- codec ----------------------------------------------------------------------------------


def test_money_is_written_as_a_json_number_and_read_back_exactly() -> None:
    for text in ["0.10", "0.30", "12.50", "999999.99", "0.01"]:
        written = codec.encode_value("currency", Money.of(text, "USD"), "USD")
        assert isinstance(written, float)
        assert codec.money({"B": written}, "B", "USD", record_id="rec1") == Money.of(text, "USD")
    assert codec.encode_value("currency", Money.of("1000", "JPY"), "JPY") == 1000.0


def test_money_of_another_currency_is_refused_before_any_request() -> None:
    with pytest.raises(Permanent) as caught:
        codec.encode_changes(
            {"Balance": "currency"}, {"Balance": Money.of("5", "EUR")}, "USD", table="Gift Cards"
        )
    assert caught.value.code == "INVALID_VALUE"


def test_a_damaged_currency_cell_is_an_invariant_violation_not_a_rounding() -> None:
    with pytest.raises(InvariantViolation):
        codec.money({"Balance": 12.345}, "Balance", "USD", record_id="recX")


def test_amounts_typed_by_people_keep_their_precision_for_the_prong_to_judge() -> None:
    assert codec.decimal({"Amount": 12.345}, "Amount") == Decimal("12.345")
    assert codec.decimal({"Amount": 7}, "Amount") == Decimal(7)
    assert codec.decimal({"Amount": 0.1}, "Amount") == Decimal("0.1")
    assert codec.decimal({}, "Amount") is None
    assert codec.decimal({"Amount": True}, "Amount") is None


def test_dates_times_enums_links_and_empties_are_written_in_airtable_form() -> None:
    moment = datetime(2026, 3, 4, 5, 6, 7, 890123, tzinfo=timezone(timedelta(hours=2)))
    assert codec.encode_value("dateTime", moment, "USD") == "2026-03-04T03:06:07.890Z"
    assert codec.encode_value("date", date(2031, 1, 2), "USD") == "2031-01-02"
    assert codec.encode_value("singleSelect", CardStatus.ACTIVE, "USD") == "Active"
    assert codec.encode_value("multipleRecordLinks", ("recA", "recB"), "USD") == ["recA", "recB"]
    assert codec.encode_value("multipleRecordLinks", None, "USD") == []
    assert codec.encode_value("checkbox", None, "USD") is False
    assert codec.encode_value("singleLineText", None, "USD") is None
    assert codec.encode_value("number", Decimal("3"), "USD") == 3
    with pytest.raises(codec.CodecError):
        codec.encode_value("dateTime", datetime(2026, 1, 1), "USD")  # noqa: DTZ001


def test_reading_tolerates_absent_and_odd_cells() -> None:
    fields: dict[str, Any] = {
        "T": "2026-01-02T03:04:05.000Z",
        "D": "2031-01-02",
        "S": "Nope",
        "K": "Gift Card",
        "L": ["recA", {"id": "attB"}],
        "Bad": "x",
    }
    assert codec.timestamp(fields, "T") == datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert codec.day(fields, "D") == date(2031, 1, 2)
    assert codec.option(fields, "S", CardStatus) is None
    assert codec.option(fields, "K", Kind) is Kind.GIFT_CARD
    assert codec.links(fields, "L") == ("recA", "attB")
    assert codec.timestamp(fields, "Bad") is None
    assert codec.day(fields, "Missing") is None
    assert codec.flag({"C": True}, "C") and not codec.flag({}, "C")


# --- formulas -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "hostile", ["x' OR 1=1 OR '", '"),TRUE(),("', "{Code Digest}", "back\\slash\\'", "O'Brien"]
)
def test_hostile_values_are_quoted_as_one_string_literal(hostile: str) -> None:
    text = to_formula_str(q.equals("Code Digest", hostile))
    assert text.startswith("{Code Digest}='") and text.endswith("'")
    literal = text[len("{Code Digest}='") : -1]
    # Every quote and backslash inside the literal is escaped: the literal cannot end early.
    unescaped = literal.replace("\\\\", "").replace("\\'", "")
    assert "'" not in unescaped and "\\" not in unescaped


def test_queue_formula_selects_blank_or_processing() -> None:
    assert to_formula_str(q.pending("Status")) == "OR({Status}='', {Status}='Processing')"


def test_any_of_and_chunks_bound_formula_size() -> None:
    values = [f"gid://shopify/GiftCard/{i}" for i in range(95)] + ["gid://shopify/GiftCard/1"]
    chunks = q.chunks(values)
    assert [len(c) for c in chunks] == [40, 40, 15]
    text = to_formula_str(q.any_of("Shopify Gift Card ID", chunks[0]))
    assert text.startswith("OR(") and text.count("{Shopify Gift Card ID}=") == 40
    with pytest.raises(ValueError):
        q.any_of("X", [str(i) for i in range(41)])


def test_bounded_chunks_cap_terms_and_characters_and_drop_empty_values() -> None:
    digests = [f"{i:064x}" for i in range(90)] + ["", f"{0:064x}"]
    assert [len(c) for c in q.bounded_chunks(digests)] == [40, 40, 10]
    assert q.bounded_chunks(["", ""]) == []
    sized = q.bounded_chunks(["a" * 1000, "b" * 1000, "c" * 1001, "d" * 4000, "e"])
    assert [[len(v) for v in c] for c in sized] == [[1000, 1000], [1001], [4000], [1]]


def test_batched_updates_merge_a_record_named_twice_keeping_first_seen_order() -> None:
    merged = merge_updates([("recB", {"X": "1"}), ("recA", {"Y": "2"}), ("recB", {"X": "3"})])
    assert merged == [("recB", {"X": "3"}), ("recA", {"Y": "2"})]


def test_at_or_after_compares_a_parsed_utc_time() -> None:
    since = datetime(2026, 1, 1, 12, tzinfo=UTC)
    assert to_formula_str(q.at_or_after("Processed At", since)) == (
        "AND({Processed At}, {Processed At}>=DATETIME_PARSE('2026-01-01T12:00:00.000Z'))"
    )


def test_receipt_action_slugs_stay_plain() -> None:
    assert ReceiptAction.PURCHASED_ONLINE.slug == "purchased-online"


# --- errors ---------------------------------------------------------------------------------


def _http_error(status: int, body: Any) -> requests.HTTPError:
    response = requests.Response()
    response.status_code = status
    response._content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return requests.HTTPError(f"{status}", response=response)


def test_all_three_error_body_shapes_are_read() -> None:
    assert error_type({"error": {"type": "INVALID_X", "message": "m"}}) == ("INVALID_X", "m")
    assert error_type({"error": "NOT_FOUND"}) == ("NOT_FOUND", "")
    assert error_type({"errors": [{"error": "RATE_LIMIT_REACHED", "message": "slow"}]}) == (
        "RATE_LIMIT_REACHED",
        "slow",
    )
    assert error_type("<html>") == (None, "")


@pytest.mark.parametrize(
    ("status", "write", "expected"),
    [
        (429, True, RateLimited),
        (429, False, RateLimited),
        (502, True, Retryable),
        (500, True, AmbiguousOutcome),
        (503, True, AmbiguousOutcome),
        (500, False, Retryable),
        (503, False, Retryable),
        (422, True, Permanent),
        (404, False, Permanent),
    ],
)
def test_status_codes_map_to_classes(status: int, write: bool, expected: type) -> None:
    body = {"error": {"type": "SOMETHING", "message": "m"}}
    error = translate(_http_error(status, body), "op", write=write, penalty=7.0)
    assert type(error) is expected
    if expected is RateLimited:
        assert isinstance(error, RateLimited) and error.retry_after == 7.0
    if expected is Permanent:
        assert isinstance(error, Permanent)
        assert (error.code, error.status) == ("SOMETHING", status)


def test_transport_failures_map_by_whether_the_request_left() -> None:
    refused = requests.ConnectionError(ConnectionRefusedError(111, "refused"))
    assert isinstance(translate(refused, "create", write=True), Retryable)
    assert isinstance(translate(requests.ConnectTimeout(), "create", write=True), Retryable)
    assert isinstance(translate(requests.ReadTimeout(), "create", write=True), AmbiguousOutcome)
    assert isinstance(translate(requests.ReadTimeout(), "list", write=False), Retryable)
    reset = requests.ConnectionError(ConnectionResetError(104, "reset"))
    assert isinstance(translate(reset, "update", write=True), AmbiguousOutcome)
    assert isinstance(translate(LimiterTimeout("airtable", 12.0), "list", write=False), RateLimited)


def test_the_expired_iterator_is_recognised() -> None:
    body = {"error": {"type": "LIST_RECORDS_ITERATOR_NOT_AVAILABLE", "message": "m"}}
    assert is_iterator_expired(_http_error(422, body))
    assert not is_iterator_expired(_http_error(422, {"error": {"type": "OTHER"}}))
