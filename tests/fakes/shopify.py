"""An in-memory Shopify implementing ShopifyPort: cards with atomic debits, notes, orders.

Behaves like the real Admin API where giftbridge depends on it: INSUFFICIENT_FUNDS is atomic,
codes are unique case-insensitively (TAKEN), deactivated or expired cards refuse debits
(INVALID), transactions carry their note and are listed newest first.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import replace
from datetime import date, datetime

from cards.codes import Code
from cards.money import Money
from clients.errors import CodeTaken, Permanent
from clients.records import CardTransaction, ShopifyCard, TransactionKind, TransactionResult
from tests.fakes.audit import AuditShopify
from tests.fakes.shopify_orders import ShopifyOrderBook
from tests.fakes.shopify_store import StoredCard


class FakeShopify(AuditShopify, ShopifyOrderBook):
    """The ShopifyPort: gift cards here; orders in ShopifyOrderBook; state in ShopifyStore."""

    # --- test helpers -------------------------------------------------------------------
    def issue_native(
        self, code: str, value: Money, order_id: str | None = None, note: str | None = None
    ) -> ShopifyCard:
        """A card Shopify issued itself (no giftbridge note), e.g. for a native product."""
        gid = f"gid://shopify/GiftCard/{next(self._ids)}"
        card = ShopifyCard(
            id=gid,
            last_characters=code[-4:].lower(),
            balance=value,
            initial_value=value,
            enabled=True,
            note=note,
            created_at=self.clock.now(),
            order_id=order_id,
        )
        self.cards[gid] = StoredCard(card, code.upper())
        if order_id:
            self.order_cards.setdefault(order_id, []).append(gid)
        return card

    def balance(self, card_id: str) -> Money:
        return self.cards[card_id].card.balance

    def notes(self, card_id: str) -> list[str | None]:
        return [t.note for t in self.cards[card_id].transactions]

    def deactivate(self, card_id: str) -> None:
        entry = self.cards[card_id]
        now = self.clock.now()
        entry.changed(replace(entry.card, enabled=False, deactivated_at=now), now)

    # --- cards --------------------------------------------------------------------------
    def get_card(self, card_id: str) -> ShopifyCard | None:
        return self._call(
            "get_card", lambda: self.cards[card_id].card if card_id in self.cards else None
        )

    def get_cards(self, card_ids: Sequence[str]) -> dict[str, ShopifyCard]:
        wanted = list(dict.fromkeys(card_ids))
        found: dict[str, ShopifyCard] = {}

        def read(chunk: list[str]) -> dict[str, ShopifyCard]:
            return {i: self.cards[i].card for i in chunk if i in self.cards}

        for start in range(0, len(wanted), 50):  # as the adapter: 50 a request
            chunk = wanted[start : start + 50]
            found |= self._call("get_cards", functools.partial(read, chunk))
        return found

    def shop_timezone(self) -> str:
        return self._call("shop_timezone", lambda: self.timezone)

    def find_cards_by_code(self, code: Code) -> list[ShopifyCard]:
        return self._call(
            "find_cards_by_code",
            lambda: [c.card for c in self.cards.values() if c.code == code.reveal()],
        )

    def create_card(
        self, code: Code, initial_value: Money, note: str, expires_on: date | None
    ) -> ShopifyCard:
        def create() -> ShopifyCard:
            if any(c.code == code.reveal() for c in self.cards.values()):
                raise CodeTaken()
            if not initial_value.is_positive:
                raise Permanent("shopify", "giftCardCreate", "must be > 0", code="GREATER_THAN")
            gid = f"gid://shopify/GiftCard/{next(self._ids)}"
            card = ShopifyCard(
                id=gid,
                last_characters=code.last4.lower(),
                balance=initial_value,
                initial_value=initial_value,
                enabled=True,
                expires_on=expires_on,
                note=note,
                created_at=self.clock.now(),
            )
            self.cards[gid] = StoredCard(card, code.reveal())
            return card

        return self._call("create_card", create)

    def _move(
        self, card_id: str, amount: Money, note: str, kind: TransactionKind, operation: str
    ) -> TransactionResult:
        entry = self.cards.get(card_id)
        if entry is None:
            raise Permanent("shopify", operation, "no card", code="GIFT_CARD_NOT_FOUND")
        if amount.currency != entry.card.balance.currency:
            raise Permanent("shopify", operation, "currency", code="MISMATCHING_CURRENCY")
        if not amount.is_positive:
            raise Permanent("shopify", operation, "amount", code="NEGATIVE_OR_ZERO_AMOUNT")
        expired = (
            entry.card.expires_on is not None and self.clock.now().date() > entry.card.expires_on
        )
        if not entry.card.enabled or expired:
            raise Permanent("shopify", operation, "card not usable", code="INVALID")
        sign = amount if kind == TransactionKind.CREDIT else -amount
        after = entry.card.balance + sign
        if after.is_negative:
            raise Permanent("shopify", operation, "insufficient", code="INSUFFICIENT_FUNDS")
        txn = CardTransaction(
            id=f"gid://shopify/Gift{kind.value.title()}Transaction/{next(self._ids)}",
            kind=kind,
            amount=amount,
            processed_at=self.clock.now(),
            note=note,
        )
        entry.transactions.append(txn)
        entry.changed(replace(entry.card, balance=after), self.clock.now())
        return TransactionResult(txn, after)

    def debit(self, card_id: str, amount: Money, note: str) -> TransactionResult:
        return self._call(
            "debit",
            lambda: self._move(card_id, amount, note, TransactionKind.DEBIT, "giftCardDebit"),
        )

    def credit(self, card_id: str, amount: Money, note: str) -> TransactionResult:
        return self._call(
            "credit",
            lambda: self._move(card_id, amount, note, TransactionKind.CREDIT, "giftCardCredit"),
        )

    def find_transaction_by_note(
        self, card_id: str, note: str, since: datetime | None = None
    ) -> CardTransaction | None:
        def read() -> CardTransaction | None:
            for txn in reversed(self.cards[card_id].transactions):
                if since is not None and txn.processed_at < since:
                    return None
                if txn.note == note:
                    return txn
            return None

        return self._call("find_transaction_by_note", read)

    def transactions(self, card_id: str, limit: int = 50) -> list[CardTransaction]:
        return self._call(
            "transactions",
            lambda: list(reversed(self.cards[card_id].transactions))[:limit],
        )

    def set_expiry(self, card_id: str, expires_on: date | None) -> ShopifyCard:
        def update() -> ShopifyCard:
            entry = self.cards[card_id]
            entry.changed(replace(entry.card, expires_on=expires_on), self.clock.now())
            return entry.card

        return self._call("set_expiry", update)

    def access_scopes(self) -> set[str]:
        return self._call("access_scopes", lambda: set(self.scopes))
