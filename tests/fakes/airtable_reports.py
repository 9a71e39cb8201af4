"""The ReportSource port over the Airtable fake's tables, page by page like the adapter.

Rows of the fake hold domain values (``Money``, enums, datetimes). Every page is one call
through the shared Injector (``airtable.list``), so a test can count pages or fail one. When a
request's Status became Processing is not tracked by the fake: it is the record's creation time
unless a test sets ``status_changed_at[record_id]``.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from typing import Any

from cards.ledger import BOOKED_ACTIONS, CardFacts, ReceiptFacts
from cards.money import Money
from cards.vocab import CardSource, CardStatus, ReceiptAction, RequestStatus
from clients.report_records import FlaggedRequest
from config.layout import (
    BalanceChecks,
    CardActions,
    CreationRequests,
    GiftCards,
    Receipts,
    StoreRedemptions,
    Stores,
    load_layout,
)
from tests.fakes.airtable import FakeAirtable

PAGE = 100
REQUEST_TABLES = (
    StoreRedemptions.TABLE,
    CreationRequests.TABLE,
    BalanceChecks.TABLE,
    CardActions.TABLE,
)


def _decimal(value: Any) -> Decimal | None:
    if value is None:
        return None
    return value.amount if isinstance(value, Money) else Decimal(str(value))


def _money(value: Any, currency: str) -> Money | None:
    """A card's amount in the card's own currency (a test may store a Decimal for a card that
    is not in the base's currency)."""
    amount = _decimal(value)
    return None if amount is None else Money.of(amount, currency)


def _enum(kind: Any, value: Any) -> Any:
    return None if value is None else kind(value)


class FakeReports:
    def __init__(self, airtable: FakeAirtable) -> None:
        self.airtable = airtable
        self.status_changed_at: dict[str, datetime] = {}
        self.pages_read = 0

    def _pages(self, rows: list[Any]) -> Iterator[list[Any]]:
        for start in range(0, max(len(rows), 1), PAGE):
            chunk = rows[start : start + PAGE]
            self.pages_read += 1
            yield self.airtable._call("list", functools.partial(list, chunk))

    def _rows(self, table: str) -> list[tuple[str, dict[str, Any]]]:
        return list(self.airtable.tables[table].items())

    def _card(self, rid: str, row: dict[str, Any]) -> CardFacts:
        g = GiftCards
        currency = row.get(g.CURRENCY) or self.airtable.currency
        return CardFacts(
            id=rid,
            currency=currency,
            status=_enum(CardStatus, row.get(g.STATUS)),
            initial_value=_money(row.get(g.INITIAL_VALUE), currency),
            balance=_money(row.get(g.BALANCE), currency),
            source=_enum(CardSource, row.get(g.SOURCE)),
            store_ids=tuple(row.get(g.STORE, ())),
            issued_at=row.get(g.ISSUED_AT),
            expires_on=row.get(g.EXPIRES_ON),
            masked_code=row.get(g.MASKED_CODE),
            origin_key=row.get(g.ORIGIN_KEY),
        )

    def iter_receipts(
        self, since: datetime | None = None, until: datetime | None = None
    ) -> Iterator[list[ReceiptFacts]]:
        r = Receipts
        found = []
        for _, row in self._rows(r.TABLE):
            action = ReceiptAction(row[r.ACTION])
            when: datetime = row[r.AT]
            if action not in BOOKED_ACTIONS:
                continue
            if (since is not None and when < since) or (until is not None and when >= until):
                continue
            cards, stores = row.get(r.GIFT_CARD, ()), row.get(r.STORE, ())
            found.append(
                ReceiptFacts(
                    reference=row[r.REFERENCE],
                    action=action,
                    at=when,
                    card_id=cards[0] if cards else None,
                    store_id=stores[0] if stores else None,
                    amount=_decimal(row.get(r.AMOUNT)),
                    balance_before=_decimal(row.get(r.BALANCE_BEFORE)),
                    balance_after=_decimal(row.get(r.BALANCE_AFTER)),
                    details=row.get(r.DETAILS),
                )
            )
        yield from self._pages(found)

    def iter_cards(
        self, *, issued_since: datetime | None = None, active_only: bool = False
    ) -> Iterator[list[CardFacts]]:
        cards = [self._card(i, row) for i, row in self._rows(GiftCards.TABLE)]
        if issued_since is not None:
            cards = [c for c in cards if c.issued_at is not None and c.issued_at >= issued_since]
        if active_only:
            cards = [c for c in cards if c.status == CardStatus.ACTIVE]
        yield from self._pages(cards)

    def store_names(self) -> dict[str, str]:
        rows = self._rows(Stores.TABLE)
        return self.airtable._call("list", lambda: {i: r[Stores.NAME] for i, r in rows})

    def flagged_requests(self, stuck_before: datetime) -> list[FlaggedRequest]:
        found: list[FlaggedRequest] = []
        for table in REQUEST_TABLES:
            rows = []
            for rid, row in self._rows(table):
                status = _enum(RequestStatus, row.get("Status"))
                changed = self.status_changed_at.get(rid, self.airtable.created[rid])
                stuck = status == RequestStatus.PROCESSING and changed < stuck_before
                if status == RequestStatus.NEEDS_ATTENTION or stuck:
                    rows.append(
                        FlaggedRequest(
                            table=table,
                            record_id=rid,
                            status=status,
                            created_time=self.airtable.created[rid],
                            outcome=_text(row.get("Outcome")),
                            message=row.get("Result Message"),
                            processed_at=row.get("Processed At"),
                        )
                    )
            for page in self._pages(rows):
                found += page
        return found

    def table_ids(self) -> dict[str, str]:
        return {t.name: f"tbl{t.name.replace(' ', '')[:14]:0<14}" for t in load_layout()}


def _text(value: Any) -> str | None:
    return None if value is None else str(value)
