"""Balance checks end to end (sandbox over HTTP, real prong): every outcome, one email each.

The tests read the ``desk`` scenario (``tests/e2e/store_desk.py``), built once per module.
"""

from __future__ import annotations

from typing import Any

import pytest

from cards.vocab import Metric
from config.layout import BalanceChecks, Receipts
from tests.e2e.store_desk import Desk
from tests.e2e.store_helpers import masked

pytestmark = pytest.mark.slow

B = BalanceChecks


# --- Balance Checks --------------------------------------------------------------------------


def _balance_email(desk: Desk, name: str) -> dict[str, Any]:
    event = desk.world.event(f"{desk.key('balance', name)}:customer")
    assert event.metric == Metric.BALANCE.value and event.email == desk.row(name)[B.EMAIL]
    return dict(event.properties)


def test_a_found_card_sends_its_balance_to_the_email_given_and_nowhere_else(desk: Desk) -> None:
    w, key, card = desk.world, desk.key("balance", "sent"), desk.cards["balance"]
    code = desk.codes["balance"]
    row = desk.row("sent")
    assert (row[B.STATUS], row[B.OUTCOME], row[B.CODE]) == ("Done", "Sent", masked(code))
    assert _balance_email(desk, "sent") == {
        "found": True,
        "masked_code": masked(code),
        "balance": "45.00",
        "currency": "USD",
        "expires_on": None,
    }
    assert w.references_of(key) == {f"{key}:balance-checked"}
    receipt = w.receipts()[f"{key}:balance-checked"]
    assert receipt[Receipts.GIFT_CARD] == [card] and receipt[Receipts.DETAILS] == "card found"
    assert Receipts.AMOUNT not in receipt and Receipts.BALANCE_AFTER not in receipt


def test_an_unknown_card_gets_the_same_email_shape_saying_not_found(desk: Desk) -> None:
    w, key = desk.world, desk.key("balance", "not_found")
    row = desk.row("not_found")
    assert (row[B.STATUS], row[B.OUTCOME]) == ("Done", "Not Found")
    not_found, found = _balance_email(desk, "not_found"), _balance_email(desk, "sent")
    assert not_found.keys() == found.keys()
    assert not_found == {
        "found": False,
        "masked_code": masked(desk.seen["unknown"]),
        "balance": None,
        "currency": "USD",
        "expires_on": None,
    }
    receipt = w.receipts()[f"{key}:balance-checked"]
    assert Receipts.GIFT_CARD not in receipt and receipt[Receipts.DETAILS] == "card not found"


@pytest.mark.parametrize(
    ("name", "outcome"),
    [
        ("format", "Format Incorrect"),
        ("check_bad_email", "Invalid Email"),
        ("often3", "Rate Limited"),  # the third check from one email at two an hour
    ],
)
def test_a_refused_balance_check_sends_nothing(desk: Desk, name: str, outcome: str) -> None:
    w, key = desk.world, desk.key("balance", name)
    row = desk.row(name)
    assert (row[B.STATUS], row[B.OUTCOME]) == ("Rejected", outcome)
    assert str(row[B.CODE]).startswith("\u2022" * 8) and row[B.PROCESSED_AT]
    assert w.events(f"{key}:customer") == [] and w.references_of(key) == set()


def test_checks_within_the_hourly_limit_are_answered(desk: Desk) -> None:
    for name in ("often1", "often2"):
        assert desk.row(name)[B.OUTCOME] == "Not Found"
        assert _balance_email(desk, name)["found"] is False


def test_a_balance_email_that_keeps_failing_is_an_error_needing_attention(desk: Desk) -> None:
    w, key = desk.world, desk.key("balance", "unlucky_check")
    row = desk.row("unlucky_check")
    assert (row[B.STATUS], row[B.OUTCOME]) == ("Needs Attention", "Error")
    assert w.references_of(key) == {f"{key}:balance-checked", f"{key}:email-failed:customer"}
    assert w.events(f"{key}:customer") == []
