"""cards.expiry: the pure rules, hit directly with hypothesis."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from cards.expiry import (
    RowSide,
    ShopifySide,
    Step,
    days_left,
    decide,
    horizon_days,
    nearest_threshold,
    shop_today,
)
from cards.money import Money
from cards.vocab import CardStatus

TODAY = date(2026, 11, 22)
thresholds = st.lists(st.integers(1, 3650), min_size=1, max_size=5, unique=True).map(
    lambda days: tuple(sorted(days, reverse=True))
)
dates = st.dates(date(2024, 1, 1), date(2032, 12, 31))
amounts = st.decimals(min_value=0, max_value=5000, places=2).map(lambda d: Money.of(d, "USD"))
statuses = st.sampled_from([*list(CardStatus), None])
emails = st.sampled_from(["rae@example.com", None, ""])


@given(st.integers(-400, 4000), thresholds)
def test_the_nearest_threshold_is_the_smallest_one_crossed(
    left: int, days: tuple[int, ...]
) -> None:
    found = nearest_threshold(left, days)
    if left < 0 or left > max(days):
        assert found is None
        return
    assert found is not None and found in days and left <= found
    assert not [n for n in days if left <= n < found]  # nothing nearer was crossed


@given(
    statuses,
    st.one_of(st.none(), dates),
    dates,
    st.one_of(st.none(), dates),
    amounts,
    st.booleans(),
    thresholds,
    emails,
)
def test_decisions_follow_shopify(
    status: CardStatus | None,
    row_date: date | None,
    today: date,
    shopify_date: date | None,
    balance: Money,
    enabled: bool,
    days: tuple[int, ...],
    email: str | None,
) -> None:
    decision = decide(
        RowSide(status, row_date, email), ShopifySide(shopify_date, balance, enabled), today, days
    )
    if status is not CardStatus.ACTIVE:
        assert decision.step is Step.NOTHING and not decision.mirror
        return
    assert decision.expires_on == shopify_date  # Shopify's date holds
    assert decision.mirror == (shopify_date != row_date)
    if decision.step is Step.EXPIRE:
        assert shopify_date is not None and shopify_date < today
        assert decision.balance == balance
    elif decision.step is Step.REMIND:
        assert shopify_date is not None and today <= shopify_date
        assert enabled and balance.is_positive
        assert decision.days_left == days_left(shopify_date, today)
        assert decision.threshold == nearest_threshold(decision.days_left, days)
        assert decision.holder_email == (email or None)
    else:
        expired = shopify_date is not None and shopify_date < today
        assert not expired
        if shopify_date is not None and enabled and balance.is_positive:
            assert nearest_threshold(days_left(shopify_date, today), days) is None


@given(st.integers(0, 400), thresholds, st.sets(st.integers(0, 400), max_size=60))
def test_runs_on_any_days_send_each_threshold_at_most_once_and_only_the_nearest(
    ahead: int, days: tuple[int, ...], run_days: set[int]
) -> None:
    """A card expiring ``ahead`` days from a start day, looked at on arbitrary days: the keys
    it is reminded under are one per threshold, each the nearest on the day it was sent."""
    expires = TODAY + timedelta(days=ahead)
    row = RowSide(CardStatus.ACTIVE, expires, "rae@example.com")
    shopify = ShopifySide(expires, Money.of("10.00", "USD"), True)
    sent: list[int] = []
    for offset in sorted(run_days):
        day = TODAY + timedelta(days=offset)
        decision = decide(row, shopify, day, days)
        if decision.step is Step.REMIND:
            assert decision.threshold is not None
            assert decision.threshold == nearest_threshold((expires - day).days, days)
            if decision.threshold not in sent:  # the key's receipt makes a repeat a no-op
                sent.append(decision.threshold)
        if day > expires:
            assert decision.step is Step.EXPIRE
    assert sent == sorted(sent, reverse=True)  # thresholds come nearer, never back
    assert len(sent) == len(set(sent)) <= len(days)


@given(
    # hypothesis wants naive bounds; the values it draws carry UTC
    st.datetimes(datetime(2024, 1, 1), datetime(2032, 12, 31), timezones=st.just(UTC)),  # noqa: DTZ001
    st.sampled_from(
        [
            "America/Los_Angeles",
            "Pacific/Auckland",
            "Etc/UTC",
            "Asia/Kolkata",
            "Pacific/Kiritimati",
            "Pacific/Pago_Pago",
        ]
    ),
)
def test_the_shops_day_is_at_most_a_day_from_utcs(now: datetime, zone: str) -> None:
    day = shop_today(now, ZoneInfo(zone))
    assert day == now.astimezone(ZoneInfo(zone)).date()
    assert abs((day - now.date()).days) <= 1


def test_the_horizon_is_the_largest_threshold() -> None:
    assert horizon_days((30, 7)) == 30 and horizon_days(()) == 0
