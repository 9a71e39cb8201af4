"""The scenario the store-redemption end-to-end modules read (sandbox over HTTP, real prong).

One sandbox per test module, built up in phases (each one run of the store-transactions prong):
cards are sold at the till; one is voided by an operator, one expires; then a till types a batch
of redemptions covering every outcome; finally Shopify becomes unreachable for one lookup and
Klaviyo keeps failing for one notice. The tests only read what the phases left behind; the
``till`` fixture in ``conftest.py`` builds it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from cards.codes import ALPHABET, generate
from cards.vocab import CardActionType, CardStatus, Kind
from prongs.report import RunReport
from tests.e2e.store_helpers import EMAIL_TRIES, FAST_RETRY, StoreWorld

NATIVE_CODE = "nativeshopcard42"  # a code Shopify issued (no check character), lower case
MISSING_GID = "gid://shopify/GiftCard/987654321"


@dataclass
class Till:
    """What the phases left: cards by name, codes by name, requests by name, run reports."""

    world: StoreWorld
    cards: dict[str, str] = field(default_factory=dict)
    codes: dict[str, str] = field(default_factory=dict)
    requests: dict[str, str] = field(default_factory=dict)
    reports: dict[str, RunReport] = field(default_factory=dict)
    expired_on: str = ""

    def req(self, name: str) -> dict[str, Any]:
        return self.world.row(self.requests[name])


# name -> (amount, kind); the purchaser's email is <name>@example.com
SOLD = {
    "success": ("100.00", Kind.GIFT_CARD),
    "dashes": ("80.00", Kind.GIFT_CARD),
    "short": ("10.00", Kind.GIFT_CARD),
    "expired": ("50.00", Kind.GIFT_CARD),
    "voided": ("50.00", Kind.GIFT_CARD),
    "amounts": ("50.00", Kind.GIFT_CARD),
    "cert_big": ("50.00", Kind.CERTIFICATE),
    "cert_ok": ("30.00", Kind.CERTIFICATE),
    "silent": ("40.00", Kind.GIFT_CARD),
}


def typo(code: str) -> str:
    """One substituted character: a check character catches every such typo."""
    swapped = next(c for c in ALPHABET if c != code[3])
    return code[:3] + swapped + code[4:]


def sell(till: Till) -> None:
    w = till.world
    sold = {
        name: w.creation(amount, email=f"{name}@example.com", kind=kind)
        for name, (amount, kind) in SOLD.items()
    }
    till.reports["sell"] = w.run()
    for name, request in sold.items():
        till.cards[name] = w.card_of(request)
        till.codes[name] = w.code_for(f"{name}@example.com")


def prepare(till: Till) -> None:
    """An operator voids a card; another expires; a Pending row; a row whose Shopify card is
    gone; a card Shopify issued itself."""
    w = till.world
    w.card_action(CardActionType.VOID.value, till.cards["voided"], reason="Reported stolen")
    yesterday = datetime.now(UTC).date() - timedelta(days=1)
    w.expire(till.cards["expired"], yesterday)
    till.expired_on = yesterday.isoformat()
    pending, orphan = generate(12), generate(12)
    till.cards["pending"] = w.raw_card(pending, CardStatus.PENDING, "20.00", None)
    till.codes["pending"] = pending.reveal()
    till.cards["orphan"] = w.raw_card(orphan, CardStatus.ACTIVE, "20.00", MISSING_GID)
    till.codes["orphan"] = orphan.reveal()
    w.online.shop.issue_card("60.00", NATIVE_CODE)
    till.reports["prepare"] = w.run()


def redeem(till: Till) -> None:
    w, c = till.world, till.codes
    dashed = "-".join(c["dashes"][i : i + 4] for i in range(0, len(c["dashes"]), 4)).lower()
    typed: dict[str, tuple[str, str | None, str | None]] = {
        "success": (c["success"], "30.00", None),
        "dashes": (dashed, "20.00", None),
        "native": (NATIVE_CODE, "15.00", None),
        "cert_ok": (c["cert_ok"], None, "45.00"),
        "too_short": ("ABC", "10.00", None),
        "typo": (typo(c["success"]), "10.00", None),
        "not_found": (generate(12).reveal(), "10.00", None),
        "insufficient": (c["short"], "25.00", None),
        "expired": (c["expired"], "10.00", None),
        "voided": (c["voided"], "10.00", None),
        "not_active": (c["pending"], "10.00", None),
        "blank": (c["amounts"], None, None),
        "zero": (c["amounts"], "0", None),
        "negative": (c["amounts"], "-5.00", None),
        "precise": (c["amounts"], "12.345", None),
        "too_much": (c["amounts"], "1000.01", None),
        "exceeds": (c["cert_big"], None, "40.00"),
        "refused": (c["orphan"], "10.00", None),
    }
    for name, (code, amount, total) in typed.items():
        till.requests[name] = w.redemption(code, amount, total)
    till.reports["redeem"] = w.run()


def unreachable_then_silent(till: Till) -> None:
    """Shopify's code search fails for one lookup; then Klaviyo fails for one store notice."""
    w = till.world
    till.requests["lookup_failed"] = w.redemption("SHOPIFYDOWN1", "10.00")
    w.online.shop.faults.add("shopify.giftCards", "fail_before", times=FAST_RETRY.attempts)
    till.reports["unreachable"] = w.run()
    till.requests["silent"] = w.redemption(till.codes["silent"], "10.00")
    w.online.klaviyo.faults.add("klaviyo.create_event", "fail_before", times=EMAIL_TRIES)
    till.reports["silent"] = w.run()
