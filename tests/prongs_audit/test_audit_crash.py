"""Crash at every outside call of an audit run (before it, after it, or with its response lost),
then run again as a restarted process (the state file kept): the end is the clean run's, with one
receipt per reference, each missing row restored once, and no card created in Shopify."""

from __future__ import annotations

from datetime import date
from typing import Any

from cards.money import Money
from cards.vocab import Metric
from config.layout import GiftCards, Receipts
from tests.fakes import SimulatedCrash
from tests.prongs.conftest import usd
from tests.prongs_audit.conftest import AuditHarness

MODES = ("crash_before", "crash_after", "drop_after")


def setup() -> tuple[AuditHarness, int]:
    """Six cards, a quiet first audit, then one drift of every class; returns the harness and
    the number of outside calls made before the audit under test."""
    ah = AuditHarness()
    cards = [ah.issue("40.00") for _ in range(7)]
    ah.audited()
    shop = ah.shop
    shop.admin_adjust(ah.gid(cards[0]), usd("-7.50"), note="admin: damaged")
    shop.admin_set_expiry(ah.gid(cards[1]), date(2030, 1, 31))
    shop.deactivate(ah.gid(cards[2]))
    shop.admin_adjust(ah.gid(cards[3]), usd("-12.00"))  # a till no order prong saw
    ah.at.delete_row(GiftCards.TABLE, cards[4])
    shop.forget(ah.gid(cards[5]))
    shop.admin_adjust(ah.gid(cards[6]), usd("3.00"), note="admin: goodwill")
    ah.later(70)  # past the interval, the settle time and the online prongs' hour
    ah.request_full()
    return ah, len(ah.injector.calls)


def until_quiet(ah: AuditHarness) -> int:
    """Audit runs until nothing is left; a crash restarts the process. Returns the crashes."""
    crashes = 0
    for _ in range(30):
        try:
            report = ah.audit()
        except SimulatedCrash:
            crashes += 1
            ah.fresh_process()
            continue
        state = ah.store_state.load()
        if not report.processed and not report.errors and not state.open and not state.full:
            return crashes
    raise AssertionError("the audit never got quiet")


def snapshot(ah: AuditHarness) -> dict[str, Any]:
    cards = ah.at.rows(GiftCards.TABLE)
    gid_of = {c["id"]: str(c.get(GiftCards.SHOPIFY_GIFT_CARD_ID)) for c in cards}
    receipts = ah.at.receipts()
    refs = [r[Receipts.REFERENCE] for r in receipts]
    assert len(refs) == len(set(refs)), "a receipt written twice"
    keys = [c[GiftCards.ORIGIN_KEY] for c in cards if c.get(GiftCards.ORIGIN_KEY)]
    assert len(keys) == len(set(keys)), "a row restored twice"
    assert not ah.store_state.load().open

    def normal(ref: str) -> str:
        for row_id, gid in gid_of.items():
            ref = ref.replace(row_id, "card" + gid.rsplit("/", 1)[-1])
        return ref

    alerts = [e.unique_id for e in ah.world.email.events if e.metric == Metric.ALERT]
    assert len(alerts) == len(set(alerts))
    return {
        "receipts": sorted(
            (
                normal(r[Receipts.REFERENCE]),
                str(r[Receipts.ACTION]),
                r.get(Receipts.AMOUNT),
                tuple(gid_of.get(c, c) for c in r.get(Receipts.GIFT_CARD, ())),
            )
            for r in receipts
        ),
        "cards": sorted(
            (
                gid_of[c["id"]],
                str(c.get(GiftCards.STATUS)),
                c.get(GiftCards.BALANCE, Money.zero("USD")),
                c.get(GiftCards.EXPIRES_ON),
                c.get(GiftCards.ORIGIN_KEY),
            )
            for c in cards
        ),
        "shopify_cards": len(ah.shop.cards),
        "alerts": sorted({normal(a) for a in alerts}),
    }


def test_every_crash_point_of_an_audit_ends_in_the_clean_runs_state() -> None:
    clean, start = setup()
    assert until_quiet(clean) == 0
    expected = snapshot(clean)
    audit_calls = len(clean.injector.calls) - start
    assert audit_calls > 25
    kinds = {ref.split(":")[2] for ref, *_ in expected["receipts"] if ref.startswith("drift:")}
    assert kinds == {"balance", "expiry", "enabled", "row", "card"}
    assert sum(1 for ref, *_ in expected["receipts"] if ref.startswith("card-txn:")) == 3
    assert expected["shopify_cards"] == 6

    crashes = 0
    for index in range(audit_calls):
        for mode in MODES:
            ah, begin = setup()
            assert begin == start
            ah.injector.arm_index(start + index, mode)
            crashes += until_quiet(ah)
            assert snapshot(ah) == expected, f"differs after {mode} at audit call {index}"
    assert crashes >= 2 * audit_calls  # crash_before and crash_after fire at every call
