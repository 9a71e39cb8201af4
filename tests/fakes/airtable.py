"""An in-memory Airtable base implementing AirtablePort, strict like the real API.

Rows hold domain values keyed by field name; typed writes become cells through the adapter's own
mapping (:mod:`clients.airtable_columns`), so a test asserts on the cells the real base gets.
Unknown fields and unknown select options are refused (as Airtable's 422s), empty values are
omitted (as Airtable omits them), and every call is counted and can be crashed or dropped
through the shared Injector.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from cards.vocab import CardStatus, Channel
from clients.airtable_batch import grouped_by_table
from clients.airtable_columns import card_columns, new_card_cells, request_columns
from clients.airtable_queries import bounded_chunks
from clients.commands import CardUpdate, NewCardRow, RequestWrite
from clients.errors import InvariantViolation, Permanent
from clients.records import (
    BalanceCheckRequest,
    CardActionRequest,
    CardRow,
    CreationRequest,
    RedemptionRequest,
    Store,
)
from config.layout import (
    BalanceChecks,
    CardActions,
    CreationRequests,
    GiftCards,
    StoreRedemptions,
    Stores,
)
from tests.fakes.airtable_ledger import LedgerTables
from tests.fakes.audit import AuditTables


class FakeAirtable(AuditTables, LedgerTables):
    """The AirtablePort: request queues and Gift Cards here; the Receipts, Shopify Orders and
    Status tables in LedgerTables; storage and validation in AirtableStore; row -> record
    converters in RowConverters."""

    # --- queues -------------------------------------------------------------------------
    def pending_redemptions(self, limit: int) -> list[RedemptionRequest]:
        return self._call(
            "list",
            lambda: [
                self._redemption(i, r) for i, r in self._pending(StoreRedemptions.TABLE, limit)
            ],
        )

    def pending_creations(self, limit: int) -> list[CreationRequest]:
        """As the adapter: every other channel first, then Channel Bulk, each oldest first."""

        def read() -> list[CreationRequest]:
            found = self._pending(CreationRequests.TABLE, len(self.created))
            requests = [self._creation(i, r) for i, r in found]
            requests.sort(key=lambda r: r.channel == Channel.BULK)  # stable: oldest first
            return requests[:limit]

        return self._call("list", read)

    def pending_balance_checks(self, limit: int) -> list[BalanceCheckRequest]:
        return self._call(
            "list",
            lambda: [self._balance(i, r) for i, r in self._pending(BalanceChecks.TABLE, limit)],
        )

    def pending_card_actions(self, limit: int) -> list[CardActionRequest]:
        return self._call(
            "list", lambda: [self._action(i, r) for i, r in self._pending(CardActions.TABLE, limit)]
        )

    def recent_balance_checks(self, since: datetime) -> list[BalanceCheckRequest]:
        def read() -> list[BalanceCheckRequest]:
            table = self.tables[BalanceChecks.TABLE]
            return [
                self._balance(i, r)
                for i, r in table.items()
                if r.get("Processed At") is not None and r["Processed At"] >= since
            ]

        return self._call("list", read)

    def update_request(self, write: RequestWrite) -> None:
        table, record_id, cells = request_columns(write)
        self._call("update", lambda: self._apply(table, record_id, cells))

    def update_requests(self, writes: Sequence[RequestWrite]) -> dict[str, Permanent]:
        refused: dict[str, Permanent] = {}
        for table, updates in grouped_by_table(writes).items():
            refused |= self._update_in_tens(table, updates)
        return refused

    # --- cards --------------------------------------------------------------------------
    def get_card(self, record_id: str) -> CardRow | None:
        def read() -> CardRow | None:
            row = self.tables[GiftCards.TABLE].get(record_id)
            return self._card(record_id, row) if row is not None else None

        return self._call("get", read)

    def find_card(
        self,
        *,
        digest: str | None = None,
        origin_key: str | None = None,
        shopify_id: str | None = None,
    ) -> CardRow | None:
        given = [
            (GiftCards.CODE_DIGEST, digest),
            (GiftCards.ORIGIN_KEY, origin_key),
            (GiftCards.SHOPIFY_GIFT_CARD_ID, shopify_id),
        ]
        keys = [(f, v) for f, v in given if v is not None]
        assert len(keys) == 1, "find_card takes exactly one key"
        name, value = keys[0]

        def read() -> CardRow | None:
            hits = [(i, r) for i, r in self.tables[GiftCards.TABLE].items() if r.get(name) == value]
            if len(hits) > 1:
                raise InvariantViolation(f"{len(hits)} Gift Cards rows share one {name}")
            return self._card(*hits[0]) if hits else None

        return self._call("list", read)

    def search_cards(self, text: str, limit: int = 20) -> list[CardRow]:
        g = GiftCards
        fields = (
            g.LAST_CHARACTERS,
            g.RECIPIENT_EMAIL,
            g.RECIPIENT_NAME,
            g.PURCHASER_EMAIL,
            g.PURCHASER_NAME,
            g.SHOPIFY_ORDER,
            g.ORIGIN_KEY,
        )

        def read() -> list[CardRow]:
            hits = [
                (i, r)
                for i, r in self.tables[g.TABLE].items()
                if any(text.lower() in str(r.get(f, "")).lower() for f in fields)
                or str(r.get(g.STATUS, "")) == text.strip().title()
            ]
            return [self._card(i, r) for i, r in hits[:limit]]

        return self._call("list", read)

    def cards_expiring_by(self, last_day: date, limit: int) -> list[CardRow]:
        def read() -> list[CardRow]:
            due = [
                (r[GiftCards.EXPIRES_ON], i, r)
                for i, r in self.tables[GiftCards.TABLE].items()
                if r.get(GiftCards.STATUS) == CardStatus.ACTIVE
                and r.get(GiftCards.EXPIRES_ON) is not None
                and r[GiftCards.EXPIRES_ON] <= last_day
            ]
            due.sort(key=lambda item: (item[0], self.created[item[1]], item[1]))
            return [self._card(i, r) for _, i, r in due[:limit]]

        return self._call("list", read)

    def create_card(self, card: NewCardRow) -> CardRow:
        def create() -> CardRow:
            record_id = self._add_row(GiftCards.TABLE, new_card_cells(card))
            return self._card(record_id, self.tables[GiftCards.TABLE][record_id])

        return self._call("create", create)

    def create_cards(self, cards: Sequence[NewCardRow]) -> list[CardRow]:
        assert 0 < len(cards) <= 10, "a create request carries 1 to 10 records"

        def create() -> list[CardRow]:
            ids = [self.new_id() for _ in cards]
            for card in cards:  # all or none, as Airtable: every row checked first
                for name, value in new_card_cells(card).items():
                    self._check(GiftCards.TABLE, name, value)
            for record_id, card in zip(ids, cards, strict=True):
                self.tables[GiftCards.TABLE][record_id] = {}
                self.created[record_id] = self.clock.now()
                self._apply(GiftCards.TABLE, record_id, new_card_cells(card))
            return [self._card(i, self.tables[GiftCards.TABLE][i]) for i in ids]

        return self._call("create", create)

    def find_cards_by_origin_keys(self, keys: Sequence[str]) -> dict[str, list[CardRow]]:
        return self._cards_by(GiftCards.ORIGIN_KEY, keys)

    def update_card(self, update: CardUpdate) -> CardRow:
        record_id, changes = card_columns(update)

        def update_row() -> CardRow:
            if record_id not in self.tables[GiftCards.TABLE]:
                raise Permanent("airtable", "update", "no such record", code="MODEL_ID_NOT_FOUND")
            self._apply(GiftCards.TABLE, record_id, changes)
            return self._card(record_id, self.tables[GiftCards.TABLE][record_id])

        return self._call("update", update_row)

    def update_cards(self, updates: Sequence[CardUpdate]) -> dict[str, Permanent]:
        return self._update_in_tens(GiftCards.TABLE, [card_columns(u) for u in updates])

    def find_cards_by_digests(self, digests: Sequence[str]) -> dict[str, list[CardRow]]:
        return self._cards_by(GiftCards.CODE_DIGEST, digests)

    def _cards_by(self, field: str, values: Sequence[str]) -> dict[str, list[CardRow]]:
        """As the adapter: one read per chunk of values, rows by their value."""
        found: dict[str, list[CardRow]] = {}
        for chunk in bounded_chunks(values):
            wanted = set(chunk)

            def read(wanted: set[str] = wanted) -> dict[str, list[CardRow]]:
                hits: dict[str, list[CardRow]] = {}
                for i, r in self.tables[GiftCards.TABLE].items():
                    if r.get(field) in wanted:
                        hits.setdefault(r[field], []).append(self._card(i, r))
                return hits

            found |= self._call("list", read)
        return found

    def known_card_ids_by_shopify_id(self, shopify_ids: Sequence[str]) -> dict[str, CardRow]:
        wanted = set(shopify_ids)

        def read() -> dict[str, CardRow]:
            return {
                r[GiftCards.SHOPIFY_GIFT_CARD_ID]: self._card(i, r)
                for i, r in self.tables[GiftCards.TABLE].items()
                if r.get(GiftCards.SHOPIFY_GIFT_CARD_ID) in wanted
            }

        return self._call("list", read)

    def attach_certificate(
        self, card_id: str, filename: str, content: bytes, *, replace: bool = True
    ) -> None:
        """``replace`` empties the cell first; without it the upload adds to what the cell
        holds (as Airtable's uploadAttachment does), so a blind repeat leaves two."""

        def attach() -> None:
            assert content.startswith(b"%PDF"), "certificates are PDFs"
            row = self.tables[GiftCards.TABLE].get(card_id)
            if row is None:  # deleted by a person meanwhile
                missing = f"no record {card_id}"
                raise Permanent(
                    "airtable", "upload", missing, code="MODEL_ID_NOT_FOUND", status=404
                )
            held = () if replace else tuple(row.get(GiftCards.CERTIFICATE, ()))
            name = f"att{len(held)}-{filename}"
            self._apply(GiftCards.TABLE, card_id, {GiftCards.CERTIFICATE: (*held, name)})
            self.attachments[card_id] = content

        self._call("upload", attach)

    def stores(self) -> list[Store]:
        return self._call(
            "list",
            lambda: [
                Store(
                    i,
                    r.get(Stores.NAME, ""),
                    r.get(Stores.EMAIL),
                    r.get(Stores.LOCATION_CODE),
                    bool(r.get(Stores.ACTIVE)),
                )
                for i, r in self.tables[Stores.TABLE].items()
            ],
        )
