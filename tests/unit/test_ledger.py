"""The books and the report's figures against a history computed by hand (report_history)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from cards.ledger import Book, ReceiptFacts, is_rehearsal, keep_books
from cards.report_figures import Period, Tally, report_figures
from cards.vocab import ReceiptAction
from tests.unit.report_history import CARDS, RECEIPTS, TODAY, at, eur, receipt, usd

PERIOD = Period(date(2025, 1, 1), TODAY)


def test_the_rehearsal_predicate() -> None:
    assert is_rehearsal("rehearsal:create:rec1:created", None)
    assert is_rehearsal("redeem:rec1:redeemed", "Rehearsal run 3")
    assert not is_rehearsal("redeem:rec1:redeemed", "Shopify order #1001")
    assert not is_rehearsal(None, None)


def test_usd_figures_equal_the_hand_computed_ones() -> None:
    books = keep_books(CARDS, RECEIPTS)
    usd_figures = report_figures(books, PERIOD, TODAY)["USD"]
    totals = usd_figures.period_totals
    assert (totals.issued, usd_figures.cards_issued) == (usd("240"), 5)
    assert totals[Book.REDEEMED_IN_STORE] == usd("55")
    assert totals[Book.REDEEMED_ONLINE] == usd("20")
    assert totals.refunded == usd("5")
    assert totals.voided == usd("50")
    assert totals.expired == usd("40")
    assert totals.adjustments == usd("5")
    assert totals.breakage == usd("90")
    assert usd_figures.closing_liability == usd("85")
    assert usd_figures.liability_by_month == {
        "2025-01": usd("160"),
        "2025-02": usd("115"),
        "2025-03": usd("85"),
    }
    assert usd_figures.issued_by_month == {
        "2025-01": Tally(4, usd("215")),
        "2025-02": Tally(1, usd("25")),
        "2025-03": Tally(0, usd("0")),
    }
    assert usd_figures.issued_by_store == {
        "recS1": Tally(2, usd("125")),
        None: Tally(3, usd("115")),
    }
    assert usd_figures.issued_by_source == {
        "Store": Tally(2, usd("125")),
        "Online": Tally(1, usd("50")),
        "Manual": Tally(1, usd("25")),
        "Portal": Tally(1, usd("40")),
    }
    assert usd_figures.popular_amounts == [
        (usd("25"), 2),
        (usd("40"), 1),
        (usd("50"), 1),
        (usd("100"), 1),
    ]
    store = usd_figures.redeemed_by_month[Book.REDEEMED_IN_STORE]
    online = usd_figures.redeemed_by_month[Book.REDEEMED_ONLINE]
    assert store["2025-01"] == Tally(2, usd("55")) and store["2025-02"] == Tally(0, usd("0"))
    assert online["2025-02"] == Tally(1, usd("20"))
    assert usd_figures.redemption_rate == Decimal("70") / Decimal("240")
    assert usd_figures.cards_fully_redeemed == 1
    assert usd_figures.breakage_by_month["2025-02"].voided == usd("50")
    assert usd_figures.breakage_by_month["2025-03"].expired == usd("40")
    assert usd_figures.expirations_due == {
        30: Tally(1, usd("30")),
        60: Tally(1, usd("30")),
        90: Tally(1, usd("30")),
    }


def test_eur_figures_net_the_reactivation_and_the_extended_expiry() -> None:
    figures = report_figures(keep_books(CARDS, RECEIPTS), PERIOD, TODAY)["EUR"]
    totals = figures.period_totals
    assert totals.issued == eur("100")
    assert totals.redeemed == eur("30")
    assert (totals[Book.VOIDED], totals[Book.REACTIVATED], totals.voided) == (
        eur("50"),
        eur("50"),
        eur("0"),
    )
    assert (totals[Book.EXPIRED], totals[Book.EXPIRY_REVERSED], totals.expired) == (
        eur("20"),
        eur("20"),
        eur("0"),
    )
    assert figures.liability_by_month == {
        "2025-01": eur("0"),
        "2025-02": eur("70"),
        "2025-03": eur("70"),
    }
    assert figures.reconciliation.recorded_liability == eur("70")


def test_the_reconciliation_holds_and_matches_the_cards() -> None:
    figures = report_figures(keep_books(CARDS, RECEIPTS), PERIOD, TODAY)
    for currency, expected in (("USD", usd("85")), ("EUR", eur("70"))):
        rec = figures[currency].reconciliation
        assert rec.formula_holds
        assert rec.totals.liability == rec.ledger_liability == expected
        assert rec.recorded_liability == expected and rec.difference is not None
        assert rec.difference.is_zero and rec.differences == ()


def test_a_card_whose_row_disagrees_is_shown_with_the_difference() -> None:
    cards = [replace(c, balance=usd("70")) if c.id == "recA" else c for c in CARDS]
    rec = report_figures(keep_books(cards, RECEIPTS), PERIOD, TODAY)["USD"].reconciliation
    assert rec.formula_holds  # the books agree with themselves
    assert rec.difference == usd("15")
    assert [(d.card_id, d.books, d.recorded) for d in rec.differences] == [
        ("recA", usd("55"), usd("70"))
    ]


def test_rehearsals_and_cards_never_issued_are_left_out() -> None:
    books = keep_books(CARDS, RECEIPTS)
    assert "recR" not in books.cards and "recP" not in books.cards
    assert books.rehearsal_cards == 1
    assert books.rehearsal_receipts == 3  # R's Created and redemption, A's rehearsal redemption
    assert books.unissued_card_receipts == 1
    assert not books.problems
    marked = [replace(r, details="rehearsal") if r.card_id == "recE" else r for r in RECEIPTS]
    without_e = report_figures(keep_books(CARDS, marked), PERIOD, TODAY)["USD"]
    assert without_e.period_totals.issued == usd("215")  # E's Created receipt was a rehearsal's


def test_a_later_period_opens_with_the_liability_carried_over() -> None:
    figures = report_figures(keep_books(CARDS, RECEIPTS), Period(date(2025, 2, 1), TODAY), TODAY)
    usd_figures = figures["USD"]
    assert usd_figures.opening_liability == usd("160")
    assert usd_figures.period_totals.issued == usd("25")
    assert usd_figures.closing_liability == usd("85")
    assert list(usd_figures.liability_by_month) == ["2025-02", "2025-03"]


def test_a_period_in_the_past_is_not_compared_with_todays_balances() -> None:
    figures = report_figures(
        keep_books(CARDS, RECEIPTS), Period(date(2025, 1, 1), date(2025, 1, 31)), TODAY
    )
    rec = figures["USD"].reconciliation
    assert rec.ledger_liability == usd("160") and rec.formula_holds
    assert rec.recorded_liability is None and rec.difference is None


def test_receipts_of_unknown_cards_and_without_amounts_are_counted_not_booked() -> None:
    extra: list[ReceiptFacts] = [
        receipt("redeem:rec20:redeemed", ReceiptAction.REDEEMED, at(2, 2), "recGone", "5"),
        receipt("redeem:rec21:redeemed", ReceiptAction.REDEEMED, at(2, 2), "recA", None),
    ]
    books = keep_books(CARDS, [*RECEIPTS, *extra])
    assert books.unknown_card_receipts == 1
    assert books.problems == ["receipt redeem:rec21:redeemed (Redeemed) has no Amount: not counted"]


def test_an_adjustment_without_a_sign_reads_its_direction_from_the_balances() -> None:
    debit = receipt(
        "audit:1:adjusted", ReceiptAction.ADJUSTED, at(2, 20), "recC", "4", before="20", after="16"
    )
    books = keep_books(CARDS, [*RECEIPTS, debit])
    total = report_figures(books, PERIOD, TODAY)["USD"].period_totals.adjustments
    assert total == usd("1")  # -5 + 10 - 4


def test_a_period_that_ends_before_it_starts_is_refused() -> None:
    with pytest.raises(ValueError, match="ends"):
        Period(date(2025, 2, 1), date(2025, 1, 1))
