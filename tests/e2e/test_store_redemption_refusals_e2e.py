"""Store redemptions end to end (sandbox over HTTP, real prong): every refusal and error.

The tests read the ``till`` scenario (``tests/e2e/store_till.py``), built once per module.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from cards.vocab import CardStatus, ReceiptAction, RedemptionOutcome, RequestStatus
from config.layout import GiftCards, Receipts, StoreRedemptions
from tests.e2e.store_helpers import STORE_EMAIL, dec, masked
from tests.e2e.store_till import Till, typo

pytestmark = pytest.mark.slow

S = StoreRedemptions
R = RedemptionOutcome


# --- refusals ------------------------------------------------------------------------------

BAD_FORMAT = "The code is not in the right format; check it and try again."
TOO_PRECISE = "The amount is not valid: 12.345 has more precision than USD allows (2 decimals)."
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
    "precise": (R.INVALID_AMOUNT, "amounts", None, TOO_PRECISE),
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
    assert till.req("typo")[S.CODE] == masked(typo(till.codes["success"]))


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
        "The email to the store kept failing; see the Email Failed receipt."
    )
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
