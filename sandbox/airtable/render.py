"""Records as the API returns them (``cellFormat=json``)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from sandbox.airtable.store import Base, Record, Table, iso_millis


def attachment_url(origin: str, base_id: str, attachment_id: str, filename: str) -> str:
    return f"{origin}/_sandbox/attachments/{base_id}/{attachment_id}/{quote(filename)}"


def render_cell(origin: str, base: Base, value: Any) -> Any:
    """Attachments get a URL on the host the client used; other cells are stored as sent."""
    if isinstance(value, list) and value and isinstance(value[0], dict):
        rendered = []
        for item in value:
            copy = dict(item)
            copy.setdefault("url", attachment_url(origin, base.id, item["id"], item["filename"]))
            rendered.append(copy)
        return rendered
    if isinstance(value, list):
        return list(value)
    return value


def render_record(
    origin: str,
    base: Base,
    table: Table,
    record: Record,
    *,
    by_field_id: bool = False,
    only: set[str] | None = None,
) -> dict[str, Any]:
    """``only`` restricts the output to those field ids (the ``fields[]`` parameter)."""
    fields: dict[str, Any] = {}
    for item in table.fields:
        if item.id not in record.cells or (only is not None and item.id not in only):
            continue
        fields[item.id if by_field_id else item.name] = render_cell(
            origin, base, record.cells[item.id]
        )
    return {"id": record.id, "createdTime": iso_millis(record.created), "fields": fields}
