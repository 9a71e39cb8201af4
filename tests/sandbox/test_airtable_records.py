"""Record routes driven through pyairtable over HTTP: the client must not see a difference."""

from __future__ import annotations

import base64
from typing import Any

import pytest
import requests
from pyairtable.formulas import OR, Field, match

from tests.sandbox.conftest import BASE_ID, AirtableHarness


def _store(airtable: AirtableHarness, name: str = "Main St") -> str:
    return str(airtable.table("Stores").create({"Name": name, "Active": True})["id"])


def test_create_get_update_delete(airtable: AirtableHarness) -> None:
    stores = airtable.table("Stores")
    created = stores.create({"Name": "Main St", "Email": "main@example.com", "Active": True})
    assert created["id"].startswith("rec") and len(created["id"]) == 17
    assert created["createdTime"].endswith("Z")
    assert stores.get(created["id"])["fields"] == {
        "Name": "Main St",
        "Email": "main@example.com",
        "Active": True,
    }
    stores.update(created["id"], {"Location Code": "MS1"})
    assert stores.get(created["id"])["fields"]["Location Code"] == "MS1"
    assert stores.delete(created["id"]) == {"id": created["id"], "deleted": True}
    assert airtable.sandbox.base().records("Stores") == []


def test_empty_values_are_omitted(airtable: AirtableHarness) -> None:
    record = airtable.table("Stores").create(
        {"Name": "Main St", "Email": "", "Active": False, "Location Code": None}
    )
    assert record["fields"] == {"Name": "Main St"}


def test_put_clears_every_field_not_given(airtable: AirtableHarness) -> None:
    stores = airtable.table("Stores")
    record = stores.create({"Name": "Main St", "Email": "a@example.com", "Active": True})
    replaced = stores.update(record["id"], {"Name": "Renamed"}, replace=True)
    assert replaced["fields"] == {"Name": "Renamed"}
    patched = stores.batch_update([{"id": record["id"], "fields": {"Active": True}}])
    assert patched[0]["fields"] == {"Name": "Renamed", "Active": True}


def test_paging_over_more_than_a_hundred_records(airtable: AirtableHarness) -> None:
    receipts = airtable.table("Receipts")
    receipts.batch_create([{"Reference": f"r:{i:03d}", "Amount": i} for i in range(250)])
    before = len(airtable.sandbox.request_log)
    pages = list(receipts.iterate())
    assert [len(p) for p in pages] == [100, 100, 50]
    assert len(airtable.sandbox.request_log) - before == 3
    everything = receipts.all(sort=["-Amount"], page_size=40, max_records=90)
    assert [r["fields"]["Amount"] for r in everything] == list(range(249, 159, -1))


def test_sort_fields_and_field_ids(airtable: AirtableHarness) -> None:
    receipts = airtable.table("Receipts")
    receipts.batch_create(
        [
            {"Reference": "b", "Amount": 1, "Details": "x"},
            {"Reference": "a", "Amount": 2, "Details": "y"},
            {"Reference": "c", "Details": "z"},
        ]
    )
    rows = receipts.all(sort=["Reference"], fields=["Reference"])
    assert [r["fields"] for r in rows] == [
        {"Reference": "a"},
        {"Reference": "b"},
        {"Reference": "c"},
    ]
    by_amount = receipts.all(sort=["Amount"])  # blanks first when ascending
    assert [r["fields"]["Reference"] for r in by_amount] == ["c", "b", "a"]
    schema = airtable.api.base(BASE_ID).schema().table("Receipts")
    reference_id = schema.field("Reference").id
    by_id = receipts.all(use_field_ids=True, formula="{Reference} = 'a'")
    assert by_id[0]["fields"][reference_id] == "a"


def test_formula_filters_through_the_client(airtable: AirtableHarness) -> None:
    cards = airtable.table("Gift Cards")
    hostile = "x' OR 1=1 OR '"
    cards.batch_create(
        [{"Code Digest": hostile, "Status": "Active"}, {"Code Digest": "abc", "Status": "Active"}]
    )
    found = cards.all(formula=match({"Code Digest": hostile, "Status": "Active"}))
    assert [r["fields"]["Code Digest"] for r in found] == [hostile]
    assert len(cards.all(formula="{Status} = 'Active'")) == 2
    assert cards.first(formula=match({"Code Digest": "nope"})) is None


def test_long_formulas_fall_back_to_list_records_post(airtable: AirtableHarness) -> None:
    cards = airtable.table("Gift Cards")
    cards.create({"Code Digest": "needle"})
    digests = [f"{i:064x}" for i in range(300)] + ["needle"]
    formula = OR(*(Field("Code Digest").eq(d) for d in digests))
    assert len(cards.all(formula=formula)) == 1
    assert airtable.sandbox.request_log[-1].path.endswith("/listRecords")
    shorter = OR(*(Field("Code Digest").eq(d) for d in digests[-150:]))  # ~12,000 characters
    assert len(cards.all(formula=shorter)) == 1
    assert airtable.sandbox.request_log[-1].method == "GET"


def test_links_are_reciprocal_and_unlinked_on_delete(airtable: AirtableHarness) -> None:
    store = _store(airtable)
    cards = airtable.table("Gift Cards")
    card = cards.create({"Masked Code": "••••7KQ2", "Store": [store]})
    assert airtable.table("Stores").get(store)["fields"]["Gift Cards"] == [card["id"]]
    cards.update(card["id"], {"Store": []})
    assert "Gift Cards" not in airtable.table("Stores").get(store)["fields"]
    cards.update(card["id"], {"Store": [store]})
    airtable.table("Stores").delete(store)
    assert "Store" not in cards.get(card["id"])["fields"]


def test_typecast_converts_and_adds_select_options(airtable: AirtableHarness) -> None:
    receipts = airtable.table("Receipts")
    record = receipts.create(
        {"Reference": 42, "Amount": "12.50", "Action": "Brand New"}, typecast=True
    )
    assert record["fields"] == {"Reference": "42", "Amount": 12.5, "Action": "Brand New"}
    choices = airtable.api.base(BASE_ID).schema(force=True).table("Receipts").field("Action")
    assert "Brand New" in [c.name for c in choices.options.choices]  # type: ignore[union-attr]


def test_batch_upsert_creates_then_updates(airtable: AirtableHarness) -> None:
    receipts = airtable.table("Receipts")
    first = receipts.batch_upsert(
        [{"fields": {"Reference": f"k:{i}", "Amount": i}} for i in range(12)],
        key_fields=["Reference"],
    )
    assert len(first["createdRecords"]) == 12 and first["updatedRecords"] == []
    second = receipts.batch_upsert(
        [{"fields": {"Reference": "k:3", "Amount": 30}}, {"fields": {"Reference": "k:99"}}],
        key_fields=["Reference"],
    )
    assert second["updatedRecords"] == [first["createdRecords"][3]]
    assert len(second["createdRecords"]) == 1
    assert receipts.get(first["createdRecords"][3])["fields"]["Amount"] == 30
    assert len(receipts.all()) == 13


def test_batch_update_and_batch_delete_in_chunks(airtable: AirtableHarness) -> None:
    receipts = airtable.table("Receipts")
    created = receipts.batch_create([{"Reference": f"d:{i}"} for i in range(15)])
    updated = receipts.batch_update(
        [{"id": r["id"], "fields": {"Details": "seen"}} for r in created]
    )
    assert all(r["fields"]["Details"] == "seen" for r in updated)
    deleted = receipts.batch_delete([r["id"] for r in created])
    assert len(deleted) == 15 and all(d["deleted"] for d in deleted)
    assert receipts.all() == []


def test_the_same_offset_twice_gives_the_same_page(airtable: AirtableHarness) -> None:
    airtable.table("Receipts").batch_create([{"Reference": f"o:{i}"} for i in range(3)])
    url = airtable.records_url("Receipts")
    first = airtable.http.get(url, params={"pageSize": 1}, timeout=5).json()
    assert first["offset"].startswith("itr") and "/rec" in first["offset"]
    again = [
        airtable.http.get(url, params={"pageSize": 1, "offset": first["offset"]}, timeout=5).json()
        for _ in range(2)
    ]
    assert again[0] == again[1] and again[0]["records"] != first["records"]


def test_iterator_expiry_answers_422(airtable: AirtableHarness) -> None:
    receipts = airtable.table("Receipts")
    receipts.batch_create([{"Reference": f"i:{i}"} for i in range(3)])
    pages = receipts.iterate(page_size=1)
    next(pages)
    airtable.sandbox.expire_iterators()
    with pytest.raises(requests.HTTPError) as caught:
        next(pages)
    assert caught.value.response.status_code == 422
    assert caught.value.response.json()["error"]["type"] == "LIST_RECORDS_ITERATOR_NOT_AVAILABLE"


def test_upload_attachment_and_read_it_back(airtable: AirtableHarness) -> None:
    card = airtable.table("Gift Cards").create({"Masked Code": "••••7KQ2"})
    pdf = b"%PDF-1.4 certificate"
    response = airtable.http.post(
        f"{airtable.url}/v0/{BASE_ID}/{card['id']}/Certificate/uploadAttachment",
        json={
            "contentType": "application/pdf",
            "file": base64.b64encode(pdf).decode(),
            "filename": "certificate.pdf",
        },
        timeout=5,
    )
    assert response.status_code == 200
    field_id = airtable.api.base(BASE_ID).schema().table("Gift Cards").field("Certificate").id
    uploaded = response.json()["fields"][field_id][0]
    assert uploaded["id"].startswith("att") and uploaded["size"] == len(pdf)
    assert (uploaded["filename"], uploaded["type"]) == ("certificate.pdf", "application/pdf")
    assert uploaded["url"].startswith(airtable.url)
    stored = airtable.table("Gift Cards").get(card["id"])["fields"]["Certificate"]
    assert [a["id"] for a in stored] == [uploaded["id"]]
    assert airtable.http.get(uploaded["url"], timeout=5).content == pdf
    keep: dict[str, Any] = {"Certificate": [{"id": uploaded["id"]}]}
    kept = airtable.table("Gift Cards").update(card["id"], keep)
    assert kept["fields"]["Certificate"][0]["id"] == uploaded["id"]
