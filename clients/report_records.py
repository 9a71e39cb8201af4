"""Typed values the report and the status page's summary read (beside :mod:`clients.records`).

The books themselves (:class:`cards.ledger.ReceiptFacts`, :class:`cards.ledger.CardFacts`) are
domain values; what is here is about the base: a request an operator should look at, and the
address of a record in Airtable's web app.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote

from cards.vocab import RequestStatus

AIRTABLE_WEB = "https://airtable.com"


@dataclass(frozen=True, slots=True)
class FlaggedRequest:
    """A request in Needs Attention, or left in Processing past the cut-off (stuck)."""

    table: str  # the request table's name (config.layout)
    record_id: str
    status: RequestStatus
    created_time: datetime
    outcome: str | None = None
    message: str | None = None  # the Result Message (giftbridge writes masked codes only)
    processed_at: datetime | None = None

    @property
    def stuck(self) -> bool:
        return self.status == RequestStatus.PROCESSING


def record_url(base_id: str, table_id: str, record_id: str) -> str:
    """A record in Airtable's web app: ``https://airtable.com/<base>/<table id>/<record>``, the
    form Airtable's own ``Record#url`` gives. Table ids come from the Metadata API."""
    parts = "/".join(quote(p, safe="") for p in (base_id, table_id, record_id))
    return f"{AIRTABLE_WEB}/{parts}"
