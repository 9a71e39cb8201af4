"""Card actions end to end (sandbox over HTTP, real prong): each applied, each refusal.

The tests read the ``desk`` scenario (``tests/e2e/store_desk.py``), built once per module.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from cards.vocab import Metric
from config.layout import CardActions, GiftCards, Receipts
from tests.e2e.store_desk import Desk
from tests.e2e.store_helpers import dec, masked

pytestmark = pytest.mark.slow

A, G = CardActions, GiftCards


# --- Card Actions ----------------------------------------------------------------------------


def _applied(desk: Desk, name: str, message: str) -> str:
    row = desk.row(name)
    assert (row[A.STATUS], row[A.OUTCOME], row[A.RESULT_MESSAGE]) == ("Done", "Applied", message)
    return desk.key("action", name)


def _money_receipt(
    desk: Desk, ref: str, card: str, kind: str, amounts: tuple[str, str, str]
) -> dict[str, Any]:
    """A money action's receipt (amount, before, after), tied to the Shopify transaction that
    carries the action's note."""
    receipt = desk.world.receipts()[ref]
    assert receipt[Receipts.GIFT_CARD] == [card] and receipt[Receipts.SOURCE] == "Manual"
    fields = (Receipts.AMOUNT, Receipts.BALANCE_BEFORE, Receipts.BALANCE_AFTER)
    assert tuple(dec(receipt[f]) for f in fields) == tuple(Decimal(a) for a in amounts)
    txn = desk.world.transaction(card, ref.rsplit(":", 1)[0])
    assert (txn.kind, txn.amount) == (kind, abs(Decimal(amounts[0])))
    assert str(receipt[Receipts.SHOPIFY_REFERENCE]).endswith(f"Transaction/{txn.number}")
    return receipt


def test_void_debits_everything_remembers_it_and_tells_the_holder(desk: Desk) -> None:
    w, card, code = desk.world, desk.cards["void"], desk.codes["void"]
    key = _applied(desk, "void", f"Voided {masked(code)}: 50.00 USD debited.")
    then = desk.seen["voided_card"]
    assert (then[G.STATUS], dec(then[G.BALANCE]), desk.seen["voided_balance"]) == (
        "Voided",
        Decimal(0),
        Decimal(0),
    )
    assert then[G.VOID_REASON] == f"Lost in the post\ngiftbridge voided 50.00 USD ({key})"
    receipt = _money_receipt(desk, f"{key}:voided", card, "debit", ("50.00", "50.00", "0.00"))
    assert receipt[Receipts.DETAILS] == "Lost in the post"
    assert w.references_of(key) == {f"{key}:voided", f"{key}:sent:recipient"}
    voided = w.event(f"{key}:recipient")
    assert (voided.metric, voided.email) == (Metric.VOIDED.value, "void@example.com")
    assert voided.properties == {
        "masked_code": masked(code),
        "balance": "50.00",
        "reason": "Lost in the post",
    }


def test_reactivate_credits_the_voided_amount_back(desk: Desk) -> None:
    w, card = desk.world, desk.cards["void"]
    key = _applied(
        desk, "reactivate", f"Reactivated {masked(desk.codes['void'])}: 50.00 USD credited back."
    )
    _money_receipt(desk, f"{key}:reactivated", card, "credit", ("50.00", "0.00", "50.00"))
    assert w.row(card)[G.STATUS] == "Active" and G.VOID_REASON not in w.row(card)
    w.assert_mirrored(card, "50.00")


@pytest.mark.parametrize(
    ("name", "kind", "amounts", "signed"),
    [
        ("up", "credit", ("10.00", "25.00", "35.00"), "10.00"),
        ("down", "debit", ("-5.50", "25.00", "19.50"), "-5.50"),
    ],
)
def test_adjust_balance_moves_the_signed_amount_in_shopify_first(
    desk: Desk, name: str, kind: str, amounts: tuple[str, str, str], signed: str
) -> None:
    w, card = desk.world, desk.cards[name]
    message = f"Adjusted {masked(desk.codes[name])} by {signed} USD; {amounts[2]} USD now."
    key = _applied(desk, name, message)
    _money_receipt(desk, f"{key}:adjusted", card, kind, amounts)
    assert w.references_of(key) == {f"{key}:adjusted"}
    w.assert_mirrored(card, amounts[2])


def test_resend_sends_the_sealed_code_to_the_holder_again(desk: Desk) -> None:
    w, code = desk.world, desk.codes["resend"]
    key = _applied(desk, "resend", f"Sent {masked(code)} to resend@example.com again.")
    again = w.event(f"{key}:recipient")
    assert (again.metric, again.email, again.properties["code"]) == (
        Metric.ISSUED.value,
        "resend@example.com",
        code,
    )
    assert len(w.online.klaviyo.events_for(Metric.ISSUED.value, "resend@example.com")) == 2
    assert w.references_of(key) == {f"{key}:sent:recipient"}


def test_regenerate_pdf_replaces_the_record_copy(desk: Desk) -> None:
    w, card = desk.world, desk.cards["regen"]
    key = _applied(desk, "regen", "The certificate was regenerated.")
    (before,), (after,) = desk.seen["regen_before"], w.row(card)[G.CERTIFICATE]
    assert after["id"] != before["id"] and after["filename"] == before["filename"]
    assert w.references_of(key) == {f"{key}:certificate-regenerated"}
    w.assert_mirrored(card, "20.00")


def test_extend_expiry_brings_an_expired_card_back_in_both_places(desk: Desk) -> None:
    w, card, new = desk.world, desk.cards["extend"], desk.seen["new_expiry"]
    old = desk.today - timedelta(days=1)
    key = _applied(desk, "extend", f"Expiry changed: {old} -> {new}.")
    row = w.row(card)
    assert (row[G.STATUS], row[G.EXPIRES_ON]) == ("Active", new.isoformat())
    assert w.online.shop.card(str(row[G.SHOPIFY_GIFT_CARD_ID])).expires_on == new
    assert w.receipts()[f"{key}:expiry-changed"][Receipts.DETAILS] == f"{old} -> {new}"


@pytest.mark.parametrize(
    ("name", "outcome", "message"),
    [
        (
            "not_allowed",
            "Not Allowed",
            "Only a voided card can be reactivated; this one is Active.",
        ),
        ("no_card", "Card Not Found", "No gift card is linked."),
        (
            "no_amount",
            "Invalid Amount",
            "Give a non-zero Amount: positive credits, negative debits.",
        ),
    ],
)
def test_a_refused_card_action_changes_nothing(
    desk: Desk, name: str, outcome: str, message: str
) -> None:
    row = desk.row(name)
    assert (row[A.STATUS], row[A.OUTCOME], row[A.RESULT_MESSAGE]) == ("Rejected", outcome, message)
    assert desk.world.references_of(desk.key("action", name)) == set()
    assert not [n for n in desk.world.notes(desk.cards["other"]) if n[2] and "action:" in n[2]]
    desk.world.assert_mirrored(desk.cards["other"], "35.00")
