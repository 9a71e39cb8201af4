"""Every documented error, as pyairtable surfaces it: ``HTTPError`` with status and ``type``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import requests
from pyairtable import Api

from tests.sandbox.conftest import BASE_ID, AirtableHarness


def _error(call: Callable[[], Any]) -> tuple[int, Any]:
    with pytest.raises(requests.HTTPError) as caught:
        call()
    body = caught.value.response.json()
    error = body["error"]
    return caught.value.response.status_code, error["type"] if isinstance(error, dict) else error


def test_missing_or_wrong_token_is_401(airtable: AirtableHarness) -> None:
    wrong = Api("patWrong", endpoint_url=airtable.url, retry_strategy=None, timeout=(5, 5))
    try:
        assert _error(lambda: wrong.table(BASE_ID, "Stores").all()) == (
            401,
            "AUTHENTICATION_REQUIRED",
        )
    finally:
        wrong.session.close()
    response = requests.get(airtable.records_url("Stores"), timeout=5)
    assert response.status_code == 401


def test_unknown_base_table_and_route(airtable: AirtableHarness) -> None:
    assert _error(lambda: airtable.api.table("appNoSuchBase0000", "Stores").all()) == (
        403,
        "INVALID_PERMISSIONS_OR_MODEL_NOT_FOUND",
    )
    assert _error(lambda: airtable.table("Nope").all()) == (404, "TABLE_NOT_FOUND")
    response = airtable.http.get(f"{airtable.url}/v0/{BASE_ID}/Stores/a/b/c", timeout=5)
    assert (response.status_code, response.json()) == (404, {"error": "NOT_FOUND"})


def test_unknown_record_is_404_model_id_not_found(airtable: AirtableHarness) -> None:
    stores = airtable.table("Stores")
    missing = "recAAAAAAAAAAAAAA"
    assert _error(lambda: stores.get(missing)) == (404, "MODEL_ID_NOT_FOUND")
    assert _error(lambda: stores.update(missing, {"Name": "x"})) == (404, "MODEL_ID_NOT_FOUND")
    assert _error(lambda: stores.delete(missing)) == (404, "MODEL_ID_NOT_FOUND")
    assert _error(lambda: stores.batch_update([{"id": missing, "fields": {}}])) == (
        404,
        "MODEL_ID_NOT_FOUND",
    )
    card = airtable.table("Gift Cards").create({"Masked Code": "x"})
    assert _error(lambda: stores.get(card["id"])) == (404, "MODEL_ID_NOT_FOUND")


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"Nope": "x"}, "UNKNOWN_FIELD_NAME"),
        ({"Status": "Lost"}, "INVALID_MULTIPLE_CHOICE_OPTIONS"),
        ({"Balance": "12.50"}, "INVALID_VALUE_FOR_COLUMN"),
        ({"Balance": True}, "INVALID_VALUE_FOR_COLUMN"),
        ({"Masked Code": 1234}, "INVALID_VALUE_FOR_COLUMN"),
        ({"Recipient Email": ["a@example.com"]}, "INVALID_VALUE_FOR_COLUMN"),
        ({"Expires On": "31/12/2026"}, "INVALID_VALUE_FOR_COLUMN"),
        ({"Issued At": "yesterday"}, "INVALID_VALUE_FOR_COLUMN"),
        ({"Store": "recAAAAAAAAAAAAAA"}, "INVALID_VALUE_FOR_COLUMN"),
        ({"Store": ["recAAAAAAAAAAAAAA"]}, "ROW_DOES_NOT_EXIST"),
        ({"Certificate": [{"url": "ftp://x"}]}, "INVALID_VALUE_FOR_COLUMN"),
    ],
)
def test_invalid_cells_are_422(
    airtable: AirtableHarness, fields: dict[str, Any], expected: str
) -> None:
    assert _error(lambda: airtable.table("Gift Cards").create(fields)) == (422, expected)
    assert airtable.sandbox.base().records("Gift Cards") == []


def test_email_format_is_not_checked_but_its_type_is(airtable: AirtableHarness) -> None:
    record = airtable.table("Stores").create({"Name": "x", "Email": "not an email"})
    assert record["fields"]["Email"] == "not an email"


def test_a_request_is_all_or_nothing(airtable: AirtableHarness) -> None:
    receipts = airtable.table("Receipts")
    assert _error(
        lambda: receipts.batch_create([{"Reference": "ok"}, {"Reference": "bad", "Amount": "x"}])
    ) == (422, "INVALID_VALUE_FOR_COLUMN")
    assert receipts.all() == []


def test_more_than_ten_records_is_invalid_records(airtable: AirtableHarness) -> None:
    url = airtable.table("Receipts").urls.records
    body = {"records": [{"fields": {"Reference": str(i)}} for i in range(11)]}
    assert _error(lambda: airtable.api.post(url, json=body)) == (422, "INVALID_RECORDS")
    assert _error(lambda: airtable.api.post(url, json={"records": []})) == (422, "INVALID_RECORDS")
    ids = [f"rec{i:014d}" for i in range(11)]
    assert _error(lambda: airtable.api.delete(url, params={"records[]": ids})) == (
        422,
        "INVALID_RECORDS",
    )


def test_upsert_matching_several_records_fails(airtable: AirtableHarness) -> None:
    receipts = airtable.table("Receipts")
    receipts.batch_create([{"Reference": "dup"}, {"Reference": "dup"}])
    assert _error(
        lambda: receipts.batch_upsert(
            [{"fields": {"Reference": "dup", "Amount": 1}}], key_fields=["Reference"]
        )
    ) == (422, "INVALID_RECORDS")
    assert _error(
        lambda: receipts.batch_upsert(
            [{"id": "recAAAAAAAAAAAAAA", "fields": {}}], key_fields=["Reference"]
        )
    ) == (404, "MODEL_ID_NOT_FOUND")
    assert _error(
        lambda: receipts.batch_upsert(
            [{"fields": {"Reference": "x", "Gift Card": []}}], key_fields=["Gift Card"]
        )
    ) == (422, "INVALID_REQUEST_UNKNOWN")


@pytest.mark.parametrize("formula", ["{Status} = 'x", "NOPE()", "{Nope} = 1", "AND()"])
def test_bad_formula_is_422(airtable: AirtableHarness, formula: str) -> None:
    assert _error(lambda: airtable.table("Gift Cards").all(formula=formula)) == (
        422,
        "INVALID_FILTER_BY_FORMULA",
    )


def test_bad_list_parameters(airtable: AirtableHarness) -> None:
    cards = airtable.table("Gift Cards")
    assert _error(lambda: cards.all(page_size=101)) == (422, "INVALID_REQUEST_UNKNOWN")
    assert _error(lambda: cards.all(fields=["Nope"])) == (422, "UNKNOWN_FIELD_NAME")
    assert _error(lambda: cards.all(sort=["Nope"])) == (422, "UNKNOWN_FIELD_NAME")
    assert _error(lambda: cards.all(view="Nope")) == (422, "VIEW_NAME_NOT_FOUND")
    assert _error(lambda: cards.all(offset="garbage")) == (422, "INVALID_OFFSET_VALUE")
    response = airtable.http.get(airtable.records_url("Stores"), params={"bogus": "1"}, timeout=5)
    assert response.status_code == 422


def test_malformed_bodies_change_nothing(airtable: AirtableHarness) -> None:
    body = {"fields": {"Name": "x"}, "typecast": "yes"}
    assert _error(lambda: airtable.api.post(airtable.table("Stores").urls.records, json=body)) == (
        422,
        "INVALID_REQUEST_UNKNOWN",
    )
    response = airtable.http.post(
        airtable.records_url("Stores"),
        data="{not json",
        headers={"Content-Type": "application/json"},
        timeout=5,
    )
    assert response.status_code == 400
    assert airtable.sandbox.base().records("Stores") == []


def test_urls_beyond_sixteen_thousand_characters_are_refused(airtable: AirtableHarness) -> None:
    formula = "{Name} = '" + "x" * 16_100 + "'"
    response = airtable.http.get(
        airtable.records_url("Stores"), params={"filterByFormula": formula}, timeout=5
    )
    assert response.status_code == 414
