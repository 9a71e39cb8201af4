"""The optional JSON snapshot: written atomically while running and on shutdown, reloaded."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from sandbox.airtable import AirtableSandbox, make_airtable_app
from sandbox.server import ServiceThread
from tests.sandbox.conftest import BASE_ID, TOKEN


def _wait_for(path: Path, predicate: Any, timeout: float = 3.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and predicate(json.loads(path.read_text("utf-8"))):
            return True
        time.sleep(0.05)
    return False


def test_snapshot_survives_a_restart(tmp_path: Path, layout: dict[str, Any]) -> None:
    path = tmp_path / "state" / "airtable.json"
    first = AirtableSandbox(TOKEN, BASE_ID, layout=layout, snapshot_path=path)
    with ServiceThread(lambda: make_airtable_app(first)):
        store = first.base().create("Stores", [{"Name": "Main St", "Active": True}])[0]
        first.base().create("Gift Cards", [{"Masked Code": "x", "Store": [store["id"]]}])
        assert _wait_for(
            path, lambda data: any(t["records"] for b in data["bases"] for t in b["tables"])
        )
        first.base().update("Stores", store["id"], {"Location Code": "MS1"})
    # shutdown wrote the last change without waiting for the next tick
    second = AirtableSandbox(TOKEN, BASE_ID, snapshot_path=path)
    assert second.base().record(store["id"]) == first.base().record(store["id"])
    assert second.base().schema() == first.base().schema()
    assert second.base().records("Stores")[0]["fields"]["Location Code"] == "MS1"
    assert [p.name for p in path.parent.iterdir()] == ["airtable.json"]  # no temp files left


def test_no_snapshot_without_a_path(tmp_path: Path) -> None:
    sandbox = AirtableSandbox(TOKEN, BASE_ID)
    assert sandbox.save_snapshot() is False
    assert list(tmp_path.iterdir()) == []


def test_a_snapshot_of_an_older_layout_gains_the_new_fields(
    tmp_path: Path, layout: dict[str, Any]
) -> None:
    path = tmp_path / "airtable.json"
    older = json.loads(json.dumps(layout))
    for table in older["tables"]:
        if table["name"] == "Balance Checks":
            table["fields"] = [f for f in table["fields"] if f["name"] != "Code Digest"]
    first = AirtableSandbox(TOKEN, BASE_ID, layout=older, snapshot_path=path)
    first.base().create("Balance Checks", [{"Code": "x"}])
    assert first.save_snapshot()
    second = AirtableSandbox(TOKEN, BASE_ID, layout=layout, snapshot_path=path)
    names = [f["name"] for f in _table(second, "Balance Checks")["fields"]]
    assert "Code Digest" in names
    assert second.base().records("Balance Checks")[0]["fields"] == {"Code": "x"}


def _table(sandbox: AirtableSandbox, name: str) -> dict[str, Any]:
    tables: list[dict[str, Any]] = sandbox.base().schema()["tables"]
    return next(t for t in tables if t["name"] == name)
