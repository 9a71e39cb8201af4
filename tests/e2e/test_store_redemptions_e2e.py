"""Every store-redemption outcome end to end: the sandbox over HTTP, the real adapters and prong.

One sandbox for the module, built up in phases (each one run of the store-transactions prong):
cards are sold at the till; one is voided by an operator, one expires; then a till types a batch
of redemptions covering every outcome; finally Shopify becomes unreachable for one lookup and
Klaviyo keeps failing for one notice. The tests only read what the phases left behind.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from cards.codes import ALPHABET, generate
from cards.vocab import (
    CardActionType,
    CardSource,
    CardStatus,
    Kind,
    Metric,
    ReceiptAction,
    RedemptionOutcome,
    RequestStatus,
)
from config.layout import GiftCards, Receipts, StoreRedemptions
from prongs.report import RunReport
from tests.e2e.store_helpers import (
    EMAIL_TRIES,
    FAST_RETRY,
    STORE_EMAIL,
    StoreWorld,
    dec,
    masked,
    store_online,
)

pytestmark = pytest.mark.slow

S = StoreRedemptions
R = RedemptionOutcome
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


def _typo(code: str) -> str:
    """One substituted character: a check character catches every such typo."""
    swapped = next(c for c in ALPHABET if c != code[3])
    return code[:3] + swapped + code[4:]


def _sell(till: Till) -> None:
    w = till.world
    sold = {
        name: w.creation(amount, email=f"{name}@example.com", kind=kind)
        for name, (amount, kind) in SOLD.items()
    }
    till.reports["sell"] = w.run()
    for name, request in sold.items():
        till.cards[name] = w.card_of(request)
        till.codes[name] = w.code_for(f"{name}@example.com")


def _prepare(till: Till) -> None:
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


def _redeem(till: Till) -> None:
    w, c = till.world, till.codes
    dashed = "-".join(c["dashes"][i : i + 4] for i in range(0, len(c["dashes"]), 4)).lower()
    typed: dict[str, tuple[str, str | None, str | None]] = {
        "success": (c["success"], "30.00", None),
        "dashes": (dashed, "20.00", None),
        "native": (NATIVE_CODE, "15.00", None),
        "cert_ok": (c["cert_ok"], None, "45.00"),
        "too_short": ("ABC", "10.00", None),
        "typo": (_typo(c["success"]), "10.00", None),
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


def _unreachable_then_silent(till: Till) -> None:
    """Shopify's code search fails for one lookup; then Klaviyo fails for one store notice."""
    w = till.world
    till.requests["lookup_failed"] = w.redemption("SHOPIFYDOWN1", "10.00")
    w.online.shop.faults.add("shopify.giftCards", "fail_before", times=FAST_RETRY.attempts)
    till.reports["unreachable"] = w.run()
    till.requests["silent"] = w.redemption(till.codes["silent"], "10.00")
    w.online.klaviyo.faults.add("klaviyo.create_event", "fail_before", times=EMAIL_TRIES)
    till.reports["silent"] = w.run()


@pytest.fixture(scope="module")
def till() -> Iterator[Till]:
    with store_online() as world:
        till = Till(world)
        _sell(till)
        _prepare(till)
        _redeem(till)
        _unreachable_then_silent(till)
        yield till


# --- the runs themselves ---------------------------------------------------------------------


def test_each_run_reports_the_outcomes_of_its_requests(till: Till) -> None:
    assert till.reports["sell"].outcomes == {"Created": len(SOLD)}
    assert till.reports["prepare"].outcomes == {"Applied": 1}  # the operator's void
    assert till.reports["redeem"].outcomes == {
        "Success": 4,
        "Format Incorrect": 2,
        "Not Found": 1,
        "Insufficient Balance": 1,
        "Expired": 1,
        "Voided": 1,
        "Not Active": 1,
        "Invalid Amount": 5,
        "Exceeds Order Total": 1,
        "Error": 1,
    }
    assert till.reports["unreachable"].outcomes == {"Error": 1}
    assert till.reports["unreachable"].errors == [
        f"redemption {till.requests['lookup_failed']}: Retryable: shopify GiftCardsByCode: HTTP 502"
    ]
    assert till.reports["silent"].outcomes == {"Success": 1}
    assert not till.world.online.shop.faults.pending()  # every injected fault was met
    assert not till.world.online.klaviyo.faults.pending()


def test_no_processed_request_keeps_a_typed_code(till: Till) -> None:
    rows = till.world.online.rows(S.TABLE)
    assert len(rows) == len(till.requests)
    for row in rows:
        assert row[S.STATUS] in {"Done", "Rejected", "Needs Attention"}
        assert str(row[S.CODE]).startswith("\u2022" * 8), row[S.CODE]
        assert row[S.PROCESSED_AT] and row[S.RESULT_MESSAGE]
    plain = [c.upper() for c in till.codes.values()] + [NATIVE_CODE.upper()]
    dump = str(rows).upper()
    assert not [c for c in plain if c in dump]


# --- Success -----------------------------------------------------------------------------------


def _native_card(till: Till) -> str:
    gid = till.world.online.shop.card(NATIVE_CODE).number
    (row,) = [
        r
        for r in till.world.online.rows(GiftCards.TABLE)
        if r.get(GiftCards.ORIGIN_KEY) == f"native:{gid}"
    ]
    return str(row["id"])


@pytest.mark.parametrize(
    ("name", "card", "amount", "before", "after"),
    [
        ("success", "success", "30.00", "100.00", "70.00"),
        ("dashes", "dashes", "20.00", "80.00", "60.00"),  # typed lower case with dashes
        ("native", None, "15.00", "60.00", "45.00"),  # Shopify issued it: imported first
        ("cert_ok", "cert_ok", "30.00", "30.00", "0.00"),  # a certificate: used in full
    ],
)
def test_success_debits_shopify_then_mirrors_and_records_it(
    till: Till, name: str, card: str | None, amount: str, before: str, after: str
) -> None:
    w, rec = till.world, till.requests[name]
    card_id = till.cards[card] if card else _native_card(till)
    code = till.codes.get(card or "", NATIVE_CODE)
    row = till.req(name)
    assert row[S.STATUS] == RequestStatus.DONE.value
    assert row[S.OUTCOME] == R.SUCCESS.value
    assert row[S.GIFT_CARD] == [card_id]
    assert dec(row[S.BALANCE_AFTER]) == Decimal(after)
    assert row[S.CODE] == masked(code)
    (txn,) = [t for t in w.notes(card_id) if t[2] == f"giftbridge redeem:{rec}"]
    assert txn[:2] == ("debit", Decimal(amount))
    assert str(row[S.SHOPIFY_TRANSACTION_ID]).startswith("gid://shopify/GiftCardDebitTransaction/")
    w.assert_mirrored(card_id, after)
    receipt = w.receipts()[f"redeem:{rec}:redeemed"]
    assert receipt[Receipts.ACTION] == ReceiptAction.REDEEMED.value
    assert (dec(receipt[Receipts.AMOUNT]), dec(receipt[Receipts.BALANCE_BEFORE])) == (
        Decimal(amount),
        Decimal(before),
    )
    assert dec(receipt[Receipts.BALANCE_AFTER]) == Decimal(after)
    assert receipt[Receipts.SHOPIFY_REFERENCE] == row[S.SHOPIFY_TRANSACTION_ID]
    assert receipt[Receipts.GIFT_CARD] == [card_id] and receipt[Receipts.STORE] == [w.store_id]
    assert receipt[Receipts.REQUEST] == rec and receipt[Receipts.SOURCE] == "Store"
    assert w.references_of(f"redeem:{rec}") == {f"redeem:{rec}:redeemed"}
    notice = w.event(f"redeem:{rec}:store")
    assert notice.metric == Metric.STORE_NOTICE.value and notice.email == STORE_EMAIL
    assert notice.properties == {
        "notice": "redemption",
        "outcome": "Success",
        "masked_code": masked(code),
        "amount": amount,
        "currency": "USD",
        "balance_after": after,
        "request_id": rec,
        "message": row[S.RESULT_MESSAGE],
    }


def test_the_messages_say_what_was_taken_and_what_is_left(till: Till) -> None:
    success, cert = till.req("success"), till.req("cert_ok")
    assert success[S.RESULT_MESSAGE] == (
        f"Redeemed 30.00 USD from {masked(till.codes['success'])}; 70.00 USD left."
    )
    assert cert[S.RESULT_MESSAGE] == (
        f"Certificate {masked(till.codes['cert_ok'])} used in full: 30.00 USD."
    )


def test_a_native_card_at_the_till_gets_an_imported_row_first(till: Till) -> None:
    native = till.world.online.shop.card(NATIVE_CODE)
    row = till.world.row(_native_card(till))
    assert row[GiftCards.SOURCE] == CardSource.IMPORTED.value
    assert row[GiftCards.SHOPIFY_GIFT_CARD_ID] == f"gid://shopify/GiftCard/{native.number}"
    assert row[GiftCards.CODE_DIGEST] and GiftCards.CODE_SEALED not in row
    assert row[GiftCards.MASKED_CODE] == masked(NATIVE_CODE)
    assert row[GiftCards.LAST_CHARACTERS] == "RD42"
    assert row[GiftCards.STATUS] == CardStatus.ACTIVE.value
    assert dec(row[GiftCards.INITIAL_VALUE]) == Decimal("60.00")


def test_a_certificate_used_in_full_leaves_its_card_redeemed(till: Till) -> None:
    row = till.world.row(till.cards["cert_ok"])
    assert row[GiftCards.KIND] == Kind.CERTIFICATE.value
    assert row[GiftCards.STATUS] == CardStatus.REDEEMED.value


# --- refusals ------------------------------------------------------------------------------

BAD_FORMAT = "The code is not in the right format; check it and try again."
TOO_LITTLE = "The amount must be more than zero."


#: request -> (Outcome, card, the amount the notice and receipt carry, Result Message)
REFUSED: dict[str, tuple[R, str | None, str | None, str]] = {
    "too_short": (R.FORMAT_INCORRECT, None, "10.00", BAD_FORMAT),
    "typo": (R.FORMAT_INCORRECT, None, "10.00", BAD_FORMAT),
    "not_found": (R.NOT_FOUND, None, "10.00", "No gift card has this code."),
    "insufficient": (
        R.INSUFFICIENT_BALANCE,
        "short",
        "25.00",
        "The card has only 10.00 USD; 25.00 USD was asked.",
    ),
    "expired": (R.EXPIRED, "expired", "10.00", "The card expired on {expired_on}."),
    "voided": (R.VOIDED, "voided", "10.00", "The card has been voided."),
    "not_active": (R.NOT_ACTIVE, "pending", "10.00", "The card is not active yet."),
    "blank": (R.INVALID_AMOUNT, "amounts", None, "The amount is missing."),
    "zero": (R.INVALID_AMOUNT, "amounts", "0.00", TOO_LITTLE),
    "negative": (R.INVALID_AMOUNT, "amounts", "-5.00", TOO_LITTLE),
    "precise": (R.INVALID_AMOUNT, "amounts", None, "The amount 12.345 has too many decimals."),
    "too_much": (
        R.INVALID_AMOUNT,
        "amounts",
        "1000.01",
        "The amount is above the maximum 1000.00 USD.",
    ),
    "exceeds": (
        R.EXCEEDS_ORDER_TOTAL,
        "cert_big",
        "50.00",
        "The certificate is worth 50.00 USD, more than the order total 40.00 USD; "
        "it can only be used on an order of at least its value.",
    ),
}


@pytest.mark.parametrize("name", REFUSED)
def test_a_refusal_moves_nothing_and_tells_the_store_why(till: Till, name: str) -> None:
    w, rec = till.world, till.requests[name]
    outcome, card, amount, template = REFUSED[name]
    message = template.format(expired_on=till.expired_on)
    row = till.req(name)
    assert (row[S.STATUS], row[S.OUTCOME]) == (RequestStatus.REJECTED.value, outcome.value)
    assert row[S.RESULT_MESSAGE] == message
    assert row.get(S.GIFT_CARD) == ([till.cards[card]] if card else None)
    assert S.BALANCE_AFTER not in row and S.SHOPIFY_TRANSACTION_ID not in row
    receipt = w.receipts()[f"redeem:{rec}:redemption-rejected"]
    assert receipt[Receipts.DETAILS] == f"{outcome.value}: {message}"
    assert receipt.get(Receipts.GIFT_CARD) == row.get(S.GIFT_CARD)
    assert receipt[Receipts.STORE] == [w.store_id] and receipt[Receipts.REQUEST] == rec
    amount_cell = receipt.get(Receipts.AMOUNT)
    assert (dec(amount_cell) if amount_cell is not None else None) == (
        Decimal(amount) if amount else None
    )
    assert w.references_of(f"redeem:{rec}") == {f"redeem:{rec}:redemption-rejected"}
    notice = w.event(f"redeem:{rec}:store")
    assert notice.email == STORE_EMAIL
    assert notice.properties == {
        "notice": "redemption",
        "outcome": outcome.value,
        "masked_code": row[S.CODE],
        "amount": amount,
        "currency": "USD",
        "balance_after": None,
        "request_id": rec,
        "message": message,
    }
    if card and card != "pending":  # nothing moved under this request's key
        assert not [t for t in w.notes(till.cards[card]) if t[2] == f"giftbridge redeem:{rec}"]


@pytest.mark.parametrize(
    ("card", "balance"),
    [("short", "10.00"), ("expired", "50.00"), ("amounts", "50.00"), ("cert_big", "50.00")],
)
def test_refused_cards_keep_their_balance_in_both_places(
    till: Till, card: str, balance: str
) -> None:
    till.world.assert_mirrored(till.cards[card], balance)


def test_the_voided_card_stays_empty_and_voided(till: Till) -> None:
    till.world.assert_mirrored(till.cards["voided"], "0.00")
    assert till.world.row(till.cards["voided"])[GiftCards.STATUS] == CardStatus.VOIDED.value


def test_the_masked_code_of_an_unknown_or_malformed_code_is_the_typed_one(till: Till) -> None:
    assert till.req("too_short")[S.CODE] == "\u2022" * 8 + "ABC"
    assert till.req("typo")[S.CODE] == masked(_typo(till.codes["success"]))


# --- Error and Needs Attention -------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "card", "message"),
    [
        (
            "refused",
            "orphan",
            "Shopify refused the debit (shopify giftCardDebit: GIFT_CARD_NOT_FOUND: "
            "The gift card could not be found).",
        ),
        (
            "lookup_failed",
            None,
            "Something went wrong (Retryable: shopify GiftCardsByCode: HTTP 502); "
            "nothing was debited.",
        ),
    ],
)
def test_an_error_needs_attention_and_still_tells_the_store(
    till: Till, name: str, card: str | None, message: str
) -> None:
    w, rec = till.world, till.requests[name]
    row = till.req(name)
    assert (row[S.STATUS], row[S.OUTCOME]) == ("Needs Attention", R.ERROR.value)
    assert row[S.RESULT_MESSAGE] == message
    assert row.get(S.GIFT_CARD) == ([till.cards[card]] if card else None)
    assert S.SHOPIFY_TRANSACTION_ID not in row and S.BALANCE_AFTER not in row
    receipt = w.receipts()[f"redeem:{rec}:redemption-rejected"]
    assert receipt[Receipts.DETAILS] == f"Error: {message}"
    assert w.event(f"redeem:{rec}:store").properties["outcome"] == "Error"


def test_a_store_notice_that_keeps_failing_leaves_the_success_needing_attention(
    till: Till,
) -> None:
    w, rec, card = till.world, till.requests["silent"], till.cards["silent"]
    row = till.req("silent")
    assert (row[S.STATUS], row[S.OUTCOME]) == ("Needs Attention", R.SUCCESS.value)
    assert row[S.RESULT_MESSAGE].endswith(
        "The email to the store kept failing; see the Email Failed receipt.")
    assert dec(row[S.BALANCE_AFTER]) == Decimal("30.00")
    w.assert_mirrored(card, "30.00")
    assert w.references_of(f"redeem:{rec}") == {
        f"redeem:{rec}:redeemed",
        f"redeem:{rec}:email-failed:store",
    }
    failed = w.receipts()[f"redeem:{rec}:email-failed:store"]
    assert failed[Receipts.ACTION] == ReceiptAction.EMAIL_FAILED.value
    assert failed[Receipts.DETAILS] == "Gift Card Store Notice to the store kept failing"
    assert w.events(f"redeem:{rec}:store") == []
