"""Demo traffic, at a gentle pace, so a newcomer who types ``make run`` sees every flow.

Every few seconds one thing happens, in a fixed rotation: a store sells a card (a creation
request), a till redeems a known card (now and then with a typo, or for more than the balance),
a customer asks for a balance, someone buys cards online (a gift-card SKU, or Shopify's native
gift-card product, fulfilled a little later), and an online checkout is paid with a card sold in
a store (sometimes refunded afterwards). Codes come from where a real person would have them:
the "Gift Card Issued" emails the Klaviyo stand-in received, and cards Shopify issued itself.
Staff and customer requests arrive as Airtable form submissions, so the daemon's webhook hears
of them at once (push).
"""

from __future__ import annotations

import itertools
import logging
import random
from collections.abc import Callable
from decimal import Decimal

from config.layout import BalanceChecks, CreationRequests, StoreRedemptions, Stores
from sandbox.shopify import CustomerSpec, LineItemSpec, OrderSpec
from sandbox.stack import Sandbox

log = logging.getLogger("giftbridge.sandbox.demo")
DEMO_SKU = "GC-DEMO"
PEOPLE = [
    ("Ada Lovelace", "ada@example.com"),
    ("Alan Turing", "alan@example.com"),
    ("Grace Hopper", "grace@example.com"),
    ("Edsger Dijkstra", "edsger@example.com"),
    ("Barbara Liskov", "barbara@example.com"),
    ("Donald Knuth", "don@example.com"),
]
THEMES = ["Standard", "Birthday", "Wedding", "Holiday", "Thank You"]


class DemoTraffic:
    def __init__(self, sandbox: Sandbox, *, every_steps: int = 4, seed: int | None = None) -> None:
        self.sandbox = sandbox
        self.every = every_steps
        self.random = random.Random(seed)
        self._ticks = 0
        self._unfulfilled: list[str] = []
        self._paid_orders: list[str] = []
        actions: list[Callable[[], str | None]] = [
            self.sell_in_store,
            self.redeem,
            self.check_balance,
            self.buy_sku_online,
            self.redeem,
            self.buy_native_online,
            self.fulfil_native,
            self.checkout_with_card,
            self.redeem_with_typo,
            self.sell_in_store,
            self.redeem_over_balance,
            self.refund_checkout,
            self.redeem_online_card,
        ]
        self._rotation = itertools.cycle(actions)

    def step(self) -> None:
        """Called about once a second; acts every ``every_steps`` calls."""
        self._ticks += 1
        if self._ticks % self.every:
            return
        action = next(self._rotation)
        try:
            did = action()
        except Exception as exc:  # the demo must never take the sandbox down
            log.warning("demo %s failed: %s", action.__name__, exc)
            return
        if did:
            log.info("demo: %s", did)

    # --- helpers ------------------------------------------------------------------------
    def _store(self) -> str:
        stores = self.sandbox.airtable.base().records(Stores.TABLE)
        return str(self.random.choice(stores)["id"])

    def _store_codes(self) -> list[str]:
        """Codes giftbridge emailed to holders (what a customer brings to a till)."""
        events = self.sandbox.klaviyo.events_for("Gift Card Issued")
        return [str(e.properties["code"]) for e in events if e.properties.get("code")]

    def _online_codes(self) -> list[str]:
        return [
            c.code
            for c in self.sandbox.shopify.data.cards.values()
            if c.source == "purchased" and c.enabled and c.balance > 0
        ]

    def _balance(self, code: str) -> Decimal:
        return self.sandbox.shopify.card(code).balance

    def _usable(self, codes: list[str]) -> list[str]:
        return [c for c in codes if self._balance(c) > 0]

    # --- in store -----------------------------------------------------------------------
    def sell_in_store(self) -> str:
        (buyer, buyer_email), (friend, friend_email) = self.random.sample(PEOPLE, 2)
        amount = self.random.choice([25, 50, 75, 100])
        self.sandbox.airtable.base().submit_form(
            CreationRequests.TABLE,
            {
                CreationRequests.PURCHASER_NAME: buyer,
                CreationRequests.PURCHASER_EMAIL: buyer_email,
                CreationRequests.RECIPIENT_NAME: friend,
                CreationRequests.RECIPIENT_EMAIL: friend_email,
                CreationRequests.IS_GIFT: True,
                CreationRequests.MESSAGE: f"Enjoy, {friend.split()[0]}!",
                CreationRequests.AMOUNT: amount,
                CreationRequests.KIND: "Gift Card",
                CreationRequests.STORE: [self._store()],
                CreationRequests.THEME: self.random.choice(THEMES),
                CreationRequests.CHANNEL: "Store",
            },
        )
        return f"a store sold a {amount} card ({buyer} for {friend})"

    def _redemption(self, code: str, amount: Decimal, note: str) -> str:
        self.sandbox.airtable.base().submit_form(
            StoreRedemptions.TABLE,
            {
                StoreRedemptions.CODE: "-".join(code[i : i + 4] for i in range(0, len(code), 4)),
                StoreRedemptions.STORE: [self._store()],
                StoreRedemptions.AMOUNT: float(amount),
                StoreRedemptions.STAFF_NAME: "Sam at the till",
            },
        )
        return f"a till redeems {amount} {note}"

    def redeem(self) -> str | None:
        codes = self._usable(self._store_codes())
        if not codes:
            return None
        code = self.random.choice(codes)
        amount = min(self._balance(code), Decimal(self.random.choice([5, 10, 12.5, 20])))
        return self._redemption(code, amount, "from a store card")

    def redeem_online_card(self) -> str | None:
        codes = self._online_codes()
        if not codes:
            return None
        code = self.random.choice(codes)
        return self._redemption(
            code, min(self._balance(code), Decimal(10)), "from a card bought online"
        )

    def redeem_with_typo(self) -> str | None:
        codes = self._store_codes()
        if not codes:
            return None
        code = self.random.choice(codes)
        i = self.random.randrange(len(code) - 1)
        typo = code[:i] + code[i + 1] + code[i] + code[i + 2 :]
        if typo == code:
            typo = code[:i] + ("7" if code[i] != "7" else "8") + code[i + 1 :]
        return self._redemption(typo, Decimal(5), "with a typo in the code")

    def redeem_over_balance(self) -> str | None:
        codes = self._usable(self._store_codes())
        if not codes:
            return None
        code = self.random.choice(codes)
        return self._redemption(code, self._balance(code) + 50, "for more than the balance")

    def check_balance(self) -> str | None:
        codes = self._store_codes() + self._online_codes()
        name, email = self.random.choice(PEOPLE)
        code = self.random.choice(codes) if codes else "NOSUCHCODE12"
        self.sandbox.airtable.base().submit_form(
            BalanceChecks.TABLE, {BalanceChecks.CODE: code.lower(), BalanceChecks.EMAIL: email}
        )
        return f"{name} asks for a balance"

    # --- online -------------------------------------------------------------------------
    def buy_sku_online(self) -> str:
        (buyer, email), (friend, friend_email) = self.random.sample(PEOPLE, 2)
        first, last = buyer.split()
        self.sandbox.shopify.create_order(
            OrderSpec(
                customer=CustomerSpec(email, first, last),
                line_items=[
                    LineItemSpec(
                        name="Gift card",
                        sku=DEMO_SKU,
                        quantity=2,
                        price="30.00",
                        custom_attributes={
                            "Recipient email": friend_email,
                            "Recipient name": friend,
                            "Message": "Happy birthday!",
                        },
                    )
                ],
            )
        )
        return f"{buyer} bought two gift-card SKU units online for {friend}"

    def buy_native_online(self) -> str:
        buyer, email = self.random.choice(PEOPLE)
        first, last = buyer.split()
        order = self.sandbox.shopify.create_order(
            OrderSpec(
                customer=CustomerSpec(email, first, last),
                line_items=[
                    LineItemSpec(
                        name="Shopify gift card", quantity=1, price="40.00", is_gift_card=True
                    )
                ],
            )
        )
        self._unfulfilled.append(f"gid://shopify/Order/{order.number}")
        return f"{buyer} bought a native Shopify gift card (not fulfilled yet)"

    def fulfil_native(self) -> str | None:
        if not self._unfulfilled:
            return None
        order = self._unfulfilled.pop(0)
        cards = self.sandbox.shopify.fulfill_order(order)
        return f"Shopify fulfilled an order and issued {len(cards)} native card(s)"

    def checkout_with_card(self) -> str | None:
        codes = self._usable(self._store_codes())
        if not codes:
            return None
        buyer, email = self.random.choice(PEOPLE)
        order = self.sandbox.shopify.checkout_with_gift_cards(
            [self.random.choice(codes)],
            OrderSpec(
                customer=CustomerSpec(email, *buyer.split()),
                line_items=[LineItemSpec(name="Book", price="18.00")],
            ),
        )
        self._paid_orders.append(f"gid://shopify/Order/{order.number}")
        return f"{buyer} paid an online order with a card sold in a store"

    def refund_checkout(self) -> str | None:
        if not self._paid_orders:
            return None
        order = self._paid_orders.pop(0)
        self.sandbox.shopify.refund_to_gift_card(order, "5.00")
        return "an online order paid by gift card was partly refunded to the card"
