"""The layout check and ``base init``: pure comparisons, then against the sandbox's Metadata API."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from clients.base_admin import (
    currency_options,
    dependency_order,
    field_body,
    layout_problems,
)
from config.layout import load_layout
from tests.clients.conftest import AirtableRig


def live_from_layout() -> list[dict[str, Any]]:
    """What Airtable would read back for a base made from the layout, with its additions."""
    layout = load_layout()
    ids = {t.name: f"tbl{i:014d}" for i, t in enumerate(layout)}
    tables: list[dict[str, Any]] = []
    for t in layout:
        fields: list[dict[str, Any]] = []
        for j, f in enumerate(t.fields):
            options: dict[str, Any] = copy.deepcopy(f.options)
            if f.type == "multipleRecordLinks":
                options = {
                    "linkedTableId": ids[options["linkedTable"]],
                    "isReversed": False,
                    "prefersSingleRecordLink": False,
                }
            if "choices" in options:
                options["choices"] = [
                    dict(c, id=f"sel{k}", color="blueLight2")
                    for k, c in enumerate(options["choices"])
                ]
            if f.type == "currency":
                options = {"precision": 0, "symbol": "€"}  # any symbol and precision pass
            fields.append(
                {"id": f"fld{j:014d}", "name": f.name, "type": f.type, "options": options}
            )
        fields.append(
            {
                "id": "fldReciprocal00",
                "name": "Receipts",
                "type": "multipleRecordLinks",
                "options": {"linkedTableId": ids["Receipts"]},
            }
        )
        tables.append(
            {
                "id": ids[t.name],
                "name": t.name,
                "primaryFieldId": fields[0]["id"],
                "fields": fields,
                "views": [{"id": "viw1", "name": "Grid", "type": "grid"}],
            }
        )
    tables.append({"id": "tblExtra0000000", "name": "Operators' notes", "fields": []})
    return tables


def table(live: list[dict[str, Any]], name: str) -> dict[str, Any]:
    return next(t for t in live if t["name"] == name)


def field(live: list[dict[str, Any]], table_name: str, name: str) -> dict[str, Any]:
    return next(f for f in table(live, table_name)["fields"] if f["name"] == name)


def test_a_base_made_from_the_layout_passes_despite_read_back_extras() -> None:
    assert layout_problems(live_from_layout(), load_layout()) == []


def test_each_problem_is_named() -> None:
    live = live_from_layout()
    cards = table(live, "Gift Cards")
    cards["fields"] = [f for f in cards["fields"] if f["name"] != "Code Digest"]
    field(live, "Gift Cards", "Balance")["type"] = "number"
    outcome = field(live, "Store Redemptions", "Outcome")
    outcome["options"]["choices"] = [
        c
        for c in outcome["options"]["choices"]
        if c["name"] not in ("Exceeds Order Total", "Not Active")
    ]
    field(live, "Receipts", "Gift Card")["options"]["linkedTableId"] = table(live, "Stores")["id"]
    live.remove(table(live, "Status"))

    problems = layout_problems(live, load_layout())
    assert (
        "Gift Cards: missing field 'Code Digest' (singleLineText) (run `giftbridge base init`)"
        in problems
    )
    assert any(
        p.startswith("Gift Cards.Balance: type is 'number', expected 'currency'") for p in problems
    )
    assert (
        "Store Redemptions.Outcome: missing options 'Exceeds Order Total', 'Not Active' — "
        "add them by hand in Airtable (the API cannot add options)"
    ) in problems
    assert "Receipts.Gift Card: links to 'Stores', expected 'Gift Cards'" in problems
    assert "missing table 'Status' (run `giftbridge base init`)" in problems
    assert len(problems) == 5


def test_init_creates_tables_in_dependency_order_with_currency_from_settings() -> None:
    order = [t.name for t in dependency_order(load_layout())]
    assert order[0] == "Stores"
    for spec in load_layout():
        for target in spec.links:
            assert order.index(target) < order.index(spec.name)
    balance = load_layout()[1].field("Balance")
    assert field_body(balance, {}, "JPY")["options"] == {"precision": 0, "symbol": "¥"}
    assert currency_options("KWD") == {"precision": 3, "symbol": "KWD"}
    link = load_layout()[1].field("Store")
    assert field_body(link, {"Stores": "tblS"}, "USD")["options"] == {"linkedTableId": "tblS"}
    with pytest.raises(ValueError):
        field_body(link, {}, "USD")


@pytest.mark.slow
def test_base_init_on_an_empty_base_then_the_check_passes(
    airtable_factory: Any,
) -> None:
    rig: AirtableRig = airtable_factory(empty=True)
    admin = rig.admin()
    assert len(admin.check()) == len(load_layout())  # one "missing table" each
    report = admin.init()
    assert report.problems == []
    assert report.actions[0] == "created table 'Stores'"
    assert admin.check() == []
    assert admin.init().actions == []  # idempotent: nothing left to create
    schema = rig.base.schema()
    cards = next(t for t in schema["tables"] if t["name"] == "Gift Cards")
    balance = next(f for f in cards["fields"] if f["name"] == "Balance")
    assert balance["options"]["precision"] == 2
    adapter = rig.adapter()
    assert adapter.pending_redemptions(5) == []  # the created base works for the adapter


@pytest.mark.slow
def test_the_live_check_names_a_missing_field_a_wrong_type_and_a_missing_option(
    airtable_factory: Any, layout_json: dict[str, Any]
) -> None:
    damaged = copy.deepcopy(layout_json)
    tables = {t["name"]: t for t in damaged["tables"]}
    cards = tables["Gift Cards"]
    cards["fields"] = [f for f in cards["fields"] if f["name"] != "Code Digest"]
    for f in cards["fields"]:
        if f["name"] == "Last Synced At":
            f["type"], f.pop("options")["dateFormat"] = "singleLineText", None
    for f in tables["Store Redemptions"]["fields"]:
        if f["name"] == "Outcome":
            f["options"]["choices"] = [
                c for c in f["options"]["choices"] if c["name"] != "Exceeds Order Total"
            ]
    rig: AirtableRig = airtable_factory(empty=True)
    rig.sandbox.add_base("appDamagedBase001", layout=damaged)
    admin = rig.admin(airtable_base_id="appDamagedBase001")
    problems = admin.check()
    assert problems == [
        "Gift Cards: missing field 'Code Digest' (singleLineText) (run `giftbridge base init`)",
        "Gift Cards.Last Synced At: type is 'singleLineText', expected 'dateTime' — change it "
        "by hand in Airtable",
        "Store Redemptions.Outcome: missing options 'Exceeds Order Total' — add them by hand in "
        "Airtable (the API cannot add options)",
    ]
    report = admin.init()
    assert report.actions == ["created field 'Gift Cards.Code Digest'"]
    assert len(report.problems) == 2
