"""The audit over the fakes, class by class: each drift found, repaired or recorded once, and a
second run repeats nothing."""

from __future__ import annotations

from datetime import date, timedelta

from cards.money import Money
from cards.vocab import CardStatus, Metric, ReceiptAction, ReceiptSource
from config.layout import GiftCards, Receipts
from prongs.audit_state import MemoryStore
from prongs.audit_tally import DriftClass, Result
from tests.prongs.conftest import usd
from tests.prongs_audit.conftest import ALERTS_TO, AuditHarness


def settled(ah: AuditHarness, cards: int = 1) -> list[str]:
    """Cards issued, then a first audit (a full pass) that finds nothing."""
    ids = [ah.issue("50.00") for _ in range(cards)]
    report = ah.audited()
    assert report.processed == 0, report.outcomes
    assert not ah.audit_receipts()
    assert ah.progress is not None and ah.progress.tally.full_passes_finished == 1
    return ids


def test_nothing_drifted_nothing_written(ah: AuditHarness) -> None:
    settled(ah, cards=3)
    writes = len(ah.at.writes)
    report = ah.audited()
    assert report.processed == 0 and not report.errors
    assert len(ah.at.writes) == writes


def test_balance_changed_in_shopify_admin(ah: AuditHarness) -> None:
    (card,) = settled(ah)
    gid = ah.gid(card)
    txn = ah.shop.admin_adjust(gid, usd("-12.50"), note="goodwill correction")

    report = ah.audited()

    assert ah.card(card)[GiftCards.BALANCE] == usd("37.50")
    receipts = ah.audit_receipts()
    detected = [r for r in receipts.values() if r[Receipts.ACTION] == ReceiptAction.DRIFT_DETECTED]
    repaired = [r for r in receipts.values() if r[Receipts.ACTION] == ReceiptAction.DRIFT_REPAIRED]
    assert len(detected) == len(repaired) == 1
    assert detected[0][Receipts.REFERENCE].startswith(f"drift:{card}:balance:")
    assert detected[0][Receipts.REFERENCE].endswith(":detected")
    assert "Airtable 50.00 USD, Shopify 37.50 USD" in detected[0][Receipts.DETAILS]
    assert detected[0][Receipts.SOURCE] == ReceiptSource.SHOPIFY
    adjusted = receipts[f"card-txn:{txn.rsplit('/', 1)[-1]}:adjusted"]
    assert adjusted[Receipts.AMOUNT] == usd("-12.50")
    assert adjusted[Receipts.BALANCE_BEFORE] == usd("50.00")
    assert adjusted[Receipts.BALANCE_AFTER] == usd("37.50")
    assert adjusted[Receipts.GIFT_CARD] == (card,)
    assert report.outcomes[DriftClass.BALANCE.value] == 1

    before = dict(receipts)
    again = ah.audited()
    assert again.processed == 0
    assert ah.audit_receipts() == before


def test_expiry_changed_in_shopify(ah: AuditHarness) -> None:
    (card,) = settled(ah)
    ah.shop.admin_set_expiry(ah.gid(card), date(2030, 6, 30))

    ah.audited()

    assert ah.card(card)[GiftCards.EXPIRES_ON] == date(2030, 6, 30)
    assert ah.card(card)[GiftCards.STATUS] == CardStatus.ACTIVE
    refs = sorted(ah.audit_receipts())
    assert [r.split(":")[2] for r in refs] == ["expiry", "expiry"]
    assert "Airtable never, Shopify 2030-06-30" in ah.audit_receipts()[refs[0]][Receipts.DETAILS]
    assert ah.audited().processed == 0


def test_expired_row_extended_in_shopify_is_active_again(ah: AuditHarness) -> None:
    (card,) = settled(ah)
    ah.at.edit(
        GiftCards.TABLE,
        card,
        {GiftCards.STATUS: CardStatus.EXPIRED, GiftCards.EXPIRES_ON: date(2026, 1, 1)},
    )
    ah.shop.admin_set_expiry(ah.gid(card), date(2031, 1, 1))

    ah.audited()

    assert ah.card(card)[GiftCards.STATUS] == CardStatus.ACTIVE
    assert ah.card(card)[GiftCards.EXPIRES_ON] == date(2031, 1, 1)


def test_card_deactivated_in_shopify(ah: AuditHarness) -> None:
    (card,) = settled(ah)
    ah.shop.deactivate(ah.gid(card))

    report = ah.audited()

    row = ah.card(card)
    assert row[GiftCards.STATUS] == CardStatus.VOIDED
    assert "deactivated in Shopify" in row[GiftCards.VOID_REASON]
    assert row[GiftCards.BALANCE] == usd("50.00")  # Shopify keeps it; nobody can spend it
    assert report.outcomes[DriftClass.ENABLED.value] == 1
    assert ah.audited().processed == 0


def test_pos_sale_no_order_prong_saw_is_recorded_after_the_online_prongs_had_their_turn(
    ah: AuditHarness,
) -> None:
    (card,) = settled(ah)
    txn = ah.shop.admin_adjust(ah.gid(card), usd("-20.00"))  # no note: a till, not giftbridge
    number = txn.rsplit("/", 1)[-1]

    first = ah.audited()  # 11 minutes on: the online prongs may still record it
    assert ah.card(card)[GiftCards.BALANCE] == usd("30.00")  # the mirror is repaired at once
    assert not any(r.startswith("card-txn:") for r in ah.audit_receipts())
    assert ah.progress is not None
    assert ah.progress.tally.count(DriftClass.PENDING, Result.WAITING) == 1
    assert first.outcomes[DriftClass.BALANCE.value] == 1

    ah.audited(minutes=60)
    receipt = ah.receipts()[f"card-txn:{number}:redeemed-online"]
    assert receipt[Receipts.AMOUNT] == usd("20.00")
    assert receipt[Receipts.SOURCE] == ReceiptSource.SHOPIFY
    assert receipt[Receipts.SHOPIFY_REFERENCE] == txn
    assert receipt[Receipts.BALANCE_AFTER] == usd("30.00")

    before = ah.audit_receipts()
    ah.audited(minutes=60)
    assert ah.audit_receipts() == before


def test_credit_without_note_is_a_refund(ah: AuditHarness) -> None:
    (card,) = settled(ah)
    txn = ah.shop.admin_adjust(ah.gid(card), usd("5.00"))
    ah.audited()
    ah.audited(minutes=61)
    receipt = ah.receipts()[f"card-txn:{txn.rsplit('/', 1)[-1]}:refunded-online"]
    assert receipt[Receipts.AMOUNT] == usd("5.00")
    assert ah.card(card)[GiftCards.BALANCE] == usd("55.00")


def test_store_redemptions_and_card_actions_are_accounted_for_by_their_notes(
    ah: AuditHarness,
) -> None:
    (card,) = settled(ah)
    store = ah.store()
    ah.redemption(ah.code_of(card).reveal(), "15.00", store=store)
    ah.run()
    assert ah.card(card)[GiftCards.BALANCE] == usd("35.00")

    report = ah.audited()
    ah.audited(minutes=61)
    assert report.processed == 0
    assert not ah.audit_receipts()


def test_deleted_row_of_our_card_is_restored_and_never_issued_again(ah: AuditHarness) -> None:
    (card,) = settled(ah)
    row = dict(ah.card(card))
    cards_in_shopify = len(ah.shop.cards)
    ah.at.delete_row(GiftCards.TABLE, card)

    ah.audited()

    restored = [
        (i, r)
        for i, r in ah.at.tables[GiftCards.TABLE].items()
        if r.get(GiftCards.ORIGIN_KEY) == row[GiftCards.ORIGIN_KEY]
    ]
    assert len(restored) == 1
    new_id, new = restored[0]
    assert new_id != card
    assert new[GiftCards.SHOPIFY_GIFT_CARD_ID] == row[GiftCards.SHOPIFY_GIFT_CARD_ID]
    assert new[GiftCards.MASKED_CODE] == row[GiftCards.MASKED_CODE]
    assert new[GiftCards.BALANCE] == usd("50.00")
    assert new[GiftCards.STATUS] == CardStatus.ACTIVE
    assert GiftCards.CODE_DIGEST not in new  # the code is not known: never invented
    refs = sorted(ah.audit_receipts())
    assert [r.split(":")[:3] for r in refs] == [["drift", new_id, "row"]] * 2
    assert len(ah.shop.cards) == cards_in_shopify

    ah.audited()
    ah.request_full()
    ah.audited()
    assert len(ah.shop.cards) == cards_in_shopify
    assert sorted(ah.audit_receipts()) == refs


def test_shopify_card_gone_is_detected_alerted_and_nothing_changed(ah: AuditHarness) -> None:
    (card,) = settled(ah)
    before = dict(ah.card(card))
    ah.shop.forget(ah.gid(card))
    ah.request_full()

    report = ah.audited()

    assert ah.card(card) == before
    (ref,) = [r for r in ah.audit_receipts() if r.startswith("drift:")]
    assert ref == f"drift:{card}:card:gone:detected"
    alerts = [e for e in ah.world.email.events if e.metric == Metric.ALERT]
    assert len(alerts) == 1 and alerts[0].email == ALERTS_TO
    assert alerts[0].properties["subject"] == card
    assert report.outcomes[f"{DriftClass.MISSING_CARD.value}: {Result.NEEDS_PERSON.value}"] == 1
    assert ah.progress is not None and ah.progress.tally.needs_person

    ah.request_full()
    ah.audited()
    assert len([e for e in ah.world.email.events if e.metric == Metric.ALERT]) == 1
    assert len([r for r in ah.audit_receipts() if r.startswith("drift:")]) == 1


def test_row_in_another_currency_needs_a_person(ah: AuditHarness) -> None:
    (card,) = settled(ah)
    ah.at.tables[GiftCards.TABLE][card][GiftCards.CURRENCY] = "EUR"
    ah.at.tables[GiftCards.TABLE][card][GiftCards.BALANCE] = Money.of("50.00", "EUR")

    report = ah.audited()

    assert ah.card(card)[GiftCards.BALANCE] == Money.of("50.00", "EUR")
    (ref,) = [r for r in ah.audit_receipts() if r.startswith("drift:")]
    assert ref.endswith(":detected")
    assert "not repaired" in ah.receipts()[ref][Receipts.DETAILS]
    assert any(e.metric == Metric.ALERT for e in ah.world.email.events)
    assert report.outcomes[f"{DriftClass.BALANCE.value}: {Result.NEEDS_PERSON.value}"] == 1


def test_changes_younger_than_the_settle_time_wait_for_the_next_run(ah: AuditHarness) -> None:
    (card,) = settled(ah)
    ah.later(11)
    ah.shop.admin_adjust(ah.gid(card), usd("-1.00"), note="x")
    ah.world.clock.advance(30)  # the audit runs 30 s after the change
    assert ah.audit().processed == 0
    assert ah.card(card)[GiftCards.BALANCE] == usd("50.00")
    ah.audited()
    assert ah.card(card)[GiftCards.BALANCE] == usd("49.00")


def test_incremental_reads_transactions_of_changed_cards_only(ah: AuditHarness) -> None:
    cards = settled(ah, cards=4)
    ah.audited(minutes=30)  # the marks move past the cards' creation and its overlap
    ah.audited(minutes=30)
    ah.shop.admin_adjust(ah.gid(cards[1]), usd("-1.00"), note="x")
    calls = len(ah.injector.calls)
    ah.audited()
    made = ah.injector.calls[calls:]
    assert made.count("shopify.transactions") == 1


def test_after_a_day_a_full_pass_runs_again(ah: AuditHarness) -> None:
    settled(ah)
    assert ah.progress is not None
    ah.audited()
    assert ah.progress.tally.full_passes_finished == 1
    ah.later(24 * 60)
    ah.audit()
    assert ah.progress.tally.full_passes_finished == 2


def test_a_run_not_due_makes_no_outside_call(ah: AuditHarness) -> None:
    settled(ah)
    calls = len(ah.injector.calls)
    ah.world.clock.advance(60)
    report = ah.audit()
    assert len(ah.injector.calls) == calls
    assert not report.found_work


def test_full_pass_skips_giftbridge_cards_being_created(ah: AuditHarness) -> None:
    """A Pending row (its card being created) is never drift and never restored."""
    (card,) = settled(ah)
    ah.at.edit(GiftCards.TABLE, card, {GiftCards.STATUS: CardStatus.PENDING})
    ah.shop.admin_adjust(ah.gid(card), usd("-1.00"), note="x")
    ah.request_full()
    ah.audited()
    assert ah.card(card)[GiftCards.BALANCE] == usd("50.00")
    assert not [r for r in ah.audit_receipts() if r.startswith("drift:")]


def test_timedelta_defaults_are_sane() -> None:
    from prongs.audit import AuditConfig

    config = AuditConfig(currency="USD")
    assert config.settle < config.overlap < config.settle_transactions <= config.full_every
    assert config.full_every == timedelta(days=1)


def test_a_fresh_state_reads_a_days_changes_even_when_the_row_was_synced_since(
    ah: AuditHarness,
) -> None:
    """A lost STATE_DIR, or the audit's lease moving to a daemon on another machine: its first
    incremental looks a day back, so an admin change whose row some prong synced since (the
    full pass compares fields only) still gets its receipt."""
    (card,) = settled(ah)
    txn = ah.shop.admin_adjust(ah.gid(card), usd("-12.50"), note="goodwill correction")
    ah.later(5)
    synced = {GiftCards.BALANCE: usd("37.50"), GiftCards.LAST_SYNCED_AT: ah.world.clock.now()}
    ah.at._apply(GiftCards.TABLE, card, synced)
    ah.later(180)
    ah.store_state = MemoryStore()  # nothing of the earlier audit's marks
    ah.fresh_process()

    ah.audit()

    adjusted = ah.audit_receipts()[f"card-txn:{txn.rsplit('/', 1)[-1]}:adjusted"]
    assert adjusted[Receipts.AMOUNT] == usd("-12.50")
    assert adjusted[Receipts.GIFT_CARD] == (card,)


def test_the_audits_coverage_starts_at_the_daemons_start_however_late_its_first_run(
    ah: AuditHarness,
) -> None:
    """The daemon anchors a fresh state when it starts: a change two days before the audit's
    first finished run (crashes, a lease held elsewhere) is still read (sim seed 4672)."""
    card = ah.issue("50.00")
    ah.fresh_process().anchor(ah.world.clock.now(), ah.audit_config)
    ah.later(60)
    txn = ah.shop.admin_adjust(ah.gid(card), usd("-5.00"), note="till float")
    synced = {GiftCards.BALANCE: usd("45.00"), GiftCards.LAST_SYNCED_AT: ah.world.clock.now()}
    ah.at._apply(GiftCards.TABLE, card, synced)
    ah.later(2 * 24 * 60)

    ah.audit()

    assert f"card-txn:{txn.rsplit('/', 1)[-1]}:adjusted" in ah.audit_receipts()


def test_a_transaction_whose_receipt_could_not_be_written_is_read_again_by_the_next_run(
    ah: AuditHarness,
) -> None:
    """Airtable refused the receipts for a moment: the cursor stays, so the next run reads the
    card again and records it (sim seed 9220), once."""
    (card,) = settled(ah)
    txn = ah.shop.admin_adjust(ah.gid(card), usd("-3.00"), note="till float")
    synced = {GiftCards.BALANCE: usd("47.00"), GiftCards.LAST_SYNCED_AT: ah.world.clock.now()}
    ah.at._apply(GiftCards.TABLE, card, synced)
    ah.injector.arm("airtable.upsert", "fail_before")

    failed = ah.audited(minutes=30)  # the next window starts after the change (overlap 15 min)
    assert failed.errors and not ah.audit_receipts()
    ah.audited(minutes=30)

    reference = f"card-txn:{txn.rsplit('/', 1)[-1]}:adjusted"
    assert list(ah.audit_receipts()) == [reference]
    ah.request_full()
    ah.audited()
    assert list(ah.audit_receipts()) == [reference]
