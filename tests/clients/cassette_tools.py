"""Shared by the cassette recorder and the replay test: where cassettes live, the fixed loopback
URLs they were recorded against, and the scrubbers (no token, no plaintext code, no real email)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import vcr

CASSETTES = Path(__file__).resolve().parent.parent / "cassettes"
AIRTABLE_URL = "http://127.0.0.1:48701"
SHOPIFY_URL = "http://127.0.0.1:48702/admin/api/2025-10/graphql.json"
KLAVIYO_URL = "http://127.0.0.1:48703"
MASK = "\u2022" * 8
SECRET_HEADERS = ["authorization", "x-shopify-access-token"]
# JSON keys whose values may be a plaintext code: Klaviyo's "code" property, Airtable's "Code"
# cell (what staff typed), Shopify's "code" input and the code search's "query" variable.
_CODE_KEYS = {"code", "Code", "giftCardCode"}


def _mask(value: Any) -> Any:
    if isinstance(value, str) and len(value) >= 4:
        return MASK + value[-4:].upper()
    return value


def scrub_json(data: Any) -> Any:
    if isinstance(data, dict):
        return {k: _mask(v) if k in _CODE_KEYS else scrub_json(v) for k, v in data.items()}
    if isinstance(data, list):
        return [scrub_json(v) for v in data]
    return data


def scrub_text(text: str) -> str:
    try:
        data = json.loads(text)
    except ValueError:
        return text
    return json.dumps(scrub_json(data), ensure_ascii=False)


def _scrub_request(request: Any) -> Any:
    body = request.body
    if isinstance(body, bytes):
        request.body = scrub_text(body.decode("utf-8")).encode("utf-8")
    elif isinstance(body, str):
        request.body = scrub_text(body)
    elif isinstance(body, dict | list):  # aiohttp's json= body, kept as data by vcrpy
        request.body = scrub_json(body)
    return request


def _scrub_response(response: dict[str, Any]) -> dict[str, Any]:
    body = response.get("body", {})
    raw = body.get("string")
    if isinstance(raw, bytes) and raw:
        body["string"] = scrub_text(raw.decode("utf-8")).encode("utf-8")
    elif isinstance(raw, str) and raw:
        body["string"] = scrub_text(raw)
    return response


def recorder(record_mode: str) -> vcr.VCR:
    return vcr.VCR(
        cassette_library_dir=str(CASSETTES),
        record_mode=record_mode,
        filter_headers=SECRET_HEADERS,
        before_record_request=_scrub_request,
        before_record_response=_scrub_response,
        decode_compressed_response=True,
    )
