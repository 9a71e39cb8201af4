"""The fakes' side of the audit: Shopify's card listing and changes made in Shopify's admin, and
the two Airtable reads the audit makes (rows by card-number range, receipts by time windows)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import date, datetime

from cards.money import Money
from cards.vocab import ReceiptAction, ReceiptSource
from clients.records import (
    CardRow,
    CardState,
    CardStatePage,
    CardTransaction,
    Receipt,
    TransactionKind,
)
from config.layout import GiftCards, Receipts
from tests.fakes.airtable_rows import Row, RowConverters
from tests.fakes.airtable_store import AirtableStore
from tests.fakes.shopify_store import ShopifyStore

GIFT_CARD_GID = "gid://shopify/GiftCard/"


def card_number(gid: str) -> int | None:
    tail = gid.removeprefix(GIFT_CARD_GID)
    return int(tail) if gid.startswith(GIFT_CARD_GID) and tail.isdigit() else None


class AuditShopify(ShopifyStore):
    """``list_cards`` plus what a person does in Shopify's admin (or at a Shopify POS)."""

    def list_cards(
        self, *, after_number: int = 0, updated_since: datetime | None = None, limit: int = 250
    ) -> CardStatePage:
        def read() -> CardStatePage:
            found = []
            for gid, entry in self.cards.items():
                number = card_number(gid)
                updated = entry.updated_at or entry.card.created_at or self.clock.now()
                if number is None or number <= after_number:
                    continue
                if updated_since is not None and updated < updated_since:
                    continue
                card = entry.card
                state = CardState(
                    id=gid,
                    last_characters=card.last_characters,
                    balance=card.balance,
                    enabled=card.enabled,
                    updated_at=updated,
                    expires_on=card.expires_on,
                    deactivated_at=card.deactivated_at,
                    note=card.note,
                    created_at=card.created_at,
                )
                found.append((number, state))
            found.sort(key=lambda pair: pair[0])
            page = tuple(state for _, state in found[:limit])
            return CardStatePage(page, has_next_page=len(found) > limit)

        return self._call("list_cards", read)

    # --- the admin (test helpers: no injection) -------------------------------------------
    def admin_adjust(self, card_id: str, amount: Money, note: str | None = None) -> str:
        """A credit (positive) or debit (negative) made outside giftbridge; its GID."""
        entry = self.cards[card_id]
        kind = TransactionKind.CREDIT if amount.is_positive else TransactionKind.DEBIT
        txn = CardTransaction(
            id=f"gid://shopify/Gift{kind.value.title()}Transaction/{next(self._ids)}",
            kind=kind,
            amount=abs(amount),
            processed_at=self.clock.now(),
            note=note,
        )
        entry.transactions.append(txn)
        entry.changed(replace(entry.card, balance=entry.card.balance + amount), self.clock.now())
        return txn.id

    def admin_set_expiry(self, card_id: str, expires_on: date | None) -> None:
        entry = self.cards[card_id]
        entry.changed(replace(entry.card, expires_on=expires_on), self.clock.now())

    def forget(self, card_id: str) -> None:
        """The card no longer exists for this app (another shop's, or removed)."""
        del self.cards[card_id]


class AuditTables(AirtableStore, RowConverters):
    def cards_in_shopify_range(self, after_number: int, up_to: int | None) -> list[CardRow]:
        def read() -> list[CardRow]:
            found = []
            for record_id, row in self.tables[GiftCards.TABLE].items():
                number = card_number(str(row.get(GiftCards.SHOPIFY_GIFT_CARD_ID, "")))
                if number is None or number <= after_number:
                    continue
                if up_to is not None and number > up_to:
                    continue
                found.append(self._card(record_id, row))
            return found

        return self._call("list", read)

    def receipts_in_windows(
        self, actions: Sequence[ReceiptAction], windows: Sequence[tuple[datetime, datetime]]
    ) -> list[Receipt]:
        def read() -> list[Receipt]:
            wanted = {a.value for a in actions}
            return [
                self._receipt(r)
                for r in self.tables[Receipts.TABLE].values()
                if r.get(Receipts.ACTION) in wanted
                and any(start <= r[Receipts.AT] <= end for start, end in windows)
            ]

        return self._call("list", read)

    def _receipt(self, r: Row) -> Receipt:
        cards, stores = r.get(Receipts.GIFT_CARD, ()), r.get(Receipts.STORE, ())
        return Receipt(
            reference=r[Receipts.REFERENCE],
            action=ReceiptAction(r[Receipts.ACTION]),
            at=r[Receipts.AT],
            source=ReceiptSource(r[Receipts.SOURCE]),
            card_id=cards[0] if cards else None,
            store_id=stores[0] if stores else None,
            amount=self._money(r.get(Receipts.AMOUNT)),
            balance_before=self._money(r.get(Receipts.BALANCE_BEFORE)),
            balance_after=self._money(r.get(Receipts.BALANCE_AFTER)),
            request=r.get(Receipts.REQUEST),
            shopify_reference=r.get(Receipts.SHOPIFY_REFERENCE),
            details=r.get(Receipts.DETAILS),
        )

    def delete_row(self, table: str, record_id: str) -> None:
        """A person deleted the row (links to it disappear, as Airtable removes them)."""
        del self.tables[table][record_id]
        for rows in self.tables.values():
            for row in rows.values():
                for name, value in list(row.items()):
                    if isinstance(value, tuple) and record_id in value:
                        kept = tuple(v for v in value if v != record_id)
                        if kept:
                            row[name] = kept
                        else:
                            del row[name]
