"""One request never holds up another: hostile values and handler exceptions stay with their
record; an unexpected exception is an attempt; three end the record Needs Attention / Error
with its code masked (DESIGN.md, Exactly once: containment)."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from cards import redemption
from cards.vocab import (
    BalanceOutcome,
    CardActionOutcome,
    CardActionType,
    CreationOutcome,
    RedemptionOutcome,
    RequestStatus,
)
from clients.commands import MirrorBalance
from config.layout import BalanceChecks, CardActions, CreationRequests, GiftCards
from config.layout import StoreRedemptions as S
from prongs import lookup, redemption_closing, redemptions
from prongs.containment import DIED, MAX_ATTEMPTS, AttemptBook
from tests.fakes import SimulatedCrash
from tests.prongs.conftest import Harness, usd

BULLET = "\u2022"


def seeded_codes(h: Harness, n: int, amount: str = "50.00") -> list[tuple[str, str]]:
    cards = [h.issue(amount) for _ in range(n)]
    return [(card, h.code_of(card).reveal()) for card in cards]


def raising_for(
    original: Callable[..., Any], bad: Callable[..., bool], exc: Exception
) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if bad(*args, **kwargs):
            raise exc
        return original(*args, **kwargs)

    return wrapper


def test_hostile_amounts_are_invalid_amount_for_their_request_alone(h: Harness) -> None:
    seeded = seeded_codes(h, 10)
    hostile = ["1e30", "-5", "0", "1.005", None]
    bad = [h.redemption(code, amount) for (_, code), amount in zip(seeded, hostile, strict=False)]
    good = [h.redemption(code, "10.00") for _, code in seeded[5:]]
    report = h.run()
    assert report.outcomes == {"Success": 5, "Invalid Amount": 5}
    for rec in bad:
        row = h.at.row(S.TABLE, rec)
        assert row[S.STATUS] == RequestStatus.REJECTED
        assert row[S.OUTCOME] == RedemptionOutcome.INVALID_AMOUNT
        assert row[S.CODE].startswith(BULLET)
    for rec in good:
        assert h.at.row(S.TABLE, rec)[S.OUTCOME] == RedemptionOutcome.SUCCESS
    assert [h.card(card)[GiftCards.BALANCE] for card, _ in seeded[5:]] == [usd("40.00")] * 5
    assert sum(len(h.shop.notes(h.shopify_id(card))) for card, _ in seeded) == 5
    message = h.at.row(S.TABLE, bad[0])[S.RESULT_MESSAGE]
    assert "too large" in message and "InvalidOperation" not in message


def test_one_record_raising_never_fails_or_stalls_the_other_nine(
    h: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    seeded = seeded_codes(h, 10)
    recs = [h.redemption(code, "10.00") for _, code in seeded]
    poison = recs[3]
    monkeypatch.setattr(
        redemption,
        "decide",
        raising_for(
            redemption.decide,
            lambda card, ask, *a, **k: getattr(ask, "id", None) == poison,
            KeyError("a value no rule foresaw"),
        ),
    )
    for run in range(1, MAX_ATTEMPTS + 1):
        report = h.run()
        if run == 1:  # the nine are done in the first run
            assert report.outcomes == {"Success": 9}
            assert h.at.row(S.TABLE, poison).get(S.STATUS) is None  # left as it was
        assert h.attempts.count(poison) == min(run, MAX_ATTEMPTS)
    h.run()  # the fourth look gives it up
    row = h.at.row(S.TABLE, poison)
    assert row[S.STATUS] == RequestStatus.NEEDS_ATTENTION
    assert row[S.OUTCOME] == RedemptionOutcome.ERROR
    assert "failed 3 times" in row[S.RESULT_MESSAGE] and "KeyError" in row[S.RESULT_MESSAGE]
    assert "Nothing was debited" in row[S.RESULT_MESSAGE]
    assert row[S.CODE].startswith(BULLET) and seeded[3][1] not in str(row)
    assert h.shop.notes(h.shopify_id(seeded[3][0])) == []
    assert h.attempts.count(poison) == 0  # closed: forgotten
    assert all(h.at.row(S.TABLE, r)[S.OUTCOME] == "Success" for r in recs if r != poison)


def test_a_failure_before_the_code_is_parsed_still_ends_masked(
    h: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    (_, good_code), (_, bad_code) = seeded_codes(h, 2)
    good, bad = h.redemption(good_code, "5.00"), h.redemption(bad_code, "5.00")
    monkeypatch.setattr(
        lookup,
        "parse_code",
        raising_for(lookup.parse_code, lambda text: text == bad_code, RuntimeError("boom")),
    )
    for _ in range(MAX_ATTEMPTS + 1):
        h.run()
    assert h.at.row(S.TABLE, good)[S.OUTCOME] == RedemptionOutcome.SUCCESS
    row = h.at.row(S.TABLE, bad)
    assert row[S.OUTCOME] == RedemptionOutcome.ERROR
    assert row[S.CODE] == BULLET * 8 + bad_code[-4:]


def test_an_exception_after_the_debit_resumes_without_a_second_debit(
    h: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    seeded = seeded_codes(h, 3)
    recs = [h.redemption(code, "10.00") for _, code in seeded]
    bad_card = seeded[1][0]
    monkeypatch.setattr(  # the mirror of one card raises, in the batch and alone
        redemption_closing,
        "MirrorBalance",
        raising_for(
            MirrorBalance,
            lambda card_id, *a, **k: card_id == bad_card,
            ValueError("unexpected"),
        ),
    )
    h.run()
    assert h.at.row(S.TABLE, recs[1])[S.STATUS] == RequestStatus.PROCESSING  # left to resume
    assert {h.at.row(S.TABLE, r)[S.OUTCOME] for r in (recs[0], recs[2])} == {"Success"}
    monkeypatch.undo()
    h.run()
    assert h.at.row(S.TABLE, recs[1])[S.OUTCOME] == RedemptionOutcome.SUCCESS
    assert len(h.shop.notes(h.shopify_id(bad_card))) == 1
    assert h.card(bad_card)[GiftCards.BALANCE] == usd("40.00")


def test_a_resumed_request_given_up_says_a_debit_may_have_been_made(
    h: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    (card, code), = seeded_codes(h, 1)
    rec = h.redemption(code, "10.00")
    def always(*args: Any) -> Any:
        raise TypeError("always")

    monkeypatch.setattr(redemptions, "mirror_balances", always)
    for _ in range(MAX_ATTEMPTS + 1):
        h.run()
    row = h.at.row(S.TABLE, rec)
    assert row[S.STATUS] == RequestStatus.NEEDS_ATTENTION
    assert f"note giftbridge redeem:{rec}" in row[S.RESULT_MESSAGE]
    assert len(h.shop.notes(h.shopify_id(card))) == 1  # debited once, never again


def test_every_queue_contains_its_failures(h: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    from prongs import balance_checks, card_actions, creations

    card = h.issue("50.00")
    code = h.code_of(card).reveal()
    creation = h.creation(**{CreationRequests.AMOUNT: Decimal("25.00")})
    check = h.balance_check(code)
    action = h.card_action(card, CardActionType.RESEND)
    fine_check = h.balance_check(code, "other@example.com")
    boom = RuntimeError("handler bug")
    for module, name, rec in (
        (creations, "handle", creation),
        (balance_checks, "handle", check),
        (card_actions, "handle", action),
    ):
        monkeypatch.setattr(
            module,
            name,
            raising_for(getattr(module, name), lambda ctx, req, *a, r=rec: req.id == r, boom),
        )
    for _ in range(MAX_ATTEMPTS):
        h.run()
    assert h.at.row(BalanceChecks.TABLE, fine_check)[BalanceChecks.OUTCOME] == "Sent"
    h.run()
    row = h.at.row(CreationRequests.TABLE, creation)
    assert row[CreationRequests.OUTCOME] == CreationOutcome.ERROR
    assert "Origin Key create:" in row[CreationRequests.RESULT_MESSAGE]
    row = h.at.row(BalanceChecks.TABLE, check)
    assert row[BalanceChecks.OUTCOME] == BalanceOutcome.ERROR
    assert row[BalanceChecks.STATUS] == RequestStatus.NEEDS_ATTENTION
    assert row[BalanceChecks.CODE].startswith(BULLET) and "handler bug" in row[
        BalanceChecks.RESULT_MESSAGE
    ]
    row = h.at.row(CardActions.TABLE, action)
    assert row[CardActions.OUTCOME] == CardActionOutcome.ERROR
    assert row[CardActions.STATUS] == RequestStatus.NEEDS_ATTENTION


def test_a_process_dying_while_handling_counts_as_an_attempt(h: Harness) -> None:
    (card, code), = seeded_codes(h, 1)
    rec = h.redemption(code, "10.00")
    for _ in range(MAX_ATTEMPTS):  # every try dies writing its receipt, after the debit
        h.injector.arm("airtable.upsert", "crash_before")
        with pytest.raises(SimulatedCrash):
            h.run()
    assert h.attempts.count(rec) == MAX_ATTEMPTS - 1  # the third is still in flight
    h.run()  # the book counts the third death, then gives up
    row = h.at.row(S.TABLE, rec)
    assert row[S.STATUS] == RequestStatus.NEEDS_ATTENTION and DIED in row[S.RESULT_MESSAGE]
    assert len(h.shop.notes(h.shopify_id(card))) == 1


def test_the_book_counts_a_record_left_in_flight_once() -> None:
    from datetime import UTC, datetime

    now = datetime(2026, 1, 1, tzinfo=UTC)
    book = AttemptBook()
    book.begin(["recA", "recB"], now)
    book.end({"recA": None, "recB": "boom"}, now)
    assert (book.count("recA"), book.count("recB")) == (0, 1)
    book.begin(["recB"], now)  # and never ended: the process died
    book.settle(now)  # the next run (or process) counts it, once
    book.settle(now)
    book.begin(["recC"], now)
    assert book.count("recB") == 2 and book.last_error("recB") == DIED
    book.end({"recC": None}, now)
    assert book.count("recB") == 2 and book.in_flight == set()


def test_handlings_nest_without_counting_the_outer_one_as_died() -> None:
    """A bulk group polls and handles redemptions between its cards: the inner handling must
    not count the group's records as left behind by a dead process (it logged a false "attempt
    failed" per bulk row, and three could give a row up)."""
    from datetime import UTC, datetime

    now = datetime(2026, 1, 1, tzinfo=UTC)
    book = AttemptBook()
    book.begin(["bulk1", "bulk2"], now)
    for _ in range(3):
        book.begin(["redeem1"], now)
        book.end({"redeem1": None}, now)
    assert book.in_flight == {"bulk1", "bulk2"}
    assert book.count("bulk1") == book.count("bulk2") == 0
    book.end({"bulk1": None, "bulk2": None}, now)
    assert book.in_flight == set() and not book.failures
