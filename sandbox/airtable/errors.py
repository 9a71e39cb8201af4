"""Airtable's error bodies: ``{"error": {"type", "message"}}`` (and the odd bare string)."""

from __future__ import annotations

from typing import Any

from aiohttp import web


class AirtableError(Exception):
    """An API error; ``bare`` renders ``{"error": "<TYPE>"}`` as some real 404s do."""

    def __init__(self, status: int, type_: str, message: str = "", *, bare: bool = False) -> None:
        super().__init__(f"{status} {type_}: {message}")
        self.status = status
        self.type = type_
        self.message = message
        self.bare = bare

    def body(self) -> dict[str, Any]:
        if self.bare:
            return {"error": self.type}
        return {"error": {"type": self.type, "message": self.message}}

    def response(self) -> web.Response:
        return web.json_response(self.body(), status=self.status)


def not_found_route() -> AirtableError:
    return AirtableError(404, "NOT_FOUND", bare=True)


def unknown_field(name: str) -> AirtableError:
    return AirtableError(422, "UNKNOWN_FIELD_NAME", f'Unknown field name: "{name}"')


def invalid_value(field_name: str, why: str = "") -> AirtableError:
    detail = f" ({why})" if why else ""
    return AirtableError(
        422, "INVALID_VALUE_FOR_COLUMN",
        f'Field "{field_name}" cannot accept the provided value{detail}',
    )


def invalid_records(why: str) -> AirtableError:
    return AirtableError(422, "INVALID_RECORDS", why)


def invalid_request(why: str) -> AirtableError:
    return AirtableError(422, "INVALID_REQUEST_UNKNOWN", f"Invalid request: {why}")


def record_not_found(record_id: str) -> AirtableError:
    return AirtableError(404, "MODEL_ID_NOT_FOUND", f"Could not find a record with ID {record_id}")


def bad_formula(why: str) -> AirtableError:
    return AirtableError(
        422, "INVALID_FILTER_BY_FORMULA", f"The formula for filtering records is invalid: {why}"
    )


def rate_limited_body() -> dict[str, Any]:
    return {"errors": [{"error": "RATE_LIMIT_REACHED",
                        "message": "Rate limit exceeded. Please try again later"}]}


def server_error() -> AirtableError:
    return AirtableError(502, "SERVER_ERROR", "Bad gateway (injected by the sandbox)")
