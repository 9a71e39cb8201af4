from __future__ import annotations

import json
from importlib import resources

from config import layout


def test_constants_cover_every_table_and_field_of_the_json() -> None:
    data = json.loads(resources.files("config").joinpath("airtable-base.json").read_text())
    in_json = {(t["name"], f["name"]) for t in data["tables"] for f in t["fields"]}
    in_code = {
        (cls.TABLE, value)
        for cls in layout.TABLES
        for name, value in vars(cls).items()
        if name.isupper() and name != "TABLE"
    }
    assert in_code == in_json
    assert [cls.TABLE for cls in layout.TABLES] == [t["name"] for t in data["tables"]]


def test_the_shipped_layout_equals_the_design_contract() -> None:
    ours = resources.files("config").joinpath("airtable-base.json").read_text()
    assert json.loads(ours)["tables"][0]["name"] == "Stores"
    specs = layout.load_layout()
    assert layout.table_spec("Gift Cards").field("Status").choices[0] == "Pending"
    assert layout.table_spec("Receipts").links == ("Gift Cards", "Stores")
    assert specs[0].fields[0].name == "Name"  # primary fields come first
