"""Field options as the Metadata API takes them on create, and as it reads them back.

Each writer turns the create-form options into the read-back form (ids for select choices,
``format`` strings for dates, ``isReversed``/``prefersSingleRecordLink`` for links) or raises a
422 naming the problem. Unknown option keys are refused (strict: the real API documents the
keys per type and the sandbox does not guess).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sandbox.airtable.errors import AirtableError
from sandbox.airtable.store import new_id

#: Types a client may create through the sandbox; computed types are not modelled.
TEXT_TYPES = frozenset(
    {"singleLineText", "multilineText", "email", "url", "phoneNumber", "richText"}
)
CREATABLE_TYPES = TEXT_TYPES | {
    "number", "currency", "percent", "checkbox", "singleSelect", "multipleSelects", "date",
    "dateTime", "multipleRecordLinks", "multipleAttachments",
}
#: Types Airtable has but the sandbox cannot create (computed or collaborator fields).
KNOWN_UNSUPPORTED_TYPES = frozenset({
    "aiText", "autoNumber", "barcode", "button", "count", "createdBy", "createdTime", "duration",
    "externalSyncSource", "formula", "lastModifiedBy", "lastModifiedTime", "multipleCollaborators",
    "multipleLookupValues", "rating", "rollup", "singleCollaborator", "manualSort",
})

DATE_FORMATS = {
    "local": "l", "friendly": "LL", "us": "M/D/YYYY", "european": "D/M/YYYY", "iso": "YYYY-MM-DD",
}
TIME_FORMATS = {"12hour": "h:mma", "24hour": "HH:mm"}
CHECKBOX_ICONS = frozenset({"check", "xCheckbox", "star", "heart", "thumbsUp", "flag", "dot"})
CHECKBOX_COLORS = frozenset({
    "greenBright", "tealBright", "cyanBright", "blueBright", "purpleBright", "pinkBright",
    "redBright", "orangeBright", "yellowBright", "grayBright",
})
CHOICE_COLORS = (
    "blueLight2", "cyanLight2", "tealLight2", "greenLight2", "yellowLight2", "orangeLight2",
    "redLight2", "pinkLight2", "purpleLight2", "grayLight2",
)


def bad_options(field_name: str, why: str) -> AirtableError:
    return AirtableError(
        422, "INVALID_FIELD_TYPE_OPTIONS_FOR_CREATE",
        f'Invalid options for field "{field_name}": {why}',
    )


def _keys(name: str, options: dict[str, Any], required: set[str], optional: set[str]) -> None:
    missing = required - options.keys()
    extra = options.keys() - required - optional
    if missing:
        raise bad_options(name, f"missing {sorted(missing)}")
    if extra:
        raise bad_options(name, f"unknown option(s) {sorted(extra)}")


def _date_format(name: str, value: Any) -> dict[str, str]:
    if not isinstance(value, dict) or value.get("name") not in DATE_FORMATS:
        raise bad_options(name, f"dateFormat.name must be one of {sorted(DATE_FORMATS)}")
    _keys(name, value, {"name"}, {"format"})
    expected = DATE_FORMATS[value["name"]]
    if value.get("format", expected) != expected:
        raise bad_options(name, f"dateFormat.format for {value['name']!r} is {expected!r}")
    return {"name": value["name"], "format": expected}


def _precision(name: str, options: dict[str, Any], top: int) -> int:
    precision = options.get("precision")
    if isinstance(precision, bool) or not isinstance(precision, int) or not 0 <= precision <= top:
        raise bad_options(name, f"precision must be an integer from 0 to {top}")
    return precision


def _numeric(top: int) -> Callable[[str, dict[str, Any]], dict[str, Any]]:
    def build(name: str, options: dict[str, Any]) -> dict[str, Any]:
        _keys(name, options, {"precision"}, set())
        return {"precision": _precision(name, options, top)}
    return build


def _currency(name: str, options: dict[str, Any]) -> dict[str, Any]:
    _keys(name, options, {"precision", "symbol"}, set())
    symbol = options["symbol"]
    if not isinstance(symbol, str) or not symbol:
        raise bad_options(name, "symbol must be a non-empty string")
    return {"precision": _precision(name, options, 7), "symbol": symbol}


def _checkbox(name: str, options: dict[str, Any]) -> dict[str, Any]:
    _keys(name, options, {"icon", "color"}, set())
    if options["icon"] not in CHECKBOX_ICONS or options["color"] not in CHECKBOX_COLORS:
        raise bad_options(name, "unknown checkbox icon or color")
    return {"icon": options["icon"], "color": options["color"]}


def _date(name: str, options: dict[str, Any]) -> dict[str, Any]:
    _keys(name, options, {"dateFormat"}, set())
    return {"dateFormat": _date_format(name, options["dateFormat"])}


def _date_time(name: str, options: dict[str, Any]) -> dict[str, Any]:
    _keys(name, options, {"dateFormat", "timeFormat", "timeZone"}, set())
    time_format = options["timeFormat"]
    if not isinstance(time_format, dict) or time_format.get("name") not in TIME_FORMATS:
        raise bad_options(name, f"timeFormat.name must be one of {sorted(TIME_FORMATS)}")
    _keys(name, time_format, {"name"}, {"format"})
    zone = options["timeZone"]
    if not _known_zone(zone):
        raise bad_options(name, f"unknown timeZone {zone!r}")
    return {
        "dateFormat": _date_format(name, options["dateFormat"]),
        "timeFormat": {"name": time_format["name"], "format": TIME_FORMATS[time_format["name"]]},
        "timeZone": zone,
    }


def _known_zone(zone: Any) -> bool:
    if zone in ("utc", "client"):
        return True
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        return False
    return True


def _choices(name: str, options: dict[str, Any]) -> dict[str, Any]:
    _keys(name, options, {"choices"}, set())
    choices = options["choices"]
    if not isinstance(choices, list):
        raise bad_options(name, "choices must be a list")
    seen: set[str] = set()
    result = []
    for index, choice in enumerate(choices):
        if not isinstance(choice, dict) or not isinstance(choice.get("name"), str):
            raise bad_options(name, "each choice needs a string name")
        _keys(name, choice, {"name"}, {"color"})
        if not choice["name"] or choice["name"] in seen:
            raise bad_options(name, f"empty or duplicate choice {choice['name']!r}")
        seen.add(choice["name"])
        color = choice.get("color", CHOICE_COLORS[index % len(CHOICE_COLORS)])
        result.append({"id": new_id("sel"), "name": choice["name"], "color": color})
    return {"choices": result}


def _attachments(name: str, options: dict[str, Any]) -> dict[str, Any]:
    _keys(name, options, set(), set())
    return {"isReversed": False}


def _links(name: str, options: dict[str, Any]) -> dict[str, Any]:
    # The inverse field and the linked table's existence are settled by the caller.
    _keys(name, options, {"linkedTableId"}, {"viewIdForRecordSelection"})
    if not isinstance(options["linkedTableId"], str):
        raise bad_options(name, "linkedTableId must be a table id")
    result: dict[str, Any] = {
        "linkedTableId": options["linkedTableId"],
        "isReversed": False,
        "prefersSingleRecordLink": False,
    }
    if "viewIdForRecordSelection" in options:
        result["viewIdForRecordSelection"] = options["viewIdForRecordSelection"]
    return result


_BUILDERS: dict[str, Callable[[str, dict[str, Any]], dict[str, Any]]] = {
    "number": _numeric(8),
    "percent": _numeric(8),
    "currency": _currency,
    "checkbox": _checkbox,
    "date": _date,
    "dateTime": _date_time,
    "singleSelect": _choices,
    "multipleSelects": _choices,
    "multipleAttachments": _attachments,
    "multipleRecordLinks": _links,
}


def read_back_options(name: str, type_: str, options: Any) -> dict[str, Any] | None:
    """Validate create-form options for ``type_`` and return the read-back form."""
    if type_ not in CREATABLE_TYPES:
        if type_ in KNOWN_UNSUPPORTED_TYPES:
            raise AirtableError(
                422, "UNSUPPORTED_FIELD_TYPE_FOR_CREATE",
                f'Field "{name}": the sandbox cannot create {type_} fields',
            )
        raise AirtableError(422, "INVALID_FIELD_TYPE", f'Field "{name}": unknown type {type_!r}')
    if options is None:
        options = {}
    if not isinstance(options, dict):
        raise bad_options(name, "options must be an object")
    builder = _BUILDERS.get(type_)
    if builder is None:
        if options:
            raise bad_options(name, f"{type_} fields take no options")
        return None
    return builder(name, options)


def zone_of(options: dict[str, Any] | None) -> ZoneInfo:
    """The zone a dateTime field reads naive input in (``utc`` and ``client`` mean UTC here)."""
    zone = (options or {}).get("timeZone", "utc")
    return ZoneInfo("UTC") if zone in ("utc", "client") else ZoneInfo(zone)
