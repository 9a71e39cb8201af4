"""A webhook's ``specification`` and ``notificationUrl``, validated as strictly as we can tell.

Shape (https://airtable.com/developers/web/api/model/webhooks-specification)::

    {"options": {"filters": {"dataTypes": [...], "recordChangeScope": "tbl…",
                             "changeTypes": [...], "fromSources": [...],
                             "sourceOptions": {...}, "watchDataInFieldIds": [...],
                             "watchSchemasOfFieldIds": [...]},
                 "includes": {"includeCellValuesInFieldIds": [...] | "all",
                              "includePreviousCellValues": bool,
                              "includePreviousFieldDefinitions": bool}}}

Unknown keys and values are refused (422 ``INVALID_REQUEST_UNKNOWN``), so code that passes here
does not rely on a leniency the real API may not have.
"""

from __future__ import annotations

import ipaddress
from typing import Any
from urllib.parse import urlsplit

from sandbox.airtable.errors import AirtableError, invalid_request
from sandbox.airtable.store import Base

DATA_TYPES = frozenset({"tableData", "tableFields", "tableMetadata"})
CHANGE_TYPES = frozenset({"add", "remove", "update"})
SOURCES = frozenset({
    "client", "publicApi", "formSubmission", "formPageSubmission", "automation", "system",
    "sync", "anonymousUser", "unknown",
})
_FILTER_KEYS = frozenset({
    "dataTypes", "recordChangeScope", "changeTypes", "fromSources", "sourceOptions",
    "watchDataInFieldIds", "watchSchemasOfFieldIds",
})
_INCLUDE_KEYS = frozenset({
    "includeCellValuesInFieldIds", "includePreviousCellValues", "includePreviousFieldDefinitions",
})


def _string_list(value: Any, name: str, allowed: frozenset[str] | None = None) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise invalid_request(f"{name} must be an array of strings")
    if allowed is not None and not set(value) <= allowed:
        raise invalid_request(f"{name} takes only {sorted(allowed)}; got {sorted(set(value))}")
    return list(value)


def parse_specification(spec: Any, base: Base) -> dict[str, Any]:
    """The specification as stored and listed back (only the keys that were given)."""
    if not isinstance(spec, dict) or spec.keys() != {"options"}:
        raise invalid_request("specification must be {\"options\": {...}}")
    options = spec["options"]
    if not isinstance(options, dict) or not {"filters"} <= options.keys() <= {
        "filters", "includes"
    }:
        raise invalid_request("specification.options takes filters (required) and includes")
    result: dict[str, Any] = {"options": {"filters": _parse_filters(options["filters"], base)}}
    if "includes" in options:
        result["options"]["includes"] = _parse_includes(options["includes"])
    return result


def _parse_filters(filters: Any, base: Base) -> dict[str, Any]:
    if not isinstance(filters, dict) or not filters.keys() <= _FILTER_KEYS:
        raise invalid_request(f"specification.options.filters takes only {sorted(_FILTER_KEYS)}")
    if "dataTypes" not in filters:
        raise invalid_request("specification.options.filters.dataTypes is required")
    data_types = _string_list(filters["dataTypes"], "dataTypes", DATA_TYPES)
    if not data_types:
        raise invalid_request("dataTypes must name at least one data type")
    parsed: dict[str, Any] = {"dataTypes": data_types}
    scope = filters.get("recordChangeScope")
    if scope is not None:
        if not isinstance(scope, str) or base.table(scope) is None or not scope.startswith("tbl"):
            raise invalid_request("recordChangeScope must be the id of a table in this base")
        parsed["recordChangeScope"] = scope
    for key, allowed in (("changeTypes", CHANGE_TYPES), ("fromSources", SOURCES)):
        if key in filters:
            parsed[key] = _string_list(filters[key], key, allowed)
    for key in ("watchDataInFieldIds", "watchSchemasOfFieldIds"):
        if key in filters:
            parsed[key] = _string_list(filters[key], key)
    if "sourceOptions" in filters:
        if not isinstance(filters["sourceOptions"], dict):
            raise invalid_request("sourceOptions must be an object")
        parsed["sourceOptions"] = filters["sourceOptions"]
    return parsed


def _parse_includes(includes: Any) -> dict[str, Any]:
    if not isinstance(includes, dict) or not includes.keys() <= _INCLUDE_KEYS:
        raise invalid_request(f"specification.options.includes takes only {sorted(_INCLUDE_KEYS)}")
    cells = includes.get("includeCellValuesInFieldIds")
    if cells is not None and cells != "all":
        _string_list(cells, "includeCellValuesInFieldIds")
    for key in ("includePreviousCellValues", "includePreviousFieldDefinitions"):
        if key in includes and not isinstance(includes[key], bool):
            raise invalid_request(f"{key} must be a boolean")
    return dict(includes)


def parse_notification_url(value: Any) -> str | None:
    """``https://…``; plain ``http://`` only to a loopback host (the sandbox talks to local
    daemons). Absent or null: a webhook whose payloads are only polled."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise invalid_request("notificationUrl must be a string or null")
    parts = urlsplit(value)
    if parts.scheme == "https" and parts.hostname:
        return value
    if parts.scheme == "http" and parts.hostname and _loopback(parts.hostname):
        return value
    raise AirtableError(
        422, "INVALID_REQUEST_UNKNOWN",
        "notificationUrl must be an https:// URL (the sandbox also takes http:// to loopback)",
    )


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
