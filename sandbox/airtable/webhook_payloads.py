"""One transaction -> one webhook payload, as the list-payloads endpoint returns it.

Shape (https://airtable.com/developers/web/api/model/webhooks-payload)::

    {"timestamp": "…Z", "baseTransactionNumber": 7, "payloadFormat": "v0",
     "actionMetadata": {"source": "formSubmission", "sourceMetadata": {...}},
     "changedTablesById": {"tbl…": {"createdRecordsById": {"rec…": {"createdTime": "…",
                                                                    "cellValuesByFieldId": {}}},
                                    "changedRecordsById": {"rec…": {"current": {
                                        "cellValuesByFieldId": {...}}}},
                                    "destroyedRecordIds": ["rec…"]}}}

The sandbox reports record data (``tableData``) only: schema changes made through the metadata
routes produce no payloads, and ``previous`` cell values are not kept.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sandbox.airtable.changes import Journal
from sandbox.airtable.render import render_cell
from sandbox.airtable.store import Base, Record, Table, iso_millis

#: The ``sourceMetadata`` each source carries (a sketch of the real one).
_SOURCE_METADATA: dict[str, dict[str, Any]] = {
    "formSubmission": {"viewId": "viwSandboxForm000"},
    "client": {"user": {"id": "usrGiftbridgeSbx0", "permissionLevel": "create"}},
    "publicApi": {"user": {"id": "usrGiftbridgeSbx0", "permissionLevel": "create"}},
}


def source_applies(spec: dict[str, Any], source: str) -> bool:
    filters = spec["options"]["filters"]
    sources = filters.get("fromSources")
    return "tableData" in filters["dataTypes"] and (not sources or source in sources)


def build_payload(
    base: Base,
    spec: dict[str, Any],
    changes: Journal,
    *,
    source: str,
    transaction: int,
    now: datetime,
) -> dict[str, Any] | None:
    """The payload this webhook gets for ``changes``, or None when its filters leave nothing."""
    if not source_applies(spec, source):
        return None
    filters = spec["options"]["filters"]
    scope = filters.get("recordChangeScope")
    tables: dict[str, Any] = {}
    for table_id in changes.table_ids():
        table = base.table(table_id)
        if table is None or (scope is not None and table_id != scope):
            continue
        described = _describe_table(base, table, changes, filters)
        if described:
            tables[table_id] = described
    if not tables:
        return None
    return {
        "timestamp": iso_millis(now),
        "baseTransactionNumber": transaction,
        "payloadFormat": "v0",
        "actionMetadata": {"source": source, "sourceMetadata": _SOURCE_METADATA.get(source, {})},
        "changedTablesById": tables,
    }


def _describe_table(
    base: Base, table: Table, changes: Journal, filters: dict[str, Any]
) -> dict[str, Any]:
    kinds = set(filters.get("changeTypes") or ("add", "remove", "update"))
    watched = set(filters["watchDataInFieldIds"]) if "watchDataInFieldIds" in filters else None
    described: dict[str, Any] = {}
    if "add" in kinds:
        created = {
            record_id: {
                "createdTime": iso_millis(record.created),
                "cellValuesByFieldId": _cells(base, record, None),
            }
            for record_id in changes.created.get(table.id, {})
            if (record := table.records.get(record_id)) is not None
            and (watched is None or watched & record.cells.keys())
        }
        if created:
            described["createdRecordsById"] = created
    if "update" in kinds:
        changed = {
            record_id: {"current": {"cellValuesByFieldId": _cells(base, record, fields)}}
            for record_id, fields in changes.changed.get(table.id, {}).items()
            if (record := table.records.get(record_id)) is not None
            and (watched is None or watched & fields)
        }
        if changed:
            described["changedRecordsById"] = changed
    if "remove" in kinds and watched is None:
        destroyed = list(changes.destroyed.get(table.id, {}))
        if destroyed:
            described["destroyedRecordIds"] = destroyed
    return described


def _cells(base: Base, record: Record, fields: set[str] | None) -> dict[str, Any]:
    return {
        field_id: render_cell("", base, value)
        for field_id, value in record.cells.items()
        if fields is None or field_id in fields
    }
