"""The scenario the store-request end-to-end modules read (sandbox over HTTP, real prong).

One sandbox per test module, built up in phases, each one run of the store-transactions prong:
``sell`` (Portal turned off: every creation outcome but a Portal card), ``serve`` (a Portal card,
every balance-check outcome at two checks an hour, every card action), ``reactivate`` (the voided
card comes back), then one creation and one balance check while Klaviyo keeps failing. The
tests read what the phases left (and the snapshots taken between them); the ``desk`` fixture in
``conftest.py`` builds it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from cards.codes import generate
from cards.vocab import CardActionType, Channel
from config.layout import CreationRequests, GiftCards
from prongs.report import RunReport
from tests.e2e.store_helpers import EMAIL_TRIES, StoreWorld

C, G = CreationRequests, GiftCards
ACTION_CARDS = {  # name -> value; bought by <name>@example.com for themselves
    "void": "50.00",
    "resend": "30.00",
    "regen": "20.00",
    "up": "25.00",
    "down": "25.00",
    "extend": "15.00",
    "other": "35.00",
    "balance": "45.00",
}


@dataclass
class Desk:
    world: StoreWorld
    req: dict[str, str] = field(default_factory=dict)  # request name -> record id
    cards: dict[str, str] = field(default_factory=dict)  # card name -> Gift Cards record id
    codes: dict[str, str] = field(default_factory=dict)
    reports: dict[str, RunReport] = field(default_factory=dict)
    seen: dict[str, Any] = field(default_factory=dict)  # snapshots between phases
    today: date = field(default_factory=lambda: datetime.now(UTC).date())

    def row(self, name: str) -> dict[str, Any]:
        return self.world.row(self.req[name])

    def key(self, kind: str, name: str) -> str:
        return f"{kind}:{self.req[name]}"


def sell(d: Desk) -> None:
    w, gift = d.world, ("Rita Recipient", "rita@example.com")
    greeting = {C.MESSAGE: "Happy birthday", C.THEME: "Birthday"}
    d.req["gift"] = w.creation("25.00", email="pat@example.com", gift_to=gift, extra=greeting)
    d.req["phone"] = w.creation(
        "40.00", email="phil@example.com", channel=Channel.PHONE, store=False
    )
    d.req["portal_off"] = w.creation("30.00", email="po@example.com", channel=Channel.PORTAL)
    for name, amount in [("blank", None), ("low", "4.99"), ("fine", "12.345"), ("high", "1000.01")]:
        d.req[name] = w.creation(amount, email=f"{name}@example.com")
    d.req["bad_email"] = w.creation("25.00", email="not-an-email")
    d.req["bad_gift_email"] = w.creation("25.00", gift_to=("Rita", "rita@nowhere"))
    d.req["no_name"] = w.creation("25.00", purchaser=None, email="anon@example.com")
    d.req["no_recipient_email"] = w.creation(
        "25.00", email="pat@example.com", extra={C.IS_GIFT: True, C.RECIPIENT_NAME: "Rita"}
    )
    bought = {n: w.creation(v, email=f"{n}@example.com") for n, v in ACTION_CARDS.items()}
    d.reports["sell"] = w.run(portal_enabled=False)
    for name, request in bought.items():
        d.cards[name], d.codes[name] = w.card_of(request), w.code_for(f"{name}@example.com")


def serve(d: Desk) -> None:
    w, cards = d.world, d.cards
    d.req["portal"] = w.creation(
        "60.00",
        purchaser="Paula Portal",
        email="paula@example.com",
        channel=Channel.PORTAL,
        store=False,
    )
    d.req["sent"] = w.balance_check(d.codes["balance"], "asker@example.com")
    d.seen["unknown"] = generate(12).reveal()
    d.req["not_found"] = w.balance_check(d.seen["unknown"], "asker2@example.com")
    d.req["format"] = w.balance_check("ABC", "asker3@example.com")
    d.req["check_bad_email"] = w.balance_check(d.codes["balance"], "nope")
    for n in (1, 2, 3):
        d.req[f"often{n}"] = w.balance_check(generate(12).reveal(), "often@example.com")
    yesterday, d.seen["new_expiry"] = d.today - timedelta(days=1), d.today + timedelta(days=365)
    w.expire(cards["extend"], yesterday)
    d.seen["regen_before"] = w.row(cards["regen"])[G.CERTIFICATE]
    t = CardActionType
    d.req["void"] = w.card_action(t.VOID, cards["void"], reason="Lost in the post")
    d.req["resend"] = w.card_action(t.RESEND, cards["resend"])
    d.req["regen"] = w.card_action(t.REGENERATE_PDF, cards["regen"])
    d.req["up"] = w.card_action(t.ADJUST_BALANCE, cards["up"], amount="10.00", reason="Goodwill")
    d.req["down"] = w.card_action(t.ADJUST_BALANCE, cards["down"], amount="-5.50")
    new_expiry = d.seen["new_expiry"]
    d.req["extend"] = w.card_action(t.EXTEND_EXPIRY, cards["extend"], new_expiry=new_expiry)
    d.req["not_allowed"] = w.card_action(t.REACTIVATE, cards["other"])
    d.req["no_card"] = w.card_action(t.VOID, None, reason="Which one?")
    d.req["no_amount"] = w.card_action(t.ADJUST_BALANCE, cards["other"])
    d.reports["serve"] = w.run(checks_per_hour=2)
    d.seen["voided_card"] = w.row(cards["void"])
    d.seen["voided_balance"] = w.shopify_balance(cards["void"])


def reactivate_then_fail(d: Desk) -> None:
    w = d.world
    d.req["reactivate"] = w.card_action(CardActionType.REACTIVATE, d.cards["void"])
    d.reports["reactivate"] = w.run()
    d.req["unlucky"] = w.creation(
        "20.00", email="fay@example.com", gift_to=("Finn", "finn@example.com")
    )
    w.online.klaviyo.faults.add("klaviyo.create_event", "fail_before", times=EMAIL_TRIES)
    d.reports["unlucky"] = w.run()
    d.req["unlucky_check"] = w.balance_check(generate(12).reveal(), "unlucky@example.com")
    w.online.klaviyo.faults.add("klaviyo.create_event", "fail_before", times=EMAIL_TRIES)
    d.reports["unlucky_check"] = w.run()
