"""Create Event bodies: the pruned JSON schema, the rules the spec states in prose, and
JSON:API error documents whose ``source.pointer`` names the offending path."""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, datetime, timedelta
from functools import cache
from importlib import resources
from typing import Any

from aiohttp import web
from jsonschema import Draft202012Validator, ValidationError

JSON_API = "application/vnd.api+json"
MAX_STRING_BYTES = 100 * 1024
_IDENTIFIERS = ("email", "phone_number", "external_id", "anonymous_id", "_kx")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_E164 = re.compile(r"\+[1-9]\d{1,14}")
_CURRENCY = re.compile(r"[A-Z]{3}")
_EARLIEST = datetime(1990, 1, 1, tzinfo=UTC)
_PROFILE = "/data/attributes/profile/data"


def error_entry(
    status: int, code: str, title: str, detail: str, *, pointer: str | None = None,
    parameter: str | None = None, header: str | None = None,
) -> dict[str, Any]:
    source: dict[str, str] = {}
    if pointer is not None:
        source["pointer"] = pointer
    if parameter is not None:
        source["parameter"] = parameter
    if header is not None:
        source["header"] = header
    entry: dict[str, Any] = {"id": str(uuid.uuid4()), "status": status, "code": code,
                             "title": title, "detail": detail}
    if source:
        entry["source"] = source
    entry.update({"links": {}, "meta": {}})
    return entry


class KlaviyoError(Exception):
    def __init__(self, status: int, errors: list[dict[str, Any]]) -> None:
        super().__init__(f"{status}: {errors[0]['detail']}")
        self.status = status
        self.errors = errors

    @classmethod
    def single(cls, status: int, code: str, title: str, detail: str, **source: str) -> KlaviyoError:
        return cls(status, [error_entry(status, code, title, detail, **source)])

    def response(self, headers: dict[str, str] | None = None) -> web.Response:
        return web.Response(status=self.status, text=json.dumps({"errors": self.errors}),
                            content_type=JSON_API, headers=headers)


def invalid(detail: str, pointer: str) -> KlaviyoError:
    return KlaviyoError.single(400, "invalid", "Invalid input.", detail, pointer=pointer)


@cache
def event_validator() -> Draft202012Validator:
    text = resources.files("sandbox").joinpath("data/klaviyo-event-create.schema.json")
    return Draft202012Validator(json.loads(text.read_text("utf-8")))


def _pointer(path: list[Any]) -> str:
    parts = [str(p).replace("~", "~0").replace("/", "~1") for p in path]
    return "/" + "/".join(parts) if parts else "/"


def _resource(path: list[str]) -> str:
    for name in ("metric", "profile"):
        if name in path:
            return name
    return "event"


def _describe(error: ValidationError) -> tuple[str, str]:
    """(detail, pointer) in Klaviyo's wording where it has one."""
    path = [str(p) for p in error.absolute_path]
    if error.validator == "required" and isinstance(error.instance, dict):
        required: list[str] = list(error.validator_value)  # type: ignore[arg-type]
        missing = next(k for k in required if k not in error.instance)
        detail = f"'{missing}' is a required field for the resource '{_resource(path)}'."
        return detail, _pointer([*path, missing])
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        known = error.schema.get("properties", {}) if isinstance(error.schema, dict) else {}
        extra = sorted(set(error.instance) - set(known))[0]
        detail = f"'{extra}' is not a valid field for the resource '{_resource(path)}'."
        return detail, _pointer([*path, extra])
    return error.message, _pointer(path)


def validate_event(body: Any) -> None:
    """Raise a 400 KlaviyoError listing what is wrong with a Create Event body."""
    errors = sorted(event_validator().iter_errors(body), key=lambda e: [str(p) for p in e.path])
    if errors:
        entries = []
        for error in errors[:10]:
            detail, pointer = _describe(error)
            entries.append(error_entry(400, "invalid", "Invalid input.", detail, pointer=pointer))
        raise KlaviyoError(400, entries)
    attributes = body["data"]["attributes"]
    _check_profile(attributes["profile"]["data"])
    _check_time(attributes.get("time"))
    currency = attributes.get("value_currency")
    if currency is not None and not _CURRENCY.fullmatch(currency):
        raise invalid("value_currency must be an ISO 4217 code.", "/data/attributes/value_currency")
    _check_strings(attributes["properties"], "/data/attributes/properties")


def _check_profile(profile: dict[str, Any]) -> None:
    attributes = profile["attributes"]
    if not profile.get("id") and not any(attributes.get(k) for k in _IDENTIFIERS):
        raise invalid(
            "One of id, email, phone_number, external_id, anonymous_id or _kx is required "
            "to identify a profile.", f"{_PROFILE}/attributes",
        )
    email = attributes.get("email")
    if email is not None and not _EMAIL.fullmatch(email):
        raise invalid(f"Invalid email address: {email!r}.", f"{_PROFILE}/attributes/email")
    phone = attributes.get("phone_number")
    if phone is not None and not _E164.fullmatch(phone):
        raise invalid("Invalid phone number format (E.164).", f"{_PROFILE}/attributes/phone_number")


def parse_event_time(raw: str) -> datetime:
    moment = datetime.fromisoformat(raw)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _check_time(raw: str | None) -> None:
    if raw is None:
        return
    try:
        moment = parse_event_time(raw)
    except ValueError:
        raise invalid(f"'{raw}' is not a valid datetime.", "/data/attributes/time") from None
    if moment < _EARLIEST or moment > datetime.now(UTC) + timedelta(days=365):
        raise invalid("The time must be after 1990 and at most one year in the future.",
                      "/data/attributes/time")


def _check_strings(value: Any, pointer: str) -> None:
    if isinstance(value, str) and len(value.encode("utf-8")) > MAX_STRING_BYTES:
        raise invalid("Strings in event properties are limited to 100 KB.", pointer)
    if isinstance(value, dict):
        for key, item in value.items():
            _check_strings(item, f"{pointer}/{_pointer([key])[1:]}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check_strings(item, f"{pointer}/{index}")
