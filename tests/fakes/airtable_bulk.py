"""The BulkPort over the Airtable fake's tables: upserts on Import Key, reads page by page.

Rows become cells through the adapter's own mapping (``clients.airtable_bulk``); every write of
10 rows and every page of 100 is one call through the shared Injector (``airtable.upsert``,
``airtable.list``), so a test can count them, crash at one, or lose its response.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Sequence

from cards.vocab import CardStatus, Channel, RequestStatus
from clients.airtable_bulk import creation_request_cells
from clients.commands import NewCreationRequest
from clients.records import CardRow, CreationRequest
from config.layout import CreationRequests, GiftCards
from tests.fakes.airtable import FakeAirtable
from tests.fakes.airtable_rows import Row

PAGE = 100
OPEN = (None, RequestStatus.PROCESSING.value, RequestStatus.PROCESSING)


class FakeBulk:
    def __init__(self, airtable: FakeAirtable) -> None:
        self.airtable = airtable

    def import_creation_requests(self, new: Sequence[NewCreationRequest]) -> int:
        unique = list({r.import_key: r for r in new}.values())
        created = 0
        for start in range(0, len(unique), 10):
            chunk = unique[start : start + 10]
            created += self.airtable._call("upsert", functools.partial(self._upsert, chunk))
        return created

    def _upsert(self, chunk: Sequence[NewCreationRequest]) -> int:
        table = self.airtable.tables[CreationRequests.TABLE]
        created = 0
        for row in chunk:
            hits = [
                i for i, r in table.items() if r.get(CreationRequests.IMPORT_KEY) == row.import_key
            ]
            cells = creation_request_cells(row)
            if hits:
                self.airtable._apply(CreationRequests.TABLE, hits[0], cells)
            else:
                self.airtable._add_row(CreationRequests.TABLE, cells)
                created += 1
        return created

    def _pages(self, table: str, keep: Callable[[Row], bool]) -> Iterator[list[tuple[str, Row]]]:
        rows = [(i, dict(r)) for i, r in self.airtable.tables[table].items() if keep(r)]
        for start in range(0, max(len(rows), 1), PAGE):
            chunk = rows[start : start + PAGE]
            yield self.airtable._call("list", functools.partial(list, chunk))

    def batch_requests(self, batch: str, *, open_only: bool = False) -> list[CreationRequest]:
        def keep(r: Row) -> bool:
            mine = r.get(CreationRequests.BATCH) == batch
            return mine and (not open_only or r.get(CreationRequests.STATUS) in OPEN)

        return [
            self.airtable._creation(i, r)
            for page in self._pages(CreationRequests.TABLE, keep)
            for i, r in page
        ]

    def bulk_requests_for(self, recipient_emails: Sequence[str]) -> list[CreationRequest]:
        wanted = set(list(dict.fromkeys(e for e in recipient_emails if e))[:40])
        if not wanted:
            return []

        def keep(r: Row) -> bool:
            bulk = r.get(CreationRequests.CHANNEL) in (Channel.BULK, Channel.BULK.value)
            return bulk and r.get(CreationRequests.RECIPIENT_EMAIL) in wanted

        return [
            self.airtable._creation(i, r)
            for page in self._pages(CreationRequests.TABLE, keep)
            for i, r in page
        ]

    def iter_card_rows(self, status: CardStatus | None = None) -> Iterator[list[CardRow]]:
        def keep(r: Row) -> bool:
            return status is None or r.get(GiftCards.STATUS) in (status, status.value)

        for page in self._pages(GiftCards.TABLE, keep):
            yield [self._exported(i, r) for i, r in page]

    def _exported(self, record_id: str, row: Row) -> CardRow:
        """What the adapter asks Airtable for: never the digest or the sealed code."""
        shown = {
            k: v for k, v in row.items() if k not in (GiftCards.CODE_DIGEST, GiftCards.CODE_SEALED)
        }
        return self.airtable._card(record_id, shown)
