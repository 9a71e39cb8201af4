"""Redemptions in groups: the Airtable traffic they share; one bad record costs only itself."""

from __future__ import annotations

from collections import Counter
from typing import Any

from cards.codes import digest, generate
from cards.keys import ActionKey
from cards.vocab import CardStatus, Kind, RedemptionOutcome, RequestStatus
from clients.commands import Queue, RecordIntent
from config.layout import GiftCards, StoreRedemptions
from prongs.store_context import StoreConfig
from tests.prongs.conftest import PEPPER, Harness, card_config, usd

S = StoreRedemptions


def seeded_card(h: Harness, value: str = "50.00") -> tuple[str, str]:
    """A live card made directly in both fakes (no creation request); (record id, code)."""
    code = generate(12)
    native = h.shop.issue_native(code.reveal(), usd(value), note="giftbridge seeded")
    record = h.at.insert(
        GiftCards.TABLE,
        {
            GiftCards.CODE_DIGEST: digest(code, PEPPER),
            GiftCards.MASKED_CODE: code.masked,
            GiftCards.SHOPIFY_GIFT_CARD_ID: native.id,
            GiftCards.STATUS: CardStatus.ACTIVE,
            GiftCards.KIND: Kind.GIFT_CARD,
            GiftCards.BALANCE: usd(value),
        },
    )
    return record, code.reveal()


def request(h: Harness, rec: str) -> dict[str, Any]:
    return h.at.row(S.TABLE, rec)


def airtable_calls(h: Harness, since: int) -> Counter[str]:
    return Counter(c for c in h.injector.calls[since:] if c.startswith("airtable."))


def test_a_backlog_of_a_hundred_costs_under_0_6_airtable_calls_per_redemption(h: Harness) -> None:
    store = h.store()
    cards = [seeded_card(h) for _ in range(25)]
    recs = [h.redemption(cards[n % 25][1], "3.00", store=store) for n in range(100)]
    start = len(h.injector.calls)
    h.run_until_quiet()
    calls = airtable_calls(h, start)
    assert sum(calls.values()) / 100 <= 0.6, calls
    assert calls["airtable.update"] == 30 and calls["airtable.upsert"] == 10  # 10 groups of 10
    assert {request(h, r)[S.STATUS] for r in recs} == {RequestStatus.DONE}
    for record, _code in cards:
        gid = h.card(record)[GiftCards.SHOPIFY_GIFT_CARD_ID]
        assert h.card(record)[GiftCards.BALANCE] == h.shop.balance(gid) == usd("38.00")
    assert h.injector.count("shopify.debit") == 100
    assert h.injector.count("klaviyo.send") == 100  # one notice per request


def test_a_group_of_one_costs_what_it_did_before_batching() -> None:
    h = Harness(config=StoreConfig(card=card_config(), redemption_batch=1))
    _card, code = seeded_card(h)
    h.redemption(code, "1.00")
    start = len(h.injector.calls)
    h.run()
    calls = airtable_calls(h, start)
    # polls (4 queues), Stores (store authority, once a run), lookup, intent, card, receipts,
    # closing write
    assert calls == Counter({"airtable.list": 6, "airtable.update": 3, "airtable.upsert": 1})


def test_one_card_debited_twice_in_a_group_mirrors_its_latest_balance(h: Harness) -> None:
    card, code = seeded_card(h, "30.00")
    first, second = h.redemption(code, "10.00"), h.redemption(code, "5.00")
    start, written = len(h.injector.calls), len(h.at.writes)
    h.run()
    assert h.card(card)[GiftCards.BALANCE] == usd("15.00") == h.shop.balance(h.shopify_id(card))
    assert request(h, first)[S.BALANCE_AFTER] == usd("20.00")
    assert request(h, second)[S.BALANCE_AFTER] == usd("15.00")
    card_writes = [w for w in h.at.writes[written:] if w[0] == GiftCards.TABLE]
    assert len(card_writes) == 1  # one row, written once for the group
    assert airtable_calls(h, start)["airtable.update"] == 3


def test_a_resumed_request_read_back_before_a_new_debit_does_not_win_the_mirror(
    h: Harness,
) -> None:
    card, code = seeded_card(h, "30.00")
    new = h.redemption(code, "10.00")  # older, still blank
    resumed = h.redemption(code, "4.00")
    h.at.update_request(RecordIntent(Queue.REDEMPTIONS, resumed))  # an earlier run's intent
    h.shop.debit(h.shopify_id(card), usd("4.00"), ActionKey.redeem(resumed).note)
    h.run()  # the read-back (26.00) is seen before the new debit (16.00), listed after it
    assert h.card(card)[GiftCards.BALANCE] == usd("16.00") == h.shop.balance(h.shopify_id(card))
    assert {request(h, r)[S.OUTCOME] for r in (new, resumed)} == {RedemptionOutcome.SUCCESS}
    assert len(h.shop.notes(h.shopify_id(card))) == 2


def test_a_request_airtable_refuses_costs_only_itself(h: Harness) -> None:
    store = h.store()
    seeded = [seeded_card(h) for _ in range(3)]
    recs = [h.redemption(code, "5.00", store=store) for _, code in seeded]
    h.at.refuse[recs[1]] = S.GIFT_CARD  # e.g. a link Airtable will not take for this record
    report = h.run()
    for rec, (card, _) in zip([recs[0], recs[2]], [seeded[0], seeded[2]], strict=True):
        assert request(h, rec)[S.STATUS] == RequestStatus.DONE
        assert h.card(card)[GiftCards.BALANCE] == usd("45.00")
    bad = request(h, recs[1])
    assert bad[S.STATUS] == RequestStatus.NEEDS_ATTENTION
    assert bad[S.OUTCOME] == RedemptionOutcome.ERROR
    assert "nothing was debited" in bad[S.RESULT_MESSAGE]
    assert bad[S.CODE].startswith("\u2022")  # the typed code is masked even so
    assert h.shop.notes(h.shopify_id(seeded[1][0])) == []
    assert h.event(f"redeem:{recs[1]}:store").properties["outcome"] == "Error"
    assert len(report.errors) == 1 and recs[1] in report.errors[0]
    assert len(h.deps.card_locks) == 0


def test_a_closing_write_refused_after_the_debit_keeps_success_for_a_person(h: Harness) -> None:
    seeded = [seeded_card(h) for _ in range(2)]
    recs = [h.redemption(code, "5.00") for _, code in seeded]
    h.at.refuse[recs[0]] = S.BALANCE_AFTER  # only the closing write carries it
    h.run()
    row = request(h, recs[0])
    assert row[S.STATUS] == RequestStatus.NEEDS_ATTENTION
    assert row[S.OUTCOME] == RedemptionOutcome.SUCCESS
    assert "Airtable refused" in row[S.RESULT_MESSAGE]
    assert h.shop.balance(h.shopify_id(seeded[0][0])) == usd("45.00")
    assert request(h, recs[1])[S.STATUS] == RequestStatus.DONE
    assert h.run().processed == 0  # closed: nothing left to resume


def test_a_card_row_airtable_refuses_leaves_the_others_mirrored(h: Harness) -> None:
    seeded = [seeded_card(h) for _ in range(3)]
    recs = [h.redemption(code, "5.00") for _, code in seeded]
    h.at.refuse[seeded[0][0]] = GiftCards.BALANCE
    h.run()
    first = request(h, recs[0])
    assert first[S.STATUS] == RequestStatus.NEEDS_ATTENTION
    assert first[S.OUTCOME] == RedemptionOutcome.SUCCESS
    assert "card row could not be updated" in first[S.RESULT_MESSAGE]
    for rec, (card, _) in zip(recs[1:], seeded[1:], strict=True):
        assert request(h, rec)[S.STATUS] == RequestStatus.DONE
        assert h.card(card)[GiftCards.BALANCE] == usd("45.00")


def test_a_failed_intent_write_debits_nobody_and_closes_the_group_as_error(h: Harness) -> None:
    seeded = [seeded_card(h) for _ in range(3)]
    recs = [h.redemption(code, "5.00") for _, code in seeded]
    h.injector.arm("airtable.update", "fail_before")  # the group's intent write
    report = h.run()
    assert h.injector.count("shopify.debit") == 0
    for rec in recs:
        assert request(h, rec)[S.OUTCOME] == RedemptionOutcome.ERROR
    assert len(report.errors) == 3


def test_a_failed_card_write_leaves_the_group_processing_and_the_next_run_settles_it(
    h: Harness,
) -> None:
    seeded = [seeded_card(h) for _ in range(3)]
    recs = [h.redemption(code, "5.00") for _, code in seeded]
    updates = {"n": 0}

    def fail_the_card_write(op: str) -> None:
        if op == "airtable.update":
            updates["n"] += 1
            if updates["n"] == 2:  # the intent is the first update, the card write the second
                h.injector.arm_index(len(h.injector.calls), "fail_before")

    h.injector.hook = fail_the_card_write
    report = h.run()
    assert {request(h, r)[S.STATUS] for r in recs} == {RequestStatus.PROCESSING}
    assert len(report.errors) == 3 and report.processed == 0
    h.injector.hook = None
    h.run()
    for rec, (card, _) in zip(recs, seeded, strict=True):
        assert request(h, rec)[S.OUTCOME] == RedemptionOutcome.SUCCESS
        assert h.shop.notes(h.shopify_id(card)) == [f"giftbridge redeem:{rec}"]
        assert h.card(card)[GiftCards.BALANCE] == usd("45.00")


def test_a_failed_read_of_the_pages_digests_is_made_up_by_each_group(h: Harness) -> None:
    seeded = [seeded_card(h) for _ in range(12)]
    recs = [h.redemption(code, "5.00") for _, code in seeded]
    h.injector.arm_index(len(h.injector.calls) + 1, "fail_before")  # after the poll
    report = h.run()
    assert not report.errors and report.outcomes == {"Success": 12}
    assert {request(h, r)[S.STATUS] for r in recs} == {RequestStatus.DONE}


def test_a_page_reads_its_digests_forty_at_a_time(h: Harness) -> None:
    seeded = [seeded_card(h) for _ in range(45)]
    for _, code in seeded:
        h.redemption(code, "1.00")
    start = len(h.injector.calls)
    h.run()
    # the poll (a short page: no re-poll), 2 digest reads for the page, Stores (once a run),
    # the 3 lower queues
    assert airtable_calls(h, start)["airtable.list"] == 7
