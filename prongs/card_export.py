"""Every card (or those in one status) as rows for accounting: ``giftbridge cards export``.

Read page by page (100 cards a request, at ``Priority.BULK``) and handed on page by page, so the
memory an export needs does not grow with the number of cards. What a row shows: the masked code
(never the code: Gift Cards holds none, and the export asks for neither the digest nor the sealed
code), status, kind, source, initial value and balance as plain decimals with the currency's
places (``12.50``), the currency, when it was issued (ISO 8601, UTC) and when it expires (ISO
date; empty for never), purchaser and recipient, the store by name, and the record id (the one
unique key: masked codes may repeat).

A cell that a spreadsheet would read as a formula (a name typed as ``=HYPERLINK(...)``) is
prefixed with ``'``, the usual guard against formula injection in exported CSV files.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import UTC, datetime

from cards.codes import mask_last4
from cards.money import Money
from cards.vocab import CardStatus
from clients.ports import BulkPort
from clients.records import CardRow

COLUMNS = (
    "masked_code",
    "status",
    "kind",
    "source",
    "initial_value",
    "balance",
    "currency",
    "issued_at",
    "expires_on",
    "purchaser_name",
    "purchaser_email",
    "recipient_name",
    "recipient_email",
    "store",
    "card_id",
)
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(text: str) -> str:
    """``text`` as a spreadsheet shows it, never evaluates it."""
    return f"'{text}" if text.startswith(_FORMULA_STARTS) else text


def _money(amount: Money | None) -> str:
    return amount.as_string() if amount is not None else ""


def _moment(at: datetime | None) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if at is not None else ""


def export_row(row: CardRow, store_names: Mapping[str, str], currency: str) -> list[str]:
    """One card's cells, in :data:`COLUMNS` order."""
    masked = row.masked_code or (mask_last4(row.last_characters) if row.last_characters else "")
    amount = row.initial_value or row.balance
    text = [
        row.purchaser_name,
        row.purchaser_email,
        row.recipient_name,
        row.recipient_email,
        "; ".join(store_names.get(s, s) for s in row.store_ids),
    ]
    return [
        masked,
        row.status.value if row.status else "",
        row.kind.value if row.kind else "",
        row.source.value if row.source else "",
        _money(row.initial_value),
        _money(row.balance),
        row.currency or (amount.currency if amount else currency),
        _moment(row.issued_at),
        row.expires_on.isoformat() if row.expires_on else "",
        *(spreadsheet_safe(t or "") for t in text),
        row.id,
    ]


def export_pages(
    bulk: BulkPort, store_names: Mapping[str, str], currency: str, status: CardStatus | None
) -> Iterator[list[list[str]]]:
    """The cards' rows, one page of Airtable's at a time."""
    for page in bulk.iter_card_rows(status):
        yield [export_row(row, store_names, currency) for row in page]
