from __future__ import annotations

import itertools
from datetime import date
from enum import StrEnum

import pytest

from cards.keys import ActionKey, KeyKind, MalformedKey, gid_number, key_from_note
from cards.money import Money
from cards.policy import AmountLimits, ExpiryPolicy, is_expired
from cards.status import (
    TRANSITIONS,
    TransitionNotAllowed,
    can_transition,
    require_transition,
    status_for_balance,
)
from cards.vocab import (
    Audience,
    BalanceOutcome,
    CardActionOutcome,
    CardActionType,
    CardSource,
    CardStatus,
    Channel,
    CreationOutcome,
    Kind,
    OrderKind,
    OrderOutcome,
    ProngState,
    ReceiptAction,
    ReceiptSource,
    RedemptionOutcome,
    RequestStatus,
    Theme,
    request_status_for,
)
from config.layout import load_layout

S = CardStatus
REC = "recA1b2C3d4E5f6G7"


def test_transition_table_is_exactly_the_designs() -> None:
    allowed = {
        (S.PENDING, S.ACTIVE),
        (S.PENDING, S.VOIDED),
        (S.ACTIVE, S.REDEEMED),
        (S.ACTIVE, S.VOIDED),
        (S.ACTIVE, S.EXPIRED),
        (S.REDEEMED, S.ACTIVE),
        (S.VOIDED, S.ACTIVE),
        (S.EXPIRED, S.ACTIVE),
    }
    assert set(TRANSITIONS) == allowed
    for a, b in itertools.product(S, S):
        assert can_transition(a, b) == (a == b or (a, b) in allowed)
        if a != b and (a, b) not in allowed:
            with pytest.raises(TransitionNotAllowed, match=f"{a.value} card cannot become"):
                require_transition(a, b)


def test_status_follows_balance() -> None:
    assert status_for_balance(S.ACTIVE, True) == S.REDEEMED
    assert status_for_balance(S.REDEEMED, False) == S.ACTIVE
    assert status_for_balance(S.VOIDED, False) == S.VOIDED
    assert status_for_balance(S.ACTIVE, False) == S.ACTIVE


def test_request_keys_and_their_derived_forms() -> None:
    key = ActionKey.redeem(REC)
    assert str(key) == f"redeem:{REC}"
    assert key.note == f"giftbridge redeem:{REC}"
    assert key.unique_id(Audience.STORE) == f"redeem:{REC}:store"
    assert key.reference(ReceiptAction.REDEEMED) == f"redeem:{REC}:redeemed"
    assert (
        ActionKey.create(REC).reference(ReceiptAction.SENT, Audience.RECIPIENT)
        == f"create:{REC}:sent:recipient"
    )
    assert (
        key.reference(ReceiptAction.EMAIL_FAILED, Audience.STORE)
        == f"redeem:{REC}:email-failed:store"
    )
    assert (
        ActionKey.create(REC)
        .reference(ReceiptAction.PURCHASED_ONLINE)
        .endswith(":purchased-online")
    )
    assert key.record_id == REC


def test_sent_receipts_need_an_audience_and_others_take_none() -> None:
    with pytest.raises(MalformedKey):
        ActionKey.create(REC).reference(ReceiptAction.SENT)
    with pytest.raises(MalformedKey):
        ActionKey.create(REC).reference(ReceiptAction.CREATED, Audience.RECIPIENT)


def test_shopify_keys_use_gid_numbers() -> None:
    order = ActionKey.order_unit("gid://shopify/Order/42", "gid://shopify/LineItem/7", 2)
    assert str(order) == "order:42:7:2"
    assert str(ActionKey.native("gid://shopify/GiftCard/99")) == "native:99"
    assert str(ActionKey.shopify_txn("gid://shopify/OrderTransaction/5")) == "shopify-txn:5"
    assert order.record_id is None
    with pytest.raises(MalformedKey):
        ActionKey.order_unit("gid://shopify/Order/42", "gid://shopify/LineItem/7", 0)
    with pytest.raises(MalformedKey):
        gid_number("42")


@pytest.mark.parametrize(
    "text",
    [
        f"redeem:{REC}",
        "order:1:2:3",
        "native:9",
        "shopify-txn:12",
        f"action:{REC}",
        f"balance:{REC}",
        f"create:{REC}",
    ],
)
def test_keys_round_trip(text: str) -> None:
    assert str(ActionKey.parse(text)) == text
    assert key_from_note(ActionKey.parse(text).note) == ActionKey.parse(text)


@pytest.mark.parametrize(
    "text",
    [
        "redeem:",
        "redeem:rec1",
        "order:1:2",
        "native:abc",
        "x:1",
        "order:0:1:1",
        f"native:{REC}",
        f"redeem:{REC}:extra",
    ],
)
def test_malformed_keys_are_refused(text: str) -> None:
    with pytest.raises(MalformedKey):
        ActionKey.parse(text)


def test_notes_from_others_are_not_keys() -> None:
    assert key_from_note(None) is None
    assert key_from_note("customer goodwill") is None
    assert key_from_note("giftbridge nonsense") is None
    assert ActionKey.for_request(KeyKind.ACTION, REC) == ActionKey.action(REC)


def _choices(table: str, field: str) -> set[str]:
    spec = next(t for t in load_layout() if t.name == table)
    return set(spec.field(field).choices)


@pytest.mark.parametrize(
    ("enum", "table", "field"),
    [
        (CardStatus, "Gift Cards", "Status"),
        (Kind, "Gift Cards", "Kind"),
        (Theme, "Gift Cards", "Theme"),
        (CardSource, "Gift Cards", "Source"),
        (Kind, "Creation Requests", "Kind"),
        (Theme, "Creation Requests", "Theme"),
        (Channel, "Creation Requests", "Channel"),
        (RequestStatus, "Store Redemptions", "Status"),
        (RequestStatus, "Creation Requests", "Status"),
        (RequestStatus, "Balance Checks", "Status"),
        (RequestStatus, "Card Actions", "Status"),
        (RedemptionOutcome, "Store Redemptions", "Outcome"),
        (CreationOutcome, "Creation Requests", "Outcome"),
        (BalanceOutcome, "Balance Checks", "Outcome"),
        (CardActionType, "Card Actions", "Action"),
        (CardActionOutcome, "Card Actions", "Outcome"),
        (ReceiptAction, "Receipts", "Action"),
        (ReceiptSource, "Receipts", "Source"),
        (OrderKind, "Shopify Orders", "Kind"),
        (OrderOutcome, "Shopify Orders", "Outcome"),
        (ProngState, "Status", "State"),
    ],
)
def test_vocabularies_match_the_base_layout_exactly(
    enum: type[StrEnum], table: str, field: str
) -> None:
    assert {e.value for e in enum} == _choices(table, field)


def test_request_status_mapping() -> None:
    assert request_status_for(RedemptionOutcome.SUCCESS) == RequestStatus.DONE
    assert request_status_for(CreationOutcome.CREATED) == RequestStatus.DONE
    assert request_status_for(CardActionOutcome.APPLIED) == RequestStatus.DONE
    assert request_status_for(BalanceOutcome.SENT, balance_check=True) == RequestStatus.DONE
    assert request_status_for(BalanceOutcome.NOT_FOUND, balance_check=True) == RequestStatus.DONE
    assert request_status_for(RedemptionOutcome.NOT_FOUND) == RequestStatus.REJECTED
    assert request_status_for(BalanceOutcome.RATE_LIMITED, balance_check=True) == (
        RequestStatus.REJECTED
    )
    assert request_status_for(RedemptionOutcome.ERROR) == RequestStatus.NEEDS_ATTENTION
    assert (
        request_status_for(RedemptionOutcome.SUCCESS, email_failed=True)
        == RequestStatus.NEEDS_ATTENTION
    )


def test_amount_limits() -> None:
    limits = AmountLimits(Money.of("5", "USD"), Money.of("1000", "USD"))
    assert limits.problem(Money.of("5", "USD")) is None
    assert limits.problem(Money.of("1000", "USD")) is None
    assert "below the minimum" in (limits.problem(Money.of("4.99", "USD")) or "")
    assert "above the maximum" in (limits.problem(Money.of("1000.01", "USD")) or "")
    assert "cards are in USD" in (limits.problem(Money.of("10", "EUR")) or "")
    with pytest.raises(ValueError, match="above the maximum"):
        AmountLimits(Money.of("10", "USD"), Money.of("5", "USD"))


def test_expiry_policy() -> None:
    assert ExpiryPolicy(0).expires_on(date(2026, 1, 1)) is None
    assert ExpiryPolicy(0).warning is None
    assert ExpiryPolicy(1825).expires_on(date(2026, 1, 1)) == date(2030, 12, 31)
    assert ExpiryPolicy(1825).warning is None
    assert "five years" in (ExpiryPolicy(365).warning or "")
    assert not is_expired(date(2026, 1, 1), date(2026, 1, 1))
    assert is_expired(date(2026, 1, 1), date(2026, 1, 2))
    assert not is_expired(None, date(2999, 1, 1))
    with pytest.raises(ValueError):
        ExpiryPolicy(-1)


REC2 = "recB1b2C3d4E5f6G7"


def test_lifecycle_keys_and_their_references() -> None:
    expire = ActionKey.expire(REC2, date(2031, 11, 21))
    assert expire.reference(ReceiptAction.EXPIRED) == f"expire:{REC2}:2031-11-21:expired"
    remind = ActionKey.remind(REC2, date(2031, 11, 21), 30)
    assert str(remind) == f"remind:{REC2}:2031-11-21:30"
    assert remind.unique_id(Audience.RECIPIENT) == f"remind:{REC2}:2031-11-21:30:recipient"
    assert remind.reference(ReceiptAction.REMINDER_SENT).endswith(":30:reminder-sent")
    alert = ActionKey.alert("needs-attention", REC2)
    assert alert.unique_id(Audience.OPERATOR) == f"alert:needs-attention:{REC2}:operator"
    assert alert.reference(ReceiptAction.ALERT_SENT) == f"alert:needs-attention:{REC2}:alert-sent"
    txn = ActionKey.card_txn("gid://shopify/GiftCardDebitTransaction/77")
    assert txn.reference(ReceiptAction.ADJUSTED) == "card-txn:77:adjusted"


def test_drift_references_end_detected_or_repaired_and_parse_back() -> None:
    drift = ActionKey.drift(REC2, "Balance", "2026-12-06T10:00:00Z")
    assert str(drift) == f"drift:{REC2}:balance:2026-12-06T10:00:00Z"
    assert drift.reference(ReceiptAction.DRIFT_DETECTED).endswith("10:00:00Z:detected")
    assert drift.reference(ReceiptAction.DRIFT_REPAIRED).endswith("10:00:00Z:repaired")
    assert ActionKey.parse(str(drift)) == drift


@pytest.mark.parametrize(
    "text",
    [
        "expire:recB1b2C3d4E5f6G7:2031-1-2",
        "remind:recB1b2C3d4E5f6G7:2031-01-02",
        "remind:recB1b2C3d4E5f6G7:2031-01-02:0",
        "alert:Needs Attention:x",
        "drift:recB1b2C3d4E5f6G7:balance",
        "card-txn:abc",
    ],
)
def test_malformed_lifecycle_keys_are_refused(text: str) -> None:
    with pytest.raises(MalformedKey):
        ActionKey.parse(text)
