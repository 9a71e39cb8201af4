"""Property tests of the audit's pure decisions: field drift, its repair, and which Shopify
transactions no receipt accounts for."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from cards.drift import DriftField, Repair, Unrepairable, field_drifts, plan_repair
from cards.drift_txns import (
    CREDIT,
    DEBIT,
    Rules,
    account_for,
    recorded_by_audit,
    signed,
    windows,
)
from cards.money import Money
from cards.status import can_transition
from cards.vocab import CardStatus, ReceiptAction

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
TODAY = NOW.date()


def usd(cents: int) -> Money:
    return Money.of(f"{cents / 100:.2f}", "USD")


@dataclass(frozen=True)
class Row:
    id: str = "rec00000000000001"
    status: CardStatus | None = CardStatus.ACTIVE
    balance: Money | None = None
    currency: str | None = "USD"
    expires_on: date | None = None


@dataclass(frozen=True)
class Card:
    balance: Money
    expires_on: date | None = None
    enabled: bool = True


cents = st.integers(min_value=0, max_value=100_000)
days = st.one_of(st.none(), st.dates(date(2024, 1, 1), date(2032, 12, 31)))
statuses = st.sampled_from(list(CardStatus))
rows = st.builds(
    Row,
    status=statuses,
    balance=st.one_of(st.none(), cents.map(usd)),
    expires_on=days,
)
cards = st.builds(Card, balance=cents.map(usd), expires_on=days, enabled=st.booleans())


@settings(max_examples=300)
@given(rows, cards)
def test_a_field_drifts_exactly_when_it_differs(row: Row, card: Card) -> None:
    found = {d.field for d in field_drifts(row, card)}
    if row.status == CardStatus.PENDING:
        assert found == set()
        return
    assert (DriftField.BALANCE in found) == (row.balance != card.balance)
    assert (DriftField.EXPIRY in found) == (row.expires_on != card.expires_on)
    assert (DriftField.ENABLED in found) == (not card.enabled and row.status == CardStatus.ACTIVE)


def applied(row: Row, card: Card, repair: Repair) -> Row:
    return replace(
        row,
        balance=card.balance if repair.balance is not None or repair.void_reason else row.balance,
        expires_on=repair.expires_on if repair.write_expiry else row.expires_on,
        status=repair.status,
    )


@settings(max_examples=300)
@given(rows, cards)
def test_a_repair_leaves_no_drift_and_only_allowed_status_changes(row: Row, card: Card) -> None:
    drifts = field_drifts(row, card)
    assume(drifts)
    plan = plan_repair(row, card, drifts, TODAY)
    if isinstance(plan, Unrepairable):
        assert plan.reason
        return
    fixed = applied(row, card, plan)
    assert field_drifts(fixed, card) == []
    current = row.status or CardStatus.ACTIVE
    assert can_transition(current, plan.status) or (
        can_transition(current, CardStatus.ACTIVE)
        and can_transition(CardStatus.ACTIVE, plan.status)
    )
    if DriftField.ENABLED in {d.field for d in drifts}:  # switched off: not spendable here
        assert plan.status in (CardStatus.VOIDED, CardStatus.REDEEMED)
    assert (plan.void_reason is not None) == (
        plan.status == CardStatus.VOIDED and current != CardStatus.VOIDED
    )
    if plan.status == CardStatus.REDEEMED and row.status != CardStatus.REDEEMED:
        assert card.balance.is_zero


@given(rows.filter(lambda r: r.balance is not None))
def test_a_row_in_another_currency_is_never_written(row: Row) -> None:
    card = Card(balance=Money.of("1.00", "EUR"))
    drifts = field_drifts(row, card)
    if row.status != CardStatus.PENDING:
        assert isinstance(plan_repair(row, card, drifts, TODAY), Unrepairable)


# --- transactions -------------------------------------------------------------------------


@dataclass(frozen=True)
class Txn:
    id: str
    kind: str
    amount: Money
    processed_at: datetime
    note: str | None


@dataclass(frozen=True)
class Rcpt:
    reference: str
    action: ReceiptAction
    card_id: str | None
    amount: Money | None
    at: datetime


RULES = Rules(NOW, settle_after=timedelta(hours=1), match_window=timedelta(minutes=15))
notes = st.sampled_from([None, None, "giftbridge redeem:rec00000000000009", "admin: goodwill"])


@st.composite
def histories(draw: st.DrawFn) -> list[Txn]:
    """Transactions newest first, minutes apart, going back up to three hours."""
    count = draw(st.integers(min_value=0, max_value=8))
    minutes = sorted(draw(st.lists(st.integers(0, 180), min_size=count, max_size=count)))
    return [
        Txn(
            id=f"gid://shopify/GiftCardDebitTransaction/{100 + i}",
            kind=draw(st.sampled_from([CREDIT, DEBIT])),
            amount=usd(draw(st.integers(1, 5)) * 100),
            processed_at=NOW - timedelta(minutes=m),
            note=draw(notes),
        )
        for i, m in enumerate(minutes)
    ]


@st.composite
def online_receipts(draw: st.DrawFn, txns: list[Txn]) -> list[Rcpt]:
    found = []
    for n, txn in enumerate(txns):
        if txn.note is None and draw(st.booleans()):
            redeemed = ReceiptAction.REDEEMED_ONLINE
            action = redeemed if txn.kind == DEBIT else ReceiptAction.REFUNDED_ONLINE
            skew = timedelta(seconds=draw(st.integers(-300, 300)))
            found.append(
                Rcpt(
                    f"shopify-txn:{n + 1}:x",
                    action,
                    "rec00000000000001",
                    txn.amount,
                    txn.processed_at + skew,
                )
            )
    return found


@settings(max_examples=300)
@given(st.data())
def test_every_transaction_lands_in_exactly_one_verdict(data: st.DataObject) -> None:
    txns = data.draw(histories())
    receipts = data.draw(online_receipts(txns))
    verdicts = account_for("rec00000000000001", txns, usd(50_000), receipts, RULES, since=None)
    unexplained = [u.txn_id for u in verdicts.unexplained]
    assert len(verdicts.accounted) + len(verdicts.pending) + len(unexplained) == len(txns)
    assert set(verdicts.accounted).isdisjoint(unexplained)
    for txn in txns:
        if txn.note and txn.note.startswith("giftbridge "):
            assert txn.id in verdicts.accounted
    online_hits = [t for t in txns if t.note is None and t.id in verdicts.accounted]
    assert len(online_hits) <= len(receipts)
    for found in verdicts.unexplained:
        if found.balance_before is not None and found.balance_after is not None:
            delta = found.balance_after - found.balance_before
            magnitude = found.amount if found.amount.is_positive else -found.amount
            assert delta in (magnitude, -magnitude)
        if found.has_note:
            assert found.action == ReceiptAction.ADJUSTED
        else:
            assert NOW - found.processed_at >= RULES.settle_after


@settings(max_examples=200)
@given(st.data())
def test_recording_the_unexplained_ones_accounts_for_everything_next_time(
    data: st.DataObject,
) -> None:
    txns = data.draw(histories())
    receipts = data.draw(online_receipts(txns))
    first = account_for("rec00000000000001", txns, usd(50_000), receipts, RULES, since=None)
    recorded = [
        Rcpt(u.reference, u.action, "rec00000000000001", u.amount, u.processed_at)
        for u in first.unexplained
    ]
    again = account_for(
        "rec00000000000001", txns, usd(50_000), [*receipts, *recorded], RULES, since=None
    )
    assert again.unexplained == []
    assert len(again.pending) == len(first.pending)
    for u in first.unexplained:
        assert recorded_by_audit(u.reference) == u.txn_id.rsplit("/", 1)[-1]


@settings(max_examples=200)
@given(st.data())
def test_receipts_of_other_cards_change_nothing(data: st.DataObject) -> None:
    txns = data.draw(histories())
    receipts = data.draw(online_receipts(txns))
    strangers = [replace(r, card_id="rec00000000000002") for r in receipts]
    alone = account_for("rec00000000000001", txns, usd(50_000), [], RULES, since=None)
    beside = account_for("rec00000000000001", txns, usd(50_000), strangers, RULES, since=None)
    assert alone == beside


@given(st.data())
def test_only_transactions_since_are_judged_but_balances_walk_from_now(
    data: st.DataObject,
) -> None:
    txns = data.draw(histories())
    assume(len(txns) >= 2)
    since = txns[len(txns) // 2].processed_at
    verdicts = account_for("rec00000000000001", txns, usd(50_000), [], RULES, since=since)
    judged = [t for t in txns if t.processed_at >= since]
    total = len(verdicts.accounted) + len(verdicts.pending) + len(verdicts.unexplained)
    assert total == len(judged)
    balance = usd(50_000)
    afters = {}
    for txn in txns:
        afters[txn.id] = balance
        balance = balance - signed(txn)
    for found in verdicts.unexplained:
        assert found.balance_after == afters[found.txn_id]


@given(st.lists(st.integers(0, 10_000), max_size=30), st.integers(1, 120))
def test_windows_cover_every_time_and_never_overlap(minutes: list[int], pad: int) -> None:
    times = [NOW + timedelta(minutes=m) for m in minutes]
    spans = windows(times, timedelta(minutes=pad))
    for moment in times:
        assert any(
            a <= moment - timedelta(minutes=pad) and moment + timedelta(minutes=pad) <= b
            for a, b in spans
        )
    for (_, end), (start, _) in itertools.pairwise(spans):
        assert end < start
