"""Property tests: whatever amounts staff type, money stays exact and balances agree."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from cards.keys import ActionKey
from cards.money import Money, minor_unit_exponent
from cards.vocab import RedemptionOutcome
from config.layout import GiftCards, StoreRedemptions
from prongs import emails
from tests.prongs.conftest import Harness

S = StoreRedemptions
typed_amounts = st.decimals(
    min_value=Decimal("-20"), max_value=Decimal("70"), places=3, allow_nan=False
)


@settings(max_examples=25, deadline=None)
@given(st.lists(typed_amounts, min_size=1, max_size=6))
def test_random_redemptions_keep_exact_non_negative_agreeing_balances(
    amounts: list[Decimal],
) -> None:
    h = Harness()
    card = h.issue("50.00")
    code = h.code_of(card).reveal()
    recs = [h.redemption(code, str(a)) for a in amounts]
    h.run()
    balance = h.card(card)[GiftCards.BALANCE]
    assert isinstance(balance, Money) and isinstance(balance.amount, Decimal)
    assert not balance.is_negative
    assert balance == h.shop.balance(h.shopify_id(card))
    spent = Decimal(0)
    for rec, typed in zip(recs, amounts, strict=True):
        row = h.at.row(S.TABLE, rec)
        if typed <= 0 or typed != typed.quantize(Decimal("0.01")):
            assert row[S.OUTCOME] == RedemptionOutcome.INVALID_AMOUNT
        if row[S.OUTCOME] == RedemptionOutcome.SUCCESS:
            spent += typed
            assert isinstance(row[S.BALANCE_AFTER], Money)
        else:
            assert row[S.OUTCOME] in (
                RedemptionOutcome.INVALID_AMOUNT,
                RedemptionOutcome.INSUFFICIENT_BALANCE,
            )
    assert balance.amount == Decimal("50.00") - spent


@settings(max_examples=50, deadline=None)
@given(
    st.sampled_from(["USD", "JPY", "BHD", "EUR"]),
    st.integers(min_value=0, max_value=10**9),
)
def test_email_money_has_exactly_the_currency_decimals(currency: str, minor: int) -> None:
    exponent = minor_unit_exponent(currency)
    amount = Money.of(Decimal(minor).scaleb(-exponent), currency)
    event = emails.store_notice(
        notice=emails.STORE_NOTICE_REDEMPTION,
        outcome="Success",
        masked_code=None,
        amount=amount,
        currency=currency,
        balance_after=amount,
        request_id="rec00000000000001",
        message="ok",
        key=ActionKey.redeem("rec00000000000001"),
        to="shop@example.com",
        at=datetime(2026, 1, 1, tzinfo=UTC),
    )
    text = event.properties["amount"]
    assert isinstance(text, str)
    decimals = len(text.partition(".")[2])
    assert decimals == exponent and Decimal(text) == amount.amount
