"""Outside calls and rate-limit waits reach /metrics without the adapters knowing."""

from __future__ import annotations

import pytest

from cards.money import Money
from clients.errors import Permanent
from clients.ports import ShopifyPort
from clients.ratelimit import Window, WindowLimiter
from daemon.instrument import Instrumented
from daemon.metrics import Metrics
from tests.fakes import World


def _sample(metrics: Metrics, name: str, labels: dict[str, str]) -> float:
    value = metrics.registry.get_sample_value(name, labels)
    return value or 0.0


def test_calls_and_errors_are_counted_and_errors_pass_through(world: World) -> None:
    metrics = Metrics()
    shopify: ShopifyPort = Instrumented(world.shopify, "shopify", metrics)
    card = world.shopify.issue_native("ABCD1234EFGH", Money.of("10", "USD"))
    assert shopify.get_card(card.id) == card
    with pytest.raises(Permanent) as refused:
        shopify.debit(card.id, Money.of("50", "USD"), "giftbridge redeem:rec00000000000001")
    assert refused.value.code == "INSUFFICIENT_FUNDS"
    calls = "giftbridge_outside_calls_total"
    assert _sample(metrics, calls, {"service": "shopify", "operation": "get_card"}) == 1
    assert _sample(metrics, calls, {"service": "shopify", "operation": "debit"}) == 1
    errors = "giftbridge_outside_errors_total"
    assert _sample(metrics, errors, {"service": "shopify", "kind": "Permanent"}) == 1
    assert world.shopify.balance(card.id) == Money.of("10", "USD")  # behaviour unchanged


def test_rate_limit_waits_are_reported() -> None:
    metrics = Metrics()
    limiter = WindowLimiter("airtable", [Window(1, 0.2)])
    limiter.on_wait = metrics.rate_limit_wait
    limiter.acquire()
    limiter.acquire()  # the second waits for the window
    assert _sample(metrics, "giftbridge_rate_limit_waits_total", {"service": "airtable"}) == 1
