"""Store redemptions against the fakes: every outcome, the records each leaves, the store notice."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from typing import Any

import pytest

from cards.codes import Code, check_symbol, digest
from cards.keys import ActionKey
from cards.policy import ExpiryPolicy
from cards.vocab import (
    CardActionType,
    CardSource,
    CardStatus,
    Kind,
    Metric,
    RedemptionOutcome,
    RequestStatus,
)
from clients.commands import Queue, RecordIntent
from clients.ports import Priority, current_priority
from config.layout import GiftCards, Receipts, StoreRedemptions
from prongs.redemptions import handle
from prongs.store_context import Context
from tests.prongs.conftest import PEPPER, Harness, card_config, usd

S = StoreRedemptions


def redeemed(h: Harness, rec: str) -> dict[str, Any]:
    return h.at.row(S.TABLE, rec)


def test_success_debits_shopify_then_mirrors_and_records_everything(h: Harness) -> None:
    store = h.store()
    card = h.issue("50.00")
    code = h.code_of(card)
    rec = h.redemption(code.reveal().lower(), "12.50", store=store)
    report = h.run()
    assert report.outcomes == {"Success": 1} and not report.errors
    gid = h.shopify_id(card)
    assert h.shop.balance(gid) == usd("37.50")
    assert h.shop.notes(gid) == [f"giftbridge redeem:{rec}"]
    row = redeemed(h, rec)
    assert row[S.STATUS] == RequestStatus.DONE
    assert row[S.OUTCOME] == RedemptionOutcome.SUCCESS
    assert row[S.GIFT_CARD] == (card,)
    assert row[S.BALANCE_AFTER] == usd("37.50")
    assert row[S.SHOPIFY_TRANSACTION_ID].startswith("gid://shopify/GiftDebitTransaction/")
    assert row[S.CODE] == code.masked and code.reveal() not in str(row)
    assert row[S.PROCESSED_AT] == h.world.clock.now()
    assert "37.50" in row[S.RESULT_MESSAGE]
    assert h.card(card)[GiftCards.BALANCE] == usd("37.50")
    assert h.card(card)[GiftCards.STATUS] == CardStatus.ACTIVE
    receipt = h.receipts()[f"redeem:{rec}:redeemed"]
    assert receipt[Receipts.AMOUNT] == usd("12.50")
    assert receipt[Receipts.BALANCE_BEFORE] == usd("50.00")
    assert receipt[Receipts.BALANCE_AFTER] == usd("37.50")
    assert receipt[Receipts.STORE] == (store,) and receipt[Receipts.GIFT_CARD] == (card,)
    assert receipt[Receipts.REQUEST] == rec
    assert receipt[Receipts.SHOPIFY_REFERENCE] == row[S.SHOPIFY_TRANSACTION_ID]
    notice = h.event(f"redeem:{rec}:store")
    assert notice.metric == Metric.STORE_NOTICE and notice.email == "shop@example.com"
    assert dict(notice.properties) == {
        "notice": "redemption",
        "outcome": "Success",
        "masked_code": code.masked,
        "amount": "12.50",
        "currency": "USD",
        "balance_after": "37.50",
        "request_id": rec,
        "message": row[S.RESULT_MESSAGE],
    }


def test_redeeming_everything_marks_the_card_redeemed(h: Harness) -> None:
    card = h.issue("20.00")
    h.redemption(h.code_of(card).reveal(), "20.00")
    h.run()
    assert h.card(card)[GiftCards.STATUS] == CardStatus.REDEEMED
    assert h.card(card)[GiftCards.BALANCE] == usd("0.00")


def _rejected(h: Harness, rec: str, outcome: RedemptionOutcome) -> dict[str, Any]:
    row = redeemed(h, rec)
    assert row[S.OUTCOME] == outcome, row.get(S.RESULT_MESSAGE)
    assert row[S.STATUS] == RequestStatus.REJECTED
    assert f"redeem:{rec}:redemption-rejected" in h.receipts()
    assert h.event(f"redeem:{rec}:store").properties["outcome"] == outcome.value
    return row


@pytest.mark.parametrize("typed", ["ABC", "", "ABCDEFGHIJKLMNOPQRSTUV", "ÅÅÅÅÅÅÅÅ"])
def test_a_code_of_the_wrong_shape_is_format_incorrect_without_lookup(
    h: Harness, typed: str
) -> None:
    store = h.store()
    rec = h.redemption(typed, store=store)
    h.run()
    _rejected(h, rec, RedemptionOutcome.FORMAT_INCORRECT)
    assert h.injector.count("shopify.find_cards_by_code") == 0


def test_a_failed_check_character_sharpens_not_found_into_format_incorrect(h: Harness) -> None:
    store = h.store()
    body = "7KQ2ABCDEFG"
    good, bad = body + check_symbol(body), body + ("0" if check_symbol(body) != "0" else "1")
    not_found, typo = h.redemption(good, store=store), h.redemption(bad, store=store)
    h.run()
    _rejected(h, not_found, RedemptionOutcome.NOT_FOUND)
    row = _rejected(h, typo, RedemptionOutcome.FORMAT_INCORRECT)
    assert row.get(S.GIFT_CARD) is None
    assert h.injector.count("shopify.find_cards_by_code") == 2  # looked up before deciding


def test_insufficient_balance_is_shopifys_answer_and_says_what_is_left(h: Harness) -> None:
    store = h.store()
    card = h.issue("10.00")
    rec = h.redemption(h.code_of(card).reveal(), "10.01", store=store)
    h.run()
    row = _rejected(h, rec, RedemptionOutcome.INSUFFICIENT_BALANCE)
    assert "10.00" in row[S.RESULT_MESSAGE] and row[S.GIFT_CARD] == (card,)
    assert h.shop.balance(h.shopify_id(card)) == usd("10.00")
    assert h.shop.notes(h.shopify_id(card)) == []


def test_an_expired_card_is_refused_before_any_debit() -> None:
    h = Harness()
    h.config = type(h.config)(card=card_config(expiry=ExpiryPolicy(30)))
    store = h.store()
    card = h.issue("10.00")
    h.world.clock.advance(timedelta(days=31).total_seconds())
    rec = h.redemption(h.code_of(card).reveal(), "1.00", store=store)
    h.run()
    _rejected(h, rec, RedemptionOutcome.EXPIRED)
    assert h.injector.count("shopify.debit") == 0


def test_a_voided_card_is_refused(h: Harness) -> None:
    store = h.store()
    card = h.issue("10.00")
    h.card_action(card, CardActionType.VOID, reason="lost")
    h.run()
    rec = h.redemption(h.code_of(card).reveal(), "1.00", store=store)
    h.run()
    _rejected(h, rec, RedemptionOutcome.VOIDED)


def test_a_pending_card_is_not_active(h: Harness) -> None:
    store = h.store()
    code = "PENDING12345"
    h.at.insert(
        GiftCards.TABLE,
        {
            GiftCards.STATUS: CardStatus.PENDING,
            GiftCards.CODE_DIGEST: digest(Code.parse(code), PEPPER),
            GiftCards.MASKED_CODE: Code.parse(code).masked,
        },
    )
    rec = h.redemption(code, "1.00", store=store)
    h.run()
    _rejected(h, rec, RedemptionOutcome.NOT_ACTIVE)


@pytest.mark.parametrize("amount", [None, "0", "-5.00", "1.005", "1000.01"])
def test_invalid_amounts(h: Harness, amount: str | None) -> None:
    store = h.store()
    card = h.issue("50.00")
    rec = h.redemption(h.code_of(card).reveal(), amount, store=store)
    h.run()
    _rejected(h, rec, RedemptionOutcome.INVALID_AMOUNT)
    assert h.injector.count("shopify.debit") == 0


def test_a_certificate_is_used_in_full_whatever_the_amount(h: Harness) -> None:
    card = h.issue("40.00", kind=Kind.CERTIFICATE)
    rec = h.redemption(h.code_of(card).reveal(), "5.00", order_total="55.00")
    h.run()
    row = redeemed(h, rec)
    assert row[S.OUTCOME] == RedemptionOutcome.SUCCESS
    assert h.shop.balance(h.shopify_id(card)) == usd("0.00")
    assert h.card(card)[GiftCards.STATUS] == CardStatus.REDEEMED
    assert h.receipts()[f"redeem:{rec}:redeemed"][Receipts.AMOUNT] == usd("40.00")


def test_a_certificate_worth_more_than_the_order_is_refused(h: Harness) -> None:
    store = h.store()
    card = h.issue("40.00", kind=Kind.CERTIFICATE)
    rec = h.redemption(h.code_of(card).reveal(), None, store=store, order_total="39.99")
    h.run()
    _rejected(h, rec, RedemptionOutcome.EXCEEDS_ORDER_TOTAL)
    assert h.shop.balance(h.shopify_id(card)) == usd("40.00")


def test_a_certificate_takes_amount_as_the_order_total_when_order_total_is_blank(
    h: Harness,
) -> None:
    card = h.issue("40.00", kind=Kind.CERTIFICATE)
    low = h.redemption(h.code_of(card).reveal(), "30.00")
    h.run()
    assert redeemed(h, low)[S.OUTCOME] == RedemptionOutcome.EXCEEDS_ORDER_TOTAL
    none = h.redemption(h.code_of(card).reveal(), None)
    h.run()
    assert redeemed(h, none)[S.OUTCOME] == RedemptionOutcome.INVALID_AMOUNT


def test_a_native_card_at_the_till_gets_an_imported_row_first(h: Harness) -> None:
    native = h.shop.issue_native("NATIVE7KQ2XY", usd("30.00"))
    rec = h.redemption("native-7kq2-xy", "5.00")
    h.run()
    row = redeemed(h, rec)
    assert row[S.OUTCOME] == RedemptionOutcome.SUCCESS
    card = h.card(row[S.GIFT_CARD][0])
    assert card[GiftCards.SOURCE] == CardSource.IMPORTED
    assert card[GiftCards.ORIGIN_KEY] == f"native:{native.id.rsplit('/', 1)[1]}"
    assert card[GiftCards.SHOPIFY_GIFT_CARD_ID] == native.id
    assert card[GiftCards.MASKED_CODE] == "\u2022" * 8 + "Q2XY"
    assert card[GiftCards.BALANCE] == usd("25.00") and GiftCards.CODE_SEALED not in card
    assert card[GiftCards.CODE_DIGEST] == digest(Code.parse("NATIVE7KQ2XY"), PEPPER)
    h.redemption("NATIVE7KQ2XY", "5.00")
    h.run()
    assert len(h.at.rows(GiftCards.TABLE)) == 1  # the second time the digest finds it


def test_a_recorded_native_card_without_digest_gets_it_filled_in(h: Harness) -> None:
    native = h.shop.issue_native("ONLINE7KQ2XY", usd("30.00"))
    row_id = h.at.insert(
        GiftCards.TABLE,
        {GiftCards.SHOPIFY_GIFT_CARD_ID: native.id, GiftCards.STATUS: CardStatus.ACTIVE},
    )
    rec = h.redemption("ONLINE7KQ2XY", "5.00")
    h.run()
    assert redeemed(h, rec)[S.GIFT_CARD] == (row_id,)
    assert h.card(row_id)[GiftCards.CODE_DIGEST]
    assert len(h.at.rows(GiftCards.TABLE)) == 1


def test_a_store_email_that_keeps_failing_needs_attention_but_keeps_success(h: Harness) -> None:
    store = h.store()
    card = h.issue("50.00")
    rec = h.redemption(h.code_of(card).reveal(), "5.00", store=store)
    for _ in range(3):
        h.injector.arm("klaviyo.send", "fail_before")
    later = h.redemption(h.code_of(card).reveal(), "5.00", store=store)
    h.run()
    row = redeemed(h, rec)
    assert row[S.STATUS] == RequestStatus.NEEDS_ATTENTION
    assert row[S.OUTCOME] == RedemptionOutcome.SUCCESS
    failed = h.receipts()[f"redeem:{rec}:email-failed:store"]
    assert failed[Receipts.ACTION] == "Email Failed"
    assert redeemed(h, later)[S.STATUS] == RequestStatus.DONE  # never blocks the next one


def test_an_error_before_the_intent_closes_the_request_at_once(h: Harness) -> None:
    store = h.store()
    card = h.issue("50.00")
    rec = h.redemption(h.code_of(card).reveal(), "5.00", store=store)
    poll = len(h.injector.calls)  # the run's first call polls redemptions, the next finds the card
    h.injector.arm_index(poll + 1, "fail_before")  # the page's digests
    h.injector.arm_index(poll + 2, "fail_before")  # the group's own read, tried instead
    report = h.run()
    row = redeemed(h, rec)
    assert row[S.STATUS] == RequestStatus.NEEDS_ATTENTION
    assert row[S.OUTCOME] == RedemptionOutcome.ERROR
    assert len(report.errors) == 1
    assert h.event(f"redeem:{rec}:store").properties["outcome"] == "Error"
    assert h.shop.notes(h.shopify_id(card)) == []


def test_a_transient_failure_after_the_intent_waits_for_the_next_run(h: Harness) -> None:
    card = h.issue("50.00")
    rec = h.redemption(h.code_of(card).reveal(), "5.00")
    h.injector.arm("shopify.debit", "fail_before")
    report = h.run()
    assert redeemed(h, rec)[S.STATUS] == RequestStatus.PROCESSING
    assert len(report.errors) == 1 and "Retryable" in report.errors[0]
    h.run()
    assert redeemed(h, rec)[S.OUTCOME] == RedemptionOutcome.SUCCESS
    assert h.shop.notes(h.shopify_id(card)) == [f"giftbridge redeem:{rec}"]


def test_a_processing_request_whose_debit_happened_is_not_debited_again(h: Harness) -> None:
    card = h.issue("50.00")
    rec = h.redemption(h.code_of(card).reveal(), "5.00")
    h.at.update_request(RecordIntent(Queue.REDEMPTIONS, rec))  # an earlier run's intent
    h.shop.debit(h.shopify_id(card), usd("5.00"), ActionKey.redeem(rec).note)
    h.run()
    assert h.shop.balance(h.shopify_id(card)) == usd("45.00")
    assert redeemed(h, rec)[S.OUTCOME] == RedemptionOutcome.SUCCESS
    assert h.card(card)[GiftCards.BALANCE] == usd("45.00")


def test_redemptions_run_at_redemption_priority(h: Harness) -> None:
    card = h.issue("50.00")
    h.redemption(h.code_of(card).reveal(), "5.00")
    seen: list[Priority] = []
    h.injector.hook = lambda op: seen.append(current_priority()) if op == "shopify.debit" else None
    h.run()
    assert seen == [Priority.REDEMPTION]


def test_two_threads_redeeming_one_card_never_interleave(h: Harness) -> None:
    card = h.issue("50.00")
    code = h.code_of(card).reveal()
    recs = [h.redemption(code, "10.00"), h.redemption(code, "15.00")]
    requests = h.at.pending_redemptions(10)
    trace: list[tuple[str, str]] = []

    def hook(op: str) -> None:
        if op in ("shopify.debit", "airtable.update"):
            trace.append((threading.current_thread().name, op))
            time.sleep(0.02)  # widen the window a race would need

    h.injector.hook = hook
    ctx = Context(h.deps, h.config)
    threads = [threading.Thread(target=handle, args=(ctx, r), name=r.id) for r in requests]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    debits = [i for i, (_, op) in enumerate(trace) if op == "shopify.debit"]
    for i in debits:  # each debit is followed by its own thread's card write before the next debit
        owner = trace[i][0]
        nxt = next(j for j in range(i + 1, len(trace)) if trace[j][1] == "airtable.update")
        assert trace[nxt][0] == owner
        assert not [j for j in debits if i < j < nxt]
    gid = h.shopify_id(card)
    assert h.shop.balance(gid) == usd("25.00") == h.card(card)[GiftCards.BALANCE]
    assert {redeemed(h, r)[S.OUTCOME] for r in recs} == {RedemptionOutcome.SUCCESS}
    assert len(h.deps.card_locks) == 0


@pytest.mark.parametrize("edited", ["JUNK!!", "", None])
def test_a_request_whose_code_was_edited_after_its_debit_finishes_on_the_intended_card(
    h: Harness, edited: str | None
) -> None:
    """The intent linked the card; the Code cell edited afterwards (a junk code, emptied) does
    not turn a debit that happened into a Format Incorrect: the key is read back on that card."""
    card = h.issue("50.00")
    rec = h.redemption(h.code_of(card).reveal(), "12.50")
    h.injector.arm("airtable.upsert", "fail_before")  # the receipts: after the debit
    h.run()
    assert h.at.row(S.TABLE, rec)[S.STATUS] == RequestStatus.PROCESSING
    h.at._apply(S.TABLE, rec, {S.CODE: edited})
    report = h.run()
    assert report.outcomes == {"Success": 1}, report.outcomes
    gid = h.shopify_id(card)
    assert h.shop.balance(gid) == usd("37.50")
    assert h.shop.notes(gid) == [f"giftbridge redeem:{rec}"]  # debited once
    row = redeemed(h, rec)
    assert (row[S.STATUS], row[S.OUTCOME]) == (RequestStatus.DONE, RedemptionOutcome.SUCCESS)
    assert h.receipts()[f"redeem:{rec}:redeemed"][Receipts.AMOUNT] == usd("12.50")
