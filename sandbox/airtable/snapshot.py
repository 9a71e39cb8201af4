"""Bases to and from a JSON snapshot (``giftbridge sandbox`` keeps its data in ``STATE_DIR``)."""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Any

from sandbox.airtable.store import Attachment, Base, Field, Record, Table, View

SNAPSHOT_VERSION = 1


def dump_bases(bases: list[Base]) -> dict[str, Any]:
    return {"version": SNAPSHOT_VERSION, "bases": [_dump_base(b) for b in bases]}


def _dump_base(base: Base) -> dict[str, Any]:
    return {
        "id": base.id,
        "name": base.name,
        "tables": [_dump_table(t) for t in base.tables],
        "attachments": [
            {"id": a.id, "filename": a.filename, "type": a.type,
             "content": base64.b64encode(a.content).decode("ascii")}
            for a in base.attachments.values()
        ],
    }


def _dump_table(table: Table) -> dict[str, Any]:
    return {
        "id": table.id,
        "name": table.name,
        "description": table.description,
        "fields": [
            {"id": f.id, "name": f.name, "type": f.type, "options": f.options,
             "description": f.description}
            for f in table.fields
        ],
        "views": [{"id": v.id, "name": v.name, "type": v.type} for v in table.views],
        "records": [
            {"id": r.id, "created": r.created.isoformat(), "cells": r.cells,
             "modified": {k: v.isoformat() for k, v in r.modified.items()}}
            for r in table.records.values()
        ],
    }


def load_bases(data: dict[str, Any]) -> list[Base]:
    if data.get("version") != SNAPSHOT_VERSION:
        raise ValueError(f"unsupported sandbox snapshot version {data.get('version')!r}")
    return [_load_base(b) for b in data["bases"]]


def _load_base(data: dict[str, Any]) -> Base:
    base = Base(data["id"], data["name"], [_load_table(t) for t in data["tables"]])
    for item in data["attachments"]:
        base.attachments[item["id"]] = Attachment(
            item["id"], item["filename"], item["type"], base64.b64decode(item["content"])
        )
    return base


def _load_table(data: dict[str, Any]) -> Table:
    table = Table(
        data["id"], data["name"],
        [Field(f["id"], f["name"], f["type"], f["options"], f["description"])
         for f in data["fields"]],
        [View(v["id"], v["name"], v["type"]) for v in data["views"]],
        data["description"],
    )
    for item in data["records"]:
        table.records[item["id"]] = Record(
            item["id"], datetime.fromisoformat(item["created"]), item["cells"],
            {k: datetime.fromisoformat(v) for k, v in item["modified"].items()},
        )
    return table
