"""Shopify's bucket: bulk work (the audit, creations) leaves a reserve for the tills."""

from __future__ import annotations

import pytest

from clients.ports import Priority, priority
from clients.ratelimit import SHOPIFY_BULK_RESERVE, CostBucket, LimiterTimeout, shopify_limiter
from tests.clients.test_ratelimit import Clock


def test_bulk_calls_leave_a_fifth_of_the_bucket_and_redemptions_take_it() -> None:
    clock = Clock()
    bucket = CostBucket("shopify", bulk_reserve_share=SHOPIFY_BULK_RESERVE, clock=clock)
    assert shopify_limiter().bulk_reserve_share == SHOPIFY_BULK_RESERVE == 0.2
    with priority(Priority.BULK):
        bucket.acquire(502, max_wait=0)  # 498 left, above the 200 reserve
        with pytest.raises(LimiterTimeout) as caught:
            bucket.acquire(502, max_wait=1)  # would leave less than 200
        assert caught.value.retry_after == pytest.approx((502 + 200 - 498) / 50)
    with priority(Priority.REDEMPTION):
        for _ in range(40):
            bucket.acquire(10, max_wait=0)  # a till's debits never wait for the audit's room
    assert bucket.available() == pytest.approx(98)


def test_other_priorities_have_no_reserve_and_the_share_is_checked() -> None:
    bucket = CostBucket("s", maximum=100, restore_rate=1, bulk_reserve_share=0.2, clock=Clock())
    with priority(Priority.NORMAL):
        assert bucket.acquire(100, max_wait=0) == 0
    with pytest.raises(ValueError, match="share"):
        shopify_limiter(bulk_reserve_share=1.0)
