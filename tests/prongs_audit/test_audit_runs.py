"""The audit beside the other prongs and across runs: online movements accounted for, the card
locks and the re-read, budgets and restarts, the lease, and the Airtable reads a pass makes."""

from __future__ import annotations

import math

import pytest

from cards.keys import ActionKey
from cards.vocab import CardActionType, ReceiptAction
from config.layout import CardActions, GiftCards, Receipts, StoreRedemptions
from prongs.audit_tally import DriftClass
from prongs.report import OpenGate
from tests.fakes import SimulatedCrash
from tests.prongs.conftest import usd
from tests.prongs_audit.conftest import AuditHarness, StepBudget
from tests.prongs_shopify.conftest import run_redemptions


def test_online_redemption_and_refund_are_accounted_for_by_the_online_prong(
    ah: AuditHarness,
) -> None:
    card = ah.issue("50.00")
    ah.audited()
    gid = ah.gid(card)
    order = ah.shop.place_order(ah.shop.line_item(usd("30.00")))
    ah.shop.pay_with_card(order.id, gid, usd("30.00"))
    ah.world.clock.advance(3600)
    ah.shop.refund_to_card(order.id, gid, usd("10.00"))
    run_redemptions(ah.world)
    actions = sorted(str(r[Receipts.ACTION]) for r in ah.receipts().values())
    assert actions.count(ReceiptAction.REDEEMED_ONLINE) == 1
    assert actions.count(ReceiptAction.REFUNDED_ONLINE) == 1

    ah.audited(minutes=120)
    ah.request_full()
    ah.audited(minutes=120)

    assert not ah.audit_receipts()
    assert ah.card(card)[GiftCards.BALANCE] == usd("30.00")


def test_an_online_movement_no_prong_recorded_gets_one_receipt_not_two(
    ah: AuditHarness,
) -> None:
    """Two equal checkouts on one card a minute apart, only one of them receipted by the online
    prong: exactly one card-txn receipt, for the other."""
    card = ah.issue("50.00")
    ah.audited()
    gid = ah.gid(card)
    first = ah.shop.place_order(ah.shop.line_item(usd("5.00")))
    ah.shop.pay_with_card(first.id, gid, usd("5.00"))
    run_redemptions(ah.world)
    ah.world.clock.advance(60)
    ah.shop.admin_adjust(gid, usd("-5.00"))  # the same amount at a till, no order seen

    ah.audited(minutes=90)

    recorded = [r for r in ah.audit_receipts() if r.startswith("card-txn:")]
    assert len(recorded) == 1 and recorded[0].endswith(":redeemed-online")


def test_an_online_movement_the_online_prong_records_late_is_counted_once(
    ah: AuditHarness,
) -> None:
    """The Shopify redemptions prong was down for hours: the audit records the checkout's
    payment and refund first, under the online prong's own references, so the prong's late
    receipts land on the same rows (found by the simulation, seed 97)."""
    card = ah.issue("50.00")
    ah.audited()
    gid = ah.gid(card)
    order = ah.shop.place_order(ah.shop.line_item(usd("30.00")))
    paid = ah.shop.pay_with_card(order.id, gid, usd("30.00"))
    refund = ah.shop.refund_to_card(order.id, gid, usd("10.00"))

    ah.audited(minutes=61)
    ah.audited(minutes=61)
    run_redemptions(ah.world)
    ah.audited(minutes=61)

    movements = {
        ref: r
        for ref, r in ah.receipts().items()
        if r[Receipts.ACTION] in (ReceiptAction.REDEEMED_ONLINE, ReceiptAction.REFUNDED_ONLINE)
    }
    paid_n, refund_n = (t.id.rsplit("/", 1)[-1] for t in (paid, refund))
    assert sorted(movements) == [
        f"shopify-txn:{paid_n}:redeemed-online",
        f"shopify-txn:{refund_n}:refunded-online",
    ]
    assert movements[f"shopify-txn:{paid_n}:redeemed-online"][Receipts.AMOUNT] == usd("30.00")
    assert movements[f"shopify-txn:{refund_n}:refunded-online"][Receipts.AMOUNT] == usd("10.00")
    assert ah.card(card)[GiftCards.BALANCE] == usd("30.00")


def test_a_redemption_whose_request_was_deleted_after_the_debit_gets_its_receipt(
    ah: AuditHarness,
) -> None:
    """The till's request row was deleted while the debit was in flight: the store prong can
    never close it, so the audit records the debit under the redemption's own reference, once
    the flow had its hour (found by the simulation, seed 882)."""
    card = ah.issue("50.00")
    store = ah.store()
    ah.audited()
    request = ah.redemption(ah.code_of(card).reveal(), "12.00", store)
    ah.injector.arm("shopify.debit", "crash_after")
    with pytest.raises(SimulatedCrash):
        ah.run()
    ah.at.delete_row(StoreRedemptions.TABLE, request)
    ah.run_until_quiet()

    ah.audited()
    assert not any(r.startswith("redeem:") for r in ah.receipts())  # the flow's hour
    ah.audited(minutes=61)

    receipt = ah.receipts()[f"redeem:{request}:redeemed"]
    assert receipt[Receipts.AMOUNT] == usd("12.00")
    assert receipt[Receipts.ACTION] == ReceiptAction.REDEEMED
    assert receipt[Receipts.REQUEST] == request
    before = ah.receipts()
    ah.audited(minutes=61)
    assert ah.receipts() == before


@pytest.mark.parametrize(
    ("action", "amount", "receipt", "booked"),
    [
        (CardActionType.VOID, None, ReceiptAction.VOIDED, "50.00"),
        (CardActionType.ADJUST_BALANCE, "-7.25", ReceiptAction.ADJUSTED, "-7.25"),
        (CardActionType.ADJUST_BALANCE, "5.00", ReceiptAction.ADJUSTED, "5.00"),
    ],
)
def test_a_card_action_whose_request_was_deleted_after_its_money_moved_gets_its_receipt(
    ah: AuditHarness,
    action: CardActionType,
    amount: str | None,
    receipt: ReceiptAction,
    booked: str,
) -> None:
    """As for a redemption (sim seed 3134): a Void's debit whose Card Actions row staff deleted
    before its receipt is recorded under the action's own reference, its kind read from the
    movement (a debit to zero is a Void)."""
    card = ah.issue("50.00")
    ah.audited()
    request = ah.card_action(card, action, reason="lost card", amount=amount)
    ah.injector.arm(f"shopify.{'credit' if amount == '5.00' else 'debit'}", "crash_after")
    with pytest.raises(SimulatedCrash):
        ah.run()
    ah.at.delete_row(CardActions.TABLE, request)
    ah.run_until_quiet()

    ah.audited()
    assert not any(r.startswith("action:") for r in ah.receipts())  # the flow's hour
    ah.audited(minutes=61)

    written = ah.receipts()[ActionKey.action(request).reference(receipt)]
    assert written[Receipts.ACTION] == receipt
    assert written[Receipts.AMOUNT] == usd(booked)
    assert written[Receipts.REQUEST] == request
    before = ah.receipts()
    ah.audited(minutes=61)
    assert ah.receipts() == before


def test_the_online_prong_recording_while_the_audit_looks_for_the_order_counts_once(
    ah: AuditHarness,
) -> None:
    """The Shopify redemptions prong writes its receipt after the audit read the receipts and
    before it writes its own (found by the simulation, seed 741)."""
    card = ah.issue("50.00")
    ah.audited()
    gid = ah.gid(card)
    order = ah.shop.place_order(ah.shop.line_item(usd("30.00")))
    ah.shop.pay_with_card(order.id, gid, usd("30.00"))
    ran: list[bool] = []

    def meanwhile(operation: str) -> None:
        if operation == "shopify.search_orders" and not ran:
            ran.append(True)
            ah.injector.hook = None
            run_redemptions(ah.world)

    ah.later(61)
    ah.injector.hook = meanwhile
    ah.audit()

    assert ran
    spent = [r for r in ah.receipts() if r.endswith(":redeemed-online")]
    assert len(spent) == 1 and spent[0].startswith("shopify-txn:")


def test_when_the_orders_cannot_be_read_a_checkout_waits_rather_than_count_twice(
    ah: AuditHarness,
) -> None:
    card = ah.issue("50.00")
    ah.audited()
    gid = ah.gid(card)
    order = ah.shop.place_order(ah.shop.line_item(usd("30.00")))
    ah.shop.pay_with_card(order.id, gid, usd("30.00"))

    ah.later(61)
    ah.injector.arm("shopify.search_orders", "fail_before")
    ah.audit()
    assert not [r for r in ah.receipts() if ":redeemed-online" in r]

    ah.audited(minutes=11)
    run_redemptions(ah.world)
    ah.audited(minutes=61)
    spent = [r for r in ah.receipts() if r.endswith(":redeemed-online")]
    assert len(spent) == 1 and spent[0].startswith("shopify-txn:")


def test_a_card_changed_again_during_the_settle_time_keeps_its_earlier_transactions(
    ah: AuditHarness,
) -> None:
    """A till credit no order prong saw, then a checkout an hour later just before the audit:
    the card waits for the next incremental (changed in the last settle minutes), whose mark is
    past the credit, yet the credit is still judged and recorded (found by the simulation,
    seed 381)."""
    card = ah.issue("50.00")
    ah.audited()
    gid = ah.gid(card)
    credit = ah.shop.admin_adjust(gid, usd("5.00"))  # no note: a till
    ah.later(70)
    order = ah.shop.place_order(ah.shop.line_item(usd("20.00")))
    ah.shop.pay_with_card(order.id, gid, usd("20.00"))
    ah.audit()  # the card changed a moment ago: it waits
    assert not ah.audit_receipts()

    ah.audited(minutes=11)
    ah.audited(minutes=61)

    number = credit.rsplit("/", 1)[-1]
    receipt = ah.receipts()[f"card-txn:{number}:refunded-online"]
    assert receipt[Receipts.AMOUNT] == usd("5.00")
    spent = [
        r for r in ah.receipts().values() if r[Receipts.ACTION] == ReceiptAction.REDEEMED_ONLINE
    ]
    assert [r[Receipts.AMOUNT] for r in spent] == [usd("20.00")]
    assert ah.store_state.load().deferred == []


def test_the_repair_rereads_under_the_card_lock_and_never_writes_an_older_balance(
    ah: AuditHarness,
) -> None:
    card = ah.issue("50.00")
    ah.audited()
    gid = ah.gid(card)
    ah.shop.admin_adjust(gid, usd("-10.00"), note="admin")  # the audit will list 40.00
    ah.later(11)
    held: list[int] = []

    def meanwhile(operation: str) -> None:
        # Between the listing and the repair a till debits 5.00 and mirrors 35.00.
        if operation == "airtable.get" and not held:
            held.append(len(ah.world.card_locks))
            ah.shop.admin_adjust(gid, usd("-5.00"), note="giftbridge redeem:recXXXXXXXXXXXXXX")
            ah.at.edit(GiftCards.TABLE, card, {GiftCards.BALANCE: usd("35.00")})

    ah.injector.hook = meanwhile
    ah.audit()
    ah.injector.hook = None

    assert held and held[0] >= 1  # the re-read happens with the card's locks held
    assert ah.card(card)[GiftCards.BALANCE] == usd("35.00")
    assert not [r for r in ah.audit_receipts() if r.startswith("drift:")]


def test_a_full_pass_spans_runs_and_a_restart_and_finishes(
    ah: AuditHarness,
) -> None:
    cards = [ah.issue("20.00") for _ in range(23)]
    ah.shop.admin_adjust(ah.gid(cards[17]), usd("-1.00"), note="x")
    ah.later(11)
    runs = 0
    while ah.store_state.load().last_full_finished_at is None:
        runs += 1
        progress = ah.progress or ah.fresh_process()
        progress.state.last_incremental_at = ah.world.clock.now()  # the full pass alone
        ah.audit(budget=StepBudget(ah.world.clock, checks=2))  # a chunk, or part of one
        if runs % 2 == 0:
            ah.fresh_process()  # a restart: the cursor comes from the state file
        assert runs < 20
    assert runs >= 3  # 23 cards in chunks of at most 10
    assert ah.card(cards[17])[GiftCards.BALANCE] == usd("19.00")
    assert sum(1 for r in ah.audit_receipts() if r.startswith("drift:")) == 2


def test_a_full_pass_with_nothing_drifted_reads_airtable_in_pages_never_per_card(
    ah: AuditHarness,
) -> None:
    cards = 40
    for _ in range(cards):
        ah.issue("20.00")
    ah.later(11)
    progress = ah.fresh_process()
    progress.state.last_incremental_at = ah.world.clock.now()  # only the full pass runs
    calls = len(ah.injector.calls)
    report = ah.audit()
    made = ah.injector.calls[calls:]
    chunks = math.ceil(cards / ah.audit_config.chunk_cards)
    assert made.count("airtable.list") == chunks
    assert not [c for c in made if c.startswith("airtable.") and c != "airtable.list"]
    assert "shopify.transactions" not in made
    assert progress.tally.cards_compared == cards
    assert report.processed == 0 and not report.errors


class RefusingGate(OpenGate):
    def claim(self) -> bool:
        super().claim()
        return False


def test_a_refused_lease_writes_nothing_and_keeps_the_cursor(ah: AuditHarness) -> None:
    card = ah.issue("20.00")
    ah.audited()
    ah.shop.admin_adjust(ah.gid(card), usd("-1.00"), note="x")
    ah.later(11)
    writes = len(ah.at.writes)
    report = ah.audit(gate=RefusingGate())
    assert report.skipped and len(ah.at.writes) == writes
    assert ah.store_state.load().incremental is not None  # resumed next time
    ah.audit()
    assert ah.card(card)[GiftCards.BALANCE] == usd("19.00")


def test_a_repair_that_keeps_failing_is_left_for_a_person(ah: AuditHarness) -> None:
    card = ah.issue("20.00")
    ah.audited()
    ah.shop.admin_adjust(ah.gid(card), usd("-1.00"), note="x")
    ah.at.refuse[card] = GiftCards.BALANCE  # Airtable keeps refusing this row's write
    for _ in range(3):
        report = ah.audited()
        assert report.errors
    assert not ah.store_state.load().open
    assert ah.progress is not None
    assert ah.progress.tally.count(DriftClass.BALANCE) >= 1
    assert ah.progress.tally.needs_person


def test_dozens_of_cards_gone_at_once_is_one_alert_not_a_receipt_per_row(
    ah: AuditHarness,
) -> None:
    from cards.vocab import Metric

    cards = [ah.issue("5.00") for _ in range(30)]
    ah.audited()
    for card in cards:
        ah.shop.forget(ah.gid(card))  # e.g. SHOPIFY_SHOP now names another shop
    ah.request_full()
    ah.audited()
    assert not [r for r in ah.audit_receipts() if r.startswith("drift:")]
    alerts = [e for e in ah.world.email.events if e.metric == Metric.ALERT]
    assert [a.properties["subject"] for a in alerts] == ["many-cards-gone"]
    assert ah.progress is not None and "SHOPIFY_SHOP" in ah.progress.tally.needs_person[-1]


def test_a_suspect_card_has_its_transactions_read_once_per_change(ah: AuditHarness) -> None:
    card = ah.issue("20.00")
    ah.audited()
    ah.later(24 * 60)  # Shopify touched the card (a note, a customer) after the row's sync
    entry = ah.shop.cards[ah.gid(card)]
    entry.updated_at = ah.world.clock.now()
    ah.later(24 * 60)
    calls = len(ah.injector.calls)
    ah.audit()  # a full pass is due: the card is a suspect
    ah.later(24 * 60)
    ah.audit()  # the next day's pass: unchanged since, not read again
    assert ah.injector.calls[calls:].count("shopify.transactions") == 1
    assert not ah.audit_receipts()


def test_a_run_does_not_start_a_chunk_it_cannot_finish_within_its_budget(
    ah: AuditHarness,
) -> None:
    from prongs.report import Budget

    for _ in range(45):
        ah.issue("5.00")
    ah.later(11)
    progress = ah.fresh_process()
    progress.state.last_incremental_at = ah.world.clock.now()  # the full pass alone

    def slow_shopify(operation: str) -> None:
        if operation == "shopify.list_cards":
            ah.world.clock.advance(10)  # each page waits 10 s for Shopify's bucket

    ah.injector.hook = slow_shopify
    began = ah.world.clock.monotonic()
    ah.audit(budget=Budget(ah.world.clock, 45))
    ah.injector.hook = None
    assert ah.world.clock.monotonic() - began <= 45
    assert ah.store_state.load().full is not None  # the rest waits for the next run
    assert progress.tally.cards_compared == 20  # two chunks of ten
