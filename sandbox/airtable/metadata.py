"""The Metadata API: create tables and fields, read the schema back, apply a layout file."""

from __future__ import annotations

import json
from collections.abc import Mapping
from importlib import resources
from typing import Any

from sandbox.airtable.errors import AirtableError, invalid_request
from sandbox.airtable.field_options import read_back_options
from sandbox.airtable.store import Base, Field, Table, View, new_id

#: Types Airtable refuses as a table's primary field.
_NOT_PRIMARY = frozenset({"multipleRecordLinks", "multipleAttachments", "checkbox"})


def load_layout_json() -> dict[str, Any]:
    """The base layout shipped in the ``config`` package (``config/airtable-base.json``)."""
    text = resources.files("config").joinpath("airtable-base.json").read_text("utf-8")
    layout: dict[str, Any] = json.loads(text)
    return layout


def render_field(item: Field) -> dict[str, Any]:
    data: dict[str, Any] = {"type": item.type, "id": item.id, "name": item.name}
    if item.description:
        data["description"] = item.description
    if item.options is not None:
        data["options"] = item.options
    return data


def render_table(table: Table, *, visible_field_ids: bool = False) -> dict[str, Any]:
    views = []
    for view in table.views:
        rendered: dict[str, Any] = {"id": view.id, "name": view.name, "type": view.type}
        if visible_field_ids:
            rendered["visibleFieldIds"] = [f.id for f in table.fields]
        views.append(rendered)
    data: dict[str, Any] = {"id": table.id, "name": table.name, "primaryFieldId": table.primary.id}
    if table.description:
        data["description"] = table.description
    data["fields"] = [render_field(f) for f in table.fields]
    data["views"] = views
    return data


def render_schema(base: Base, *, visible_field_ids: bool = False) -> dict[str, Any]:
    return {"tables": [render_table(t, visible_field_ids=visible_field_ids) for t in base.tables]}


def _text(body: Mapping[str, Any], key: str, what: str, *, limit: int) -> str | None:
    value = body.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > limit:
        raise invalid_request(f"{what} must be a string of at most {limit} characters")
    return value


def _new_field(base: Base, table: Table, spec: Any) -> Field:
    """Validate one create-form field spec against ``table`` (which it does not join yet)."""
    if not isinstance(spec, dict):
        raise invalid_request("each field must be an object")
    extra = spec.keys() - {"name", "type", "description", "options"}
    if extra:
        raise invalid_request(f"unknown field keys {sorted(extra)}")
    name = spec.get("name")
    if not isinstance(name, str) or not name.strip() or table.has_field_name(name):
        raise AirtableError(
            422, "DUPLICATE_OR_EMPTY_FIELD_NAME", f"Field name {name!r} is empty or already used"
        )
    type_ = spec.get("type")
    if not isinstance(type_, str):
        raise invalid_request(f'field "{name}" needs a string type')
    options = read_back_options(name, type_, spec.get("options"))
    if options is not None and type_ == "multipleRecordLinks":
        target = base.table(options["linkedTableId"])
        if target is None or target.id != options["linkedTableId"]:
            raise AirtableError(
                422, "INVALID_FIELD_TYPE_OPTIONS_FOR_CREATE",
                f'Field "{name}": linkedTableId {options["linkedTableId"]!r} is not a table here',
            )
    description = _text(spec, "description", "description", limit=20_000)
    return Field(new_id("fld"), name, type_, options, description)


def _add_inverse_link(base: Base, table: Table, link: Field) -> None:
    """Airtable adds the reciprocal link field to the linked table, named after ``table``."""
    options = link.options or {}
    target = base.table_by_id(options["linkedTableId"])
    if target is table:
        return  # a self-link has no reciprocal field
    name, counter = table.name, 2
    while target.has_field_name(name):
        name, counter = f"{table.name} {counter}", counter + 1
    inverse = Field(new_id("fld"), name, "multipleRecordLinks", {
        "linkedTableId": table.id, "isReversed": False, "prefersSingleRecordLink": False,
        "inverseLinkFieldId": link.id,
    })
    options["inverseLinkFieldId"] = inverse.id
    target.fields.append(inverse)


def create_table(base: Base, body: Any) -> Table:
    if not isinstance(body, dict):
        raise invalid_request("body must be an object")
    extra = body.keys() - {"name", "description", "fields"}
    if extra:
        raise invalid_request(f"unknown keys {sorted(extra)}")
    name = body.get("name")
    if not isinstance(name, str) or not name.strip():
        raise invalid_request("table name must be a non-empty string")
    if any(t.name.casefold() == name.casefold() for t in base.tables):
        raise AirtableError(422, "DUPLICATE_TABLE_NAME", f"Table name {name!r} is already used")
    specs = body.get("fields")
    if not isinstance(specs, list) or not specs:
        raise invalid_request("a table needs a non-empty list of fields")
    table = Table(new_id("tbl"), name, [], [View(new_id("viw"), "Grid view")],
                  _text(body, "description", "description", limit=20_000))
    for spec in specs:
        table.fields.append(_new_field(base, table, spec))
    if table.primary.type in _NOT_PRIMARY:
        raise AirtableError(
            422, "INVALID_FIELD_TYPE_FOR_PRIMARY",
            f"{table.primary.type} cannot be a table's primary field",
        )
    base.tables.append(table)
    for item in table.fields:
        if item.type == "multipleRecordLinks":
            _add_inverse_link(base, table, item)
    return table


def create_field(base: Base, table: Table, body: Any) -> Field:
    item = _new_field(base, table, body)
    table.fields.append(item)
    if item.type == "multipleRecordLinks":
        _add_inverse_link(base, table, item)
    return item


def apply_layout(base: Base, layout: Mapping[str, Any]) -> None:
    """Create every table of a layout file (``linkedTable`` names become ``linkedTableId``).

    Tables are created in file order; a link to a table that comes later is added as a field
    once that table exists, as ``giftbridge base init`` has to do.
    """
    deferred: list[tuple[Table, dict[str, Any]]] = []
    specs = list(layout["tables"])
    names = {spec["name"] for spec in specs}
    for spec in specs:
        now, later = [], []
        for field_spec in spec["fields"]:
            target = field_spec.get("options", {}).get("linkedTable")
            if target is None:
                now.append(dict(field_spec))
            elif base.table(target) is not None:
                now.append(_resolve_link(base, field_spec))
            elif target in names:
                later.append(field_spec)
            else:
                raise ValueError(f"layout links to unknown table {target!r}")
        body = {"name": spec["name"], "fields": now}
        if spec.get("description"):
            body["description"] = spec["description"]
        table = create_table(base, body)
        deferred.extend((table, f) for f in later)
    for table, field_spec in deferred:
        create_field(base, table, _resolve_link(base, field_spec))


def add_missing_fields(base: Base, layout: Mapping[str, Any]) -> list[str]:
    """Fields of the layout that a saved base lacks (a snapshot from an older layout), added
    the way ``giftbridge base init`` adds them; returns ``table.field`` for each."""
    added = []
    for spec in layout["tables"]:
        table = base.table(spec["name"])
        if table is None:
            continue
        present = {f.name for f in table.fields}
        for field_spec in spec["fields"]:
            if field_spec["name"] in present:
                continue
            linked = field_spec.get("options", {}).get("linkedTable")
            body = _resolve_link(base, field_spec) if linked else dict(field_spec)
            create_field(base, table, body)
            added.append(f"{spec['name']}.{field_spec['name']}")
    return added


def _resolve_link(base: Base, field_spec: Mapping[str, Any]) -> dict[str, Any]:
    options = dict(field_spec["options"])
    target = base.table(options.pop("linkedTable"))
    if target is None:
        raise ValueError(f"layout field {field_spec['name']!r} links to a missing table")
    options["linkedTableId"] = target.id
    return {**field_spec, "options": options}
