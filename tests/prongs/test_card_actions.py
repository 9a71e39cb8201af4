"""Card actions by operators: each action, its receipts, and what is not allowed."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from cards.policy import ExpiryPolicy
from cards.vocab import CardActionOutcome, CardActionType, CardStatus, Metric, RequestStatus
from config.layout import CardActions, CreationRequests, GiftCards, Receipts
from prongs.store_context import StoreConfig
from tests.fakes import SimulatedCrash
from tests.prongs.conftest import Harness, card_config, usd

A = CardActions
T = CardActionType


def action(h: Harness, rec: str) -> dict[str, Any]:
    return h.at.row(A.TABLE, rec)


def applied(h: Harness, rec: str) -> dict[str, Any]:
    row = action(h, rec)
    assert row[A.OUTCOME] == CardActionOutcome.APPLIED, row.get(A.RESULT_MESSAGE)
    assert row[A.STATUS] == RequestStatus.DONE
    return row


def refused(h: Harness, rec: str, outcome: CardActionOutcome) -> str:
    row = action(h, rec)
    assert row[A.OUTCOME] == outcome and row[A.STATUS] == RequestStatus.REJECTED
    return str(row[A.RESULT_MESSAGE])


def void(h: Harness, card: str, reason: str = "reported stolen") -> str:
    rec = h.card_action(card, T.VOID, reason=reason)
    h.run()
    return rec


def test_void_debits_the_rest_keeps_the_card_enabled_and_tells_the_holder(h: Harness) -> None:
    card = h.issue("50.00")
    h.redemption(h.code_of(card).reveal(), "10.00")
    h.run()
    rec = void(h, card)
    applied(h, rec)
    gid = h.shopify_id(card)
    assert h.shop.balance(gid) == usd("0.00") and h.shop.cards[gid].card.enabled
    assert h.shop.notes(gid)[-1] == f"giftbridge action:{rec}"
    row = h.card(card)
    assert row[GiftCards.STATUS] == CardStatus.VOIDED and row[GiftCards.BALANCE] == usd("0.00")
    assert row[GiftCards.VOID_REASON].startswith("reported stolen\n")
    assert f"40.00 USD (action:{rec})" in row[GiftCards.VOID_REASON]
    email = h.event(f"action:{rec}:recipient")
    assert email.metric == Metric.VOIDED and email.email == "rae@example.com"
    assert dict(email.properties) == {
        "masked_code": row[GiftCards.MASKED_CODE],
        "balance": "40.00",
        "reason": "reported stolen",
    }
    receipts = h.receipts()
    voided = receipts[f"action:{rec}:voided"]
    assert voided[Receipts.AMOUNT] == usd("40.00") and voided[Receipts.BALANCE_AFTER] == usd("0.00")
    assert voided[Receipts.SOURCE] == "Manual" and voided[Receipts.REQUEST] == rec
    assert f"action:{rec}:sent:recipient" in receipts


def test_void_needs_a_reason_and_an_active_card(h: Harness) -> None:
    card = h.issue("10.00")
    no_reason = h.card_action(card, T.VOID)
    h.run()
    assert "reason" in refused(h, no_reason, CardActionOutcome.NOT_ALLOWED)
    h.redemption(h.code_of(card).reveal(), "10.00")
    h.run()
    redeemed = void(h, card)
    assert "Redeemed" in refused(h, redeemed, CardActionOutcome.NOT_ALLOWED)


def test_reactivate_credits_the_voided_amount_back(h: Harness) -> None:
    card = h.issue("50.00")
    void(h, card)
    rec = h.card_action(card, T.REACTIVATE)
    h.run()
    applied(h, rec)
    gid = h.shopify_id(card)
    assert h.shop.balance(gid) == usd("50.00") == h.card(card)[GiftCards.BALANCE]
    assert h.card(card)[GiftCards.STATUS] == CardStatus.ACTIVE
    assert GiftCards.VOID_REASON not in h.card(card)
    receipt = h.receipts()[f"action:{rec}:reactivated"]
    assert receipt[Receipts.AMOUNT] == usd("50.00")
    assert receipt[Receipts.BALANCE_BEFORE] == usd("0.00")


def test_reactivate_refuses_a_card_that_is_not_voided(h: Harness) -> None:
    card = h.issue("50.00")
    rec = h.card_action(card, T.REACTIVATE)
    h.run()
    refused(h, rec, CardActionOutcome.NOT_ALLOWED)
    assert h.shop.notes(h.shopify_id(card)) == []


def test_resend_sends_the_code_again_under_its_own_unique_id(h: Harness) -> None:
    card = h.issue("50.00")
    rec = h.card_action(card, T.RESEND)
    h.run()
    applied(h, rec)
    again = h.event(f"action:{rec}:recipient")
    original = h.event(f"create:{h.card(card)[GiftCards.ORIGIN_KEY].split(':')[1]}:recipient")
    assert again.metric == Metric.ISSUED and again.unique_id != original.unique_id
    assert again.properties["code"] == original.properties["code"] == h.code_of(card).reveal()
    assert f"action:{rec}:sent:recipient" in h.receipts()


def test_resend_is_not_allowed_for_a_card_giftbridge_holds_no_code_for(h: Harness) -> None:
    h.shop.issue_native("NATIVE7KQ2XY", usd("30.00"))
    h.balance_check("NATIVE7KQ2XY")
    h.run()
    (card,) = h.at.rows(GiftCards.TABLE)
    rec = h.card_action(card["id"], T.RESEND)
    h.run()
    assert "Shopify issued it" in refused(h, rec, CardActionOutcome.NOT_ALLOWED)


def test_regenerate_pdf_attaches_the_record_copy_again(h: Harness) -> None:
    card = h.issue("50.00")
    before = len(h.world.certificates.rendered)
    rec = h.card_action(card, T.REGENERATE_PDF)
    h.run()
    applied(h, rec)
    assert len(h.world.certificates.rendered) == before + 1
    assert h.world.certificates.rendered[-1].code_display == h.code_of(card).masked
    assert f"action:{rec}:certificate-regenerated" in h.receipts()


def test_adjust_balance_credits_and_debits_and_moves_between_redeemed_and_active(
    h: Harness,
) -> None:
    card = h.issue("20.00")
    h.redemption(h.code_of(card).reveal(), "20.00")
    h.run()
    up = h.card_action(card, T.ADJUST_BALANCE, amount="5.00", reason="goodwill")
    h.run()
    applied(h, up)
    assert h.card(card)[GiftCards.STATUS] == CardStatus.ACTIVE
    assert h.card(card)[GiftCards.BALANCE] == usd("5.00")
    down = h.card_action(card, T.ADJUST_BALANCE, amount="-5.00")
    h.run()
    applied(h, down)
    assert h.card(card)[GiftCards.STATUS] == CardStatus.REDEEMED
    assert h.shop.balance(h.shopify_id(card)) == usd("0.00")
    receipt = h.receipts()[f"action:{down}:adjusted"]
    assert receipt[Receipts.AMOUNT] == usd("-5.00") and receipt[Receipts.BALANCE_BEFORE] == usd(
        "5.00"
    )


@pytest.mark.parametrize("amount", [None, "0", "1.001", "-20.01", "1000.01"])
def test_adjust_balance_invalid_amounts(h: Harness, amount: str | None) -> None:
    card = h.issue("20.00")
    rec = h.card_action(card, T.ADJUST_BALANCE, amount=amount)
    h.run()
    refused(h, rec, CardActionOutcome.INVALID_AMOUNT)
    assert h.shop.balance(h.shopify_id(card)) == usd("20.00")


def test_extend_expiry_brings_an_expired_card_back() -> None:
    h = Harness(config=StoreConfig(card=card_config(expiry=ExpiryPolicy(30))))
    card = h.issue("20.00")
    h.world.clock.advance(timedelta(days=40).total_seconds())
    h.at.edit(GiftCards.TABLE, card, {GiftCards.STATUS: CardStatus.EXPIRED})
    new = date(2027, 6, 1)
    rec = h.card_action(card, T.EXTEND_EXPIRY, new_expiry=new)
    h.run()
    applied(h, rec)
    assert h.card(card)[GiftCards.STATUS] == CardStatus.ACTIVE
    assert h.card(card)[GiftCards.EXPIRES_ON] == new
    assert h.shop.cards[h.shopify_id(card)].card.expires_on == new
    assert f"action:{rec}:expiry-changed" in h.receipts()
    past = h.card_action(card, T.EXTEND_EXPIRY, new_expiry=date(2026, 1, 1))
    h.run()
    assert "passed" in refused(h, past, CardActionOutcome.NOT_ALLOWED)


def test_card_not_found(h: Harness) -> None:
    rec = h.card_action(None, T.VOID, reason="x")
    h.run()
    refused(h, rec, CardActionOutcome.CARD_NOT_FOUND)


def test_voiding_a_pending_card_also_empties_a_shopify_card_made_before_a_crash(
    h: Harness,
) -> None:
    rec = h.creation()
    h.injector.arm("airtable.update", "crash_before")  # after giftCardCreate, before Active
    with pytest.raises(SimulatedCrash):
        h.run()
    (card,) = h.at.rows(GiftCards.TABLE)
    assert card[GiftCards.STATUS] == CardStatus.PENDING
    h.at.edit(CreationRequests.TABLE, rec, {CreationRequests.STATUS: RequestStatus.NEEDS_ATTENTION})
    act = h.card_action(card["id"], T.VOID, reason="abandoned")
    h.run()
    applied(h, act)
    (shopify,) = h.shop.cards.values()
    assert shopify.card.balance == usd("0.00")
    assert h.card(card["id"])[GiftCards.STATUS] == CardStatus.VOIDED


def test_a_void_whose_card_row_was_deleted_after_the_debit_needs_a_person(h: Harness) -> None:
    """Found by the simulation (seed 108): the void debited Shopify, the process died, staff
    deleted the card's row; the resumed action must not say Rejected (nothing changed)."""
    card = h.issue("40.00")
    gid = h.shopify_id(card)
    rec = h.card_action(card, T.VOID, reason="lost")
    h.injector.arm("shopify.debit", "crash_after")
    with pytest.raises(SimulatedCrash):
        h.run()
    h.at.delete_row(GiftCards.TABLE, card)
    h.run()
    row = h.at.row(CardActions.TABLE, rec)
    assert row[CardActions.STATUS] == RequestStatus.NEEDS_ATTENTION
    assert row[CardActions.OUTCOME] == CardActionOutcome.ERROR
    assert f"giftbridge action:{rec}" in row[CardActions.RESULT_MESSAGE]
    assert h.shop.balance(gid) == usd("0.00")
