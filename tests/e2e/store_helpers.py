"""Shared helpers for the store-transactions end-to-end tests (sandbox over HTTP, real prongs).

:func:`store_online` wraps :func:`tests.prongs_shopify.online_sandbox.online` and swaps in a
Shopify and a Klaviyo adapter built by the same ``clients.factory`` builders with a short retry
policy, so a test that makes a stand-in fail on purpose (an email that keeps failing, Shopify
unreachable) costs milliseconds of backoff instead of seconds. :class:`StoreWorld` adds what a
person at a till or an operator does (requests of every kind), one run of the prong with the
configuration a test needs, and readers for receipts, Klaviyo events and balances.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from typing import Any

from cards.codes import Code, digest, seal
from cards.vocab import CardStatus, Channel, Kind
from clients.factory import Limiters, build_email, build_shopify
from clients.retry import RetryPolicy
from config.layout import (
    BalanceChecks,
    CardActions,
    CreationRequests,
    GiftCards,
    Receipts,
    StoreRedemptions,
)
from prongs.deps import Deps
from prongs.report import Budget, OpenGate, RunReport
from prongs.store_context import StoreConfig
from prongs.store_transactions import run_once
from sandbox.klaviyo.service import AcceptedEvent
from sandbox.shopify.state import CardTransaction
from tests.configs import klaviyo_config, shopify_config
from tests.prongs_shopify.online_sandbox import KLAVIYO_KEY, SHOPIFY_TOKEN, Online, online

STORE_EMAIL = "store@example.com"  # the Stores row online() creates
BULLETS = "\u2022" * 8
#: Two tries per call, a few milliseconds apart: the stand-ins answer at once on loopback.
FAST_RETRY = RetryPolicy(attempts=2, deadline=5.0, base_delay=0.005, max_delay=0.01)
EMAIL_TRIES = FAST_RETRY.attempts * 3  # CardConfig.email_attempts sends, each retried once


def dec(value: Any) -> Decimal:
    """An Airtable currency cell (a JSON number) as the exact Decimal it shows."""
    return Decimal(str(value))


def masked(code: Code | str) -> str:
    text = code.reveal() if isinstance(code, Code) else code
    return BULLETS + text[-4:].upper()


@dataclass
class StoreWorld:
    online: Online
    deps: Deps  # online.deps with the short-retry Shopify and Klaviyo adapters

    @property
    def store_id(self) -> str:
        return self.online.store_id

    # --- one run of the prong -------------------------------------------------------------
    def run(self, *, portal_enabled: bool = True, checks_per_hour: int = 5) -> RunReport:
        config = StoreConfig(
            card=self.online.card_config,
            portal_enabled=portal_enabled,
            balance_checks_per_hour=checks_per_hour,
        )
        return run_once(self.deps, config, Budget(self.deps.clock, 60), OpenGate())

    # --- requests, as staff and operators type them ----------------------------------------
    def _create(self, table: str, fields: dict[str, Any]) -> str:
        clean = {k: v for k, v in fields.items() if v is not None}
        (record,) = self.online.base.create(table, [clean])
        return str(record["id"])

    def creation(
        self,
        amount: str | None,
        *,
        purchaser: str | None = "Pat Buyer",
        email: str | None = None,
        channel: Channel = Channel.STORE,
        kind: Kind = Kind.GIFT_CARD,
        store: bool = True,
        gift_to: tuple[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> str:
        c = CreationRequests
        fields: dict[str, Any] = {
            c.PURCHASER_NAME: purchaser,
            c.PURCHASER_EMAIL: email,
            c.AMOUNT: float(Decimal(amount)) if amount is not None else None,
            c.KIND: kind.value,
            c.CHANNEL: channel.value,
            c.STORE: [self.store_id] if store else None,
            **(extra or {}),
        }
        if gift_to is not None:
            fields |= {c.IS_GIFT: True, c.RECIPIENT_NAME: gift_to[0], c.RECIPIENT_EMAIL: gift_to[1]}
        return self._create(c.TABLE, fields)

    def redemption(self, code: str, amount: str | None, order_total: str | None = None) -> str:
        s = StoreRedemptions
        return self._create(
            s.TABLE,
            {
                s.CODE: code,
                s.STORE: [self.store_id],
                s.AMOUNT: float(Decimal(amount)) if amount is not None else None,
                s.ORDER_TOTAL: float(Decimal(order_total)) if order_total is not None else None,
                s.STAFF_NAME: "Sam",
            },
        )

    def balance_check(self, code: str, email: str) -> str:
        b = BalanceChecks
        return self._create(b.TABLE, {b.CODE: code, b.EMAIL: email})

    def card_action(
        self,
        action: str,
        card_id: str | None,
        *,
        reason: str | None = None,
        amount: str | None = None,
        new_expiry: date | None = None,
    ) -> str:
        a = CardActions
        return self._create(
            a.TABLE,
            {
                a.REQUESTED_BY: "Olga Operator",
                a.ACTION: action,
                a.GIFT_CARD: [card_id] if card_id else None,
                a.REASON: reason,
                a.AMOUNT: float(Decimal(amount)) if amount is not None else None,
                a.NEW_EXPIRY: new_expiry.isoformat() if new_expiry else None,
            },
        )

    # --- cards made outside giftbridge's flows ---------------------------------------------
    def raw_card(self, code: Code, status: CardStatus, balance: str, shopify_id: str | None) -> str:
        """A Gift Cards row written directly (a Pending intent, or a row whose Shopify card is
        gone): giftbridge's own fields, as issuance writes them."""
        config = self.online.card_config
        g = GiftCards
        return self._create(
            g.TABLE,
            {
                g.CODE_DIGEST: digest(code, config.pepper),
                g.CODE_SEALED: seal(code, config.code_key),
                g.MASKED_CODE: code.masked,
                g.LAST_CHARACTERS: code.last4,
                g.STATUS: status.value,
                g.KIND: Kind.GIFT_CARD.value,
                g.CURRENCY: "USD",
                g.INITIAL_VALUE: float(Decimal(balance)),
                g.BALANCE: float(Decimal(balance)),
                g.SHOPIFY_GIFT_CARD_ID: shopify_id,
            },
        )

    def expire(self, card_id: str, on: date) -> None:
        """What time and the expiry prong do: Shopify's card expired on ``on``, the row Expired."""
        gid = str(self.row(card_id)[GiftCards.SHOPIFY_GIFT_CARD_ID])
        with self.online.shop.lock:
            self.online.shop.card(gid).expires_on = on
        self.online.base.update(
            GiftCards.TABLE,
            card_id,
            {GiftCards.STATUS: CardStatus.EXPIRED.value, GiftCards.EXPIRES_ON: on.isoformat()},
        )

    # --- what the tests read ---------------------------------------------------------------
    def row(self, record_id: str) -> dict[str, Any]:
        return self.online.record(record_id)

    def card_of(self, request_id: str) -> str:
        (card_id,) = self.row(request_id)[CreationRequests.GIFT_CARD]
        return str(card_id)

    def receipts(self) -> dict[str, dict[str, Any]]:
        """Receipts by Reference (asserting each Reference is there once)."""
        rows = self.online.rows(Receipts.TABLE)
        by_reference = {str(r[Receipts.REFERENCE]): r for r in rows}
        assert len(by_reference) == len(rows), "a Reference was written twice"
        return by_reference

    def references_of(self, key: str) -> set[str]:
        return {ref for ref in self.receipts() if ref.startswith(f"{key}:")}

    def events(self, unique_id: str) -> list[AcceptedEvent]:
        return [e for e in self.online.klaviyo.events if e.unique_id == unique_id]

    def event(self, unique_id: str) -> AcceptedEvent:
        (found,) = self.events(unique_id)
        return found

    def code_for(self, email: str) -> str:
        return self.online.issued_code(email)

    def shopify_balance(self, card_id: str) -> Decimal:
        gid = str(self.row(card_id)[GiftCards.SHOPIFY_GIFT_CARD_ID])
        return self.online.shop.card(gid).balance

    def notes(self, card_id: str) -> list[tuple[str, Decimal, str | None]]:
        """The card's Shopify transactions as (kind, amount, note)."""
        gid = str(self.row(card_id)[GiftCards.SHOPIFY_GIFT_CARD_ID])
        return [(t.kind, t.amount, t.note) for t in self.online.shop.card_transactions(gid)]

    def transaction(self, card_id: str, key: str) -> CardTransaction:
        """The one Shopify transaction on the card carrying ``key``'s note."""
        gid = str(self.row(card_id)[GiftCards.SHOPIFY_GIFT_CARD_ID])
        found = self.online.shop.card_transactions(gid)
        (txn,) = [t for t in found if t.note == f"giftbridge {key}"]
        return txn

    def assert_mirrored(self, card_id: str, expected: str) -> None:
        """Airtable's Balance is Shopify's, and both are ``expected``."""
        assert self.shopify_balance(card_id) == Decimal(expected)
        assert dec(self.row(card_id)[GiftCards.BALANCE]) == Decimal(expected)


@contextmanager
def store_online() -> Iterator[StoreWorld]:
    with online() as running:
        limiters = Limiters()
        shopify = build_shopify(
            shopify_config(running.settings, SHOPIFY_TOKEN, retry=FAST_RETRY), limiters
        )
        email = build_email(
            klaviyo_config(running.settings, KLAVIYO_KEY, retry=FAST_RETRY), limiters
        )
        try:
            yield StoreWorld(running, replace(running.deps, shopify=shopify, email=email))
        finally:
            shopify.close()
            email.close()
