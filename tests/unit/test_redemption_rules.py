"""Property tests of the pure redemption rules (cards.redemption), with no fakes at all."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from cards.money import Money
from cards.policy import AmountLimits
from cards.redemption import (
    CheckCertificateValue,
    Debit,
    Refuse,
    decide,
    decide_certificate,
    decide_refused_debit,
)
from cards.vocab import CardStatus, Kind, RedemptionOutcome

USD = "USD"
TODAY = date(2026, 11, 22)
LIMITS = AmountLimits(Money.of("5.00", USD), Money.of("1000.00", USD))


@dataclass(frozen=True)
class Card:
    status: CardStatus | None
    kind: Kind | None
    expires_on: date | None
    shopify_id: str | None


@dataclass(frozen=True)
class Ask:
    amount: Decimal | None
    order_total: Decimal | None = None


typed = st.one_of(
    st.none(),
    st.decimals(min_value=Decimal("-50"), max_value=Decimal("2000"), places=3, allow_nan=False),
)
cards = st.builds(
    Card,
    status=st.one_of(st.none(), st.sampled_from(CardStatus)),
    kind=st.one_of(st.none(), st.sampled_from(Kind)),
    expires_on=st.one_of(st.none(), st.dates(TODAY - timedelta(days=30), TODAY + timedelta(30))),
    shopify_id=st.one_of(st.none(), st.just("gid://shopify/GiftCard/1")),
)
money = st.integers(min_value=0, max_value=200_000).map(lambda c: Money.of(Decimal(c) / 100, USD))


def _spendable(card: Card) -> bool:
    usable_status = card.status not in (CardStatus.PENDING, CardStatus.VOIDED, CardStatus.EXPIRED)
    in_date = card.expires_on is None or card.expires_on >= TODAY
    return usable_status and in_date and card.shopify_id is not None


@given(cards, typed, typed)
def test_only_a_spendable_card_is_ever_debited_or_checked(
    card: Card, amount: Decimal | None, total: Decimal | None
) -> None:
    decision = decide(card, Ask(amount, total), TODAY, LIMITS, currency=USD)
    if not _spendable(card):
        assert isinstance(decision, Refuse)
        assert decision.outcome in (
            RedemptionOutcome.NOT_ACTIVE,
            RedemptionOutcome.VOIDED,
            RedemptionOutcome.EXPIRED,
        )


@given(cards, typed)
def test_a_gift_card_debit_is_exactly_the_amount_typed_and_within_the_limit(
    card: Card, amount: Decimal | None
) -> None:
    decision = decide(card, Ask(amount), TODAY, LIMITS, currency=USD)
    if isinstance(decision, Debit):
        assert card.kind != Kind.CERTIFICATE and amount is not None
        assert decision.amount.amount == amount  # never rounded
        assert Decimal(0) < amount <= LIMITS.maximum.amount
    elif _spendable(card) and card.kind != Kind.CERTIFICATE:
        assert isinstance(decision, Refuse)
        assert decision.outcome == RedemptionOutcome.INVALID_AMOUNT


@given(cards, typed, typed)
def test_a_certificate_is_never_debited_before_its_value_is_read(
    card: Card, amount: Decimal | None, total: Decimal | None
) -> None:
    decision = decide(card, Ask(amount, total), TODAY, LIMITS, currency=USD)
    if card.kind == Kind.CERTIFICATE:
        assert not isinstance(decision, Debit)
    if isinstance(decision, CheckCertificateValue):
        given_total = total if total is not None else amount
        assert decision.order_total.amount == given_total


@given(money, money)
def test_a_certificate_is_used_in_full_and_only_up_to_the_order_total(
    value: Money, total: Money
) -> None:
    decision = decide_certificate(value, total)
    if value.is_positive and value <= total:
        assert decision == Debit(value)
    else:
        assert isinstance(decision, Refuse) and decision.amount == value


@given(typed, st.booleans())
def test_no_card_is_not_found_or_format_incorrect(amount: Decimal | None, typo: bool) -> None:
    decision = decide(None, Ask(amount), TODAY, LIMITS, currency=USD, format_incorrect=typo)
    assert isinstance(decision, Refuse)
    expected = RedemptionOutcome.FORMAT_INCORRECT if typo else RedemptionOutcome.NOT_FOUND
    assert decision.outcome == expected


@dataclass(frozen=True)
class Live:
    balance: Money
    expires_on: date | None
    enabled: bool


@given(
    st.sampled_from(["INSUFFICIENT_FUNDS", "GIFT_CARD_DEACTIVATED", None]),
    st.one_of(st.none(), st.builds(Live, money, st.none(), st.booleans())),
    money,
)
def test_a_refused_debit_never_ends_in_success_and_keeps_the_amount_asked(
    code: str | None, live: Live | None, asked: Money
) -> None:
    refusal = decide_refused_debit(code, live, asked, TODAY, "refused")
    assert refusal.outcome != RedemptionOutcome.SUCCESS and refusal.amount == asked
    if code == "INSUFFICIENT_FUNDS":
        assert refusal.outcome == RedemptionOutcome.INSUFFICIENT_BALANCE
