"""Findings of an independent review of the store prongs, each pinned by a test.

Every test here failed before its fix: see the docstrings for what went wrong.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest

from cards.vocab import (
    CardActionOutcome,
    CardActionType,
    CardStatus,
    Kind,
    RedemptionOutcome,
    RequestStatus,
)
from config.layout import CardActions, CreationRequests, GiftCards, StoreRedemptions
from prongs.orders_sweep import RefundSweep
from prongs.report import Budget, OpenGate
from prongs.shopify_redemptions import RedemptionsConfig
from prongs.shopify_redemptions import run_once as run_online_redemptions
from tests.fakes import SimulatedCrash
from tests.prongs.conftest import Harness, usd

T = CardActionType


def _action(h: Harness, rec: str) -> dict[str, Any]:
    return h.at.row(CardActions.TABLE, rec)


def _spend_online(h: Harness, card: str, amount: str) -> None:
    """Checkout spends part of the card; the Airtable mirror has not heard of it yet."""
    order = h.shop.place_order(h.shop.line_item(usd(amount)))
    h.shop.pay_with_card(order.id, h.shopify_id(card), usd(amount))


def test_a_certificate_on_an_order_above_max_amount_is_honoured(h: Harness) -> None:
    """MAX_AMOUNT limits a card's value, not the order it pays towards: a 40.00 certificate on
    a 1,500.00 order was refused as Invalid Amount ("order total is above the maximum")."""
    card = h.issue("40.00", kind=Kind.CERTIFICATE)
    rec = h.redemption(h.code_of(card).reveal(), None, order_total="1500.00")
    h.run()
    row = h.at.row(StoreRedemptions.TABLE, rec)
    assert row[StoreRedemptions.OUTCOME] == RedemptionOutcome.SUCCESS, row
    assert h.shop.balance(h.shopify_id(card)) == usd("0.00")


def test_reactivating_a_card_voided_with_nothing_left_is_applied(h: Harness) -> None:
    """A card spent to zero online but still Active in the mirror is voided with 0.00 debited
    (no Shopify debit). Reactivating it looked for that void's debit in Shopify, found none,
    and ended in Error (Needs Attention) instead of crediting 0.00."""
    card = h.issue("50.00")
    _spend_online(h, card, "50.00")
    void = h.card_action(card, T.VOID, reason="lost")
    h.run()
    assert _action(h, void)[CardActions.OUTCOME] == CardActionOutcome.APPLIED
    reactivate = h.card_action(card, T.REACTIVATE)
    h.run()
    row = _action(h, reactivate)
    assert row[CardActions.OUTCOME] == CardActionOutcome.APPLIED, row.get(
        CardActions.RESULT_MESSAGE
    )
    assert row[CardActions.STATUS] == RequestStatus.DONE
    assert h.card(card)[GiftCards.STATUS] == CardStatus.ACTIVE
    assert h.shop.balance(h.shopify_id(card)) == usd("0.00") == h.card(card)[GiftCards.BALANCE]


def test_a_resumed_void_of_a_pending_card_emails_nobody(h: Harness) -> None:
    """Voiding a Pending card (never issued) sends no Voided email. A void that crashed after
    writing the row Voided and was resumed saw status Voided, not Pending, and emailed the
    recipient about a card they never received: the resumed run decided differently."""
    request = h.creation()
    h.injector.arm("airtable.update", "crash_before")  # after giftCardCreate, before Active
    with pytest.raises(SimulatedCrash):
        h.run()
    (card,) = h.at.rows(GiftCards.TABLE)
    assert card[GiftCards.STATUS] == CardStatus.PENDING
    h.at.edit(
        CreationRequests.TABLE,
        request,
        {CreationRequests.STATUS: RequestStatus.NEEDS_ATTENTION},
    )
    void = h.card_action(card["id"], T.VOID, reason="abandoned")

    def crash_the_card_write_after_the_debit(op: str) -> None:
        if op == "shopify.debit":
            h.injector.arm("airtable.update", "crash_after")

    h.injector.hook = crash_the_card_write_after_the_debit
    with pytest.raises(SimulatedCrash):
        h.run()
    h.injector.hook = None
    assert h.card(card["id"])[GiftCards.STATUS] == CardStatus.VOIDED
    h.run()
    assert _action(h, void)[CardActions.OUTCOME] == CardActionOutcome.APPLIED
    assert h.events(f"action:{void}:recipient") == []


# --- one card, two prongs on two threads -------------------------------------------------------


def _online_run(h: Harness) -> None:
    run_online_redemptions(
        h.deps,  # the store prong's deps: one process, one set of card locks
        RedemptionsConfig(currency="USD"),
        Budget(h.world.clock, 30),
        OpenGate(),
        sweep=RefundSweep(),
    )


def _interleave(h: Harness, first: Any, second: Any, writer_of_first: str) -> None:
    """Run ``first`` on this thread; when it is about to write a card row (its Shopify read
    done), run ``second`` on another thread and give it a moment. Under one shared card lock
    ``second`` waits for ``first``; without one it slips in between the read and the write."""
    fired = threading.Event()
    other = threading.Thread(target=second, name="other")
    me = threading.current_thread()

    def hook(op: str) -> None:
        if op == writer_of_first and threading.current_thread() is me and not fired.is_set():
            fired.set()
            other.start()
            other.join(timeout=0.5)

    h.injector.hook = hook
    try:
        first()
    finally:
        h.injector.hook = None
        if other.is_alive() or fired.is_set():
            other.join(timeout=10)
    assert fired.is_set()


def test_a_void_never_interleaves_with_the_online_balance_refresh(h: Harness) -> None:
    """Card actions locked the card by record id, the online prongs by Shopify GID: a void could
    debit and write Voided 0.00 between the online refresh's read (30.00) and its write, which
    then left Balance 30.00 on a card whose Shopify balance is 0.00."""
    card = h.issue("50.00")
    _spend_online(h, card, "20.00")
    void = h.card_action(card, T.VOID, reason="stolen")
    _interleave(h, lambda: _online_run(h), h.run, "airtable.update")
    assert _action(h, void)[CardActions.OUTCOME] == CardActionOutcome.APPLIED
    gid = h.shopify_id(card)
    assert h.shop.balance(gid) == usd("0.00")
    assert h.card(card)[GiftCards.BALANCE] == usd("0.00")


def test_a_balance_check_refresh_never_interleaves_with_the_online_refresh(h: Harness) -> None:
    """The balance check refreshed a stale mirror under the record-id lock only: the online
    prong could read and write a newer balance between the check's read and its write, and the
    check then wrote its older balance over it."""
    card = h.issue("50.00")
    _spend_online(h, card, "20.00")  # the check finds the mirror stale (50.00 vs 30.00)
    h.balance_check(h.code_of(card).reveal())

    def later_spend_and_online_run() -> None:
        _spend_online(h, card, "5.00")
        _online_run(h)

    _interleave(h, h.run, later_spend_and_online_run, "airtable.update")
    gid = h.shopify_id(card)
    assert h.shop.balance(gid) == usd("25.00")
    assert h.card(card)[GiftCards.BALANCE] == usd("25.00")


def test_reactivate_credits_the_void_giftbridge_wrote_not_one_quoted_in_the_reason(
    h: Harness,
) -> None:
    card = h.issue("40.00")
    quoted = "giftbridge voided 99.00 USD (action:rec0000000000ZZZZ)"
    void = h.card_action(card, CardActionType.VOID, reason=f"customer said: {quoted}")
    h.run_until_quiet()
    assert _action(h, void)[CardActions.OUTCOME] == CardActionOutcome.APPLIED
    again = h.card_action(card, CardActionType.REACTIVATE, reason="found it")
    h.run_until_quiet()
    assert _action(h, again)[CardActions.OUTCOME] == CardActionOutcome.APPLIED
    gid = h.card(card)[GiftCards.SHOPIFY_GIFT_CARD_ID]
    assert h.shop.balance(gid) == usd("40.00") == h.card(card)[GiftCards.BALANCE]
