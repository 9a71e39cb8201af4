"""The Metadata API through pyairtable: schema read-back, base init from empty, errors."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import requests
from pyairtable.models import schema as S

from tests.sandbox.conftest import BASE_ID, AirtableHarness


def test_layout_reads_back_with_the_specific_field_models(
    airtable: AirtableHarness, layout: dict[str, Any]
) -> None:
    schema = airtable.api.base(BASE_ID).schema()
    assert [t.name for t in schema.tables] == [t["name"] for t in layout["tables"]]
    for spec in layout["tables"]:
        table = schema.table(spec["name"])
        assert table.primary_field_id == table.fields[0].id
        assert table.views[0].visible_field_ids == [f.id for f in table.fields]
        for field_spec in spec["fields"]:
            field = table.field(field_spec["name"])
            assert field.type == field_spec["type"]
            assert not isinstance(field, S.UnknownFieldSchema), field_spec["name"]
            assert field.id.startswith("fld") and len(field.id) == 17


def test_field_options_in_read_back_shape(airtable: AirtableHarness) -> None:
    schema = airtable.api.base(BASE_ID).schema()
    stores, cards = schema.table("Stores"), schema.table("Gift Cards")
    link = cards.field("Store")
    assert isinstance(link, S.MultipleRecordLinksFieldSchema)
    assert link.options.linked_table_id == stores.id
    assert (link.options.is_reversed, link.options.prefers_single_record_link) == (False, False)
    inverse = stores.field(link.options.inverse_link_field_id or "")
    assert isinstance(inverse, S.MultipleRecordLinksFieldSchema)
    assert inverse.name == "Gift Cards" and inverse.options.inverse_link_field_id == link.id
    issued = cards.field("Issued At")
    assert isinstance(issued, S.DateTimeFieldSchema)
    assert issued.options.time_zone == "utc"
    assert (issued.options.date_format.name, issued.options.date_format.format) == (
        "iso",
        "YYYY-MM-DD",
    )
    assert issued.options.time_format.format == "HH:mm"
    expires = cards.field("Expires On")
    assert isinstance(expires, S.DateFieldSchema) and expires.options.date_format.name == "iso"
    balance = cards.field("Balance")
    assert isinstance(balance, S.CurrencyFieldSchema)
    assert (balance.options.precision, balance.options.symbol) == (2, "$")
    active = stores.field("Active")
    assert isinstance(active, S.CheckboxFieldSchema)
    assert (active.options.icon, active.options.color) == ("check", "greenBright")
    status = cards.field("Status")
    assert isinstance(status, S.SingleSelectFieldSchema)
    assert all(c.id.startswith("sel") for c in status.options.choices)
    assert isinstance(cards.field("Certificate"), S.MultipleAttachmentsFieldSchema)


def _ordered_for_init(layout: dict[str, Any]) -> list[dict[str, Any]]:
    return list(layout["tables"])  # the file lists every linked table before its users


def test_base_init_from_an_empty_base(
    airtable_factory: Callable[..., AirtableHarness], layout: dict[str, Any]
) -> None:
    airtable = airtable_factory()
    base = airtable.api.base(BASE_ID)
    assert base.schema().tables == []
    ids: dict[str, str] = {}
    for spec in _ordered_for_init(layout):
        fields = []
        for field in spec["fields"]:
            options = dict(field.get("options", {}))
            if "linkedTable" in options:
                options = {"linkedTableId": ids[options.pop("linkedTable")]}
            fields.append({**field, "options": options} if options else dict(field))
        ids[spec["name"]] = base.create_table(spec["name"], fields[:1]).id
        for field in fields[1:]:
            base.table(spec["name"]).create_field(
                field["name"], field["type"], options=field.get("options")
            )
    schema = base.schema(force=True)
    for spec in layout["tables"]:
        names = [f.name for f in schema.table(spec["name"]).fields]
        assert names[: len(spec["fields"])] == [f["name"] for f in spec["fields"]]


def _meta_error(call: Callable[[], Any]) -> tuple[int, str]:
    with pytest.raises(requests.HTTPError) as caught:
        call()
    return caught.value.response.status_code, caught.value.response.json()["error"]["type"]


def test_metadata_errors(airtable: AirtableHarness) -> None:
    base = airtable.api.base(BASE_ID)
    stores = base.table("Stores")
    assert _meta_error(lambda: stores.create_field("name", "singleLineText")) == (
        422,
        "DUPLICATE_OR_EMPTY_FIELD_NAME",
    )
    assert _meta_error(
        lambda: stores.create_field(
            "Link", "multipleRecordLinks", options={"linkedTable": "Gift Cards"}
        )
    ) == (422, "INVALID_FIELD_TYPE_OPTIONS_FOR_CREATE")
    assert _meta_error(lambda: stores.create_field("Total", "formula")) == (
        422,
        "UNSUPPORTED_FIELD_TYPE_FOR_CREATE",
    )
    assert _meta_error(lambda: stores.create_field("Flag", "checkbox")) == (
        422,
        "INVALID_FIELD_TYPE_OPTIONS_FOR_CREATE",
    )
    assert _meta_error(lambda: base.create_table("Stores", [{"name": "A", "type": "email"}])) == (
        422,
        "DUPLICATE_TABLE_NAME",
    )
    assert _meta_error(
        lambda: base.create_table("Files", [{"name": "Files", "type": "multipleAttachments"}])
    ) == (422, "INVALID_FIELD_TYPE_FOR_PRIMARY")


def test_whoami_and_list_bases(airtable: AirtableHarness) -> None:
    assert airtable.api.whoami()["scopes"][0] == "data.records:read"
    assert [b.id for b in airtable.api.bases()] == [BASE_ID]
