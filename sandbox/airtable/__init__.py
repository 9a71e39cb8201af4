"""A local stand-in for the Airtable Web API (records, metadata, uploads) on loopback.

Usage::

    sandbox = AirtableSandbox(token, base_id, layout=load_layout_json())
    with ServiceThread(lambda: make_airtable_app(sandbox)) as service:
        api = pyairtable.Api(token, endpoint_url=service.url, retry_strategy=None)
"""

from __future__ import annotations

from sandbox.airtable.app import make_airtable_app
from sandbox.airtable.errors import AirtableError
from sandbox.airtable.metadata import load_layout_json
from sandbox.airtable.service import (
    ALL_SCOPES,
    DEFAULT_BASE_ID,
    DEFAULT_TOKEN,
    AirtableSandbox,
    BaseHandle,
)

__all__ = [
    "ALL_SCOPES",
    "DEFAULT_BASE_ID",
    "DEFAULT_TOKEN",
    "AirtableError",
    "AirtableSandbox",
    "BaseHandle",
    "load_layout_json",
    "make_airtable_app",
]
