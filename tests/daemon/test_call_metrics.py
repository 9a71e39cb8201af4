"""Outside calls, their errors and rate-limit waits reach /metrics without the adapters knowing.

The composition root gives every adapter a retry policy whose ``on_call`` hook counts each call
(``clients/retry.py``); here the real adapters that :func:`bootstrap.build_clients` builds talk
to the stand-ins over HTTP, and the counts are read back from the registry.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from cards.money import Money
from cards.vocab import Metric
from clients.errors import Permanent
from clients.ratelimit import Window, WindowLimiter
from clients.records import EmailEvent
from config.settings import PREFIX, Settings
from daemon import bootstrap
from daemon.metrics import Metrics
from sandbox.stack import Sandbox, start

CALLS, ERRORS = "giftbridge_outside_calls_total", "giftbridge_outside_errors_total"


def _sample(metrics: Metrics, name: str, labels: dict[str, str]) -> float:
    value = metrics.registry.get_sample_value(name, labels)
    return value or 0.0


@pytest.fixture
def stand_ins(tmp_path: Path) -> Iterator[Sandbox]:
    sandbox = start(tmp_path, port_base=0)
    yield sandbox
    sandbox.stop()


def _settings(sandbox: Sandbox, tmp_path: Path) -> Settings:
    values: dict[str, Any] = {
        name.removeprefix(PREFIX).lower(): value for name, value in sandbox.environment().items()
    }
    return Settings(**values, state_dir=tmp_path, _env_file=None)  # type: ignore[call-arg]


@pytest.mark.slow
def test_every_service_counts_its_calls_and_errors_and_errors_pass_through(
    stand_ins: Sandbox, tmp_path: Path
) -> None:
    metrics = Metrics()
    settings = _settings(stand_ins, tmp_path)
    clients = bootstrap.build_clients(settings, metrics)
    try:
        issued = stand_ins.shopify.issue_card("10.00", "ABCD1234EFGH")
        card_id = f"gid://shopify/GiftCard/{issued.number}"
        card = clients.shopify.get_card(card_id)
        assert card is not None and card.balance == Money.of("10", "USD")
        with pytest.raises(Permanent) as refused:
            clients.shopify.debit(card_id, Money.of("50", "USD"), "giftbridge redeem:recX")
        assert refused.value.code == "INSUFFICIENT_FUNDS"
        assert bootstrap.preflight_problems(settings, clients) == []  # schema and scopes
        clients.email.send(
            EmailEvent(
                Metric.BALANCE,
                "ada@example.com",
                "balance:recX:customer",
                {"found": False},
                datetime.now(UTC),
            )
        )
    finally:
        clients.close()
    assert _sample(metrics, CALLS, {"service": "shopify", "operation": "GiftCardById"}) == 1
    assert _sample(metrics, CALLS, {"service": "shopify", "operation": "GiftCardDebit"}) == 1
    assert _sample(metrics, ERRORS, {"service": "shopify", "kind": "Permanent"}) == 1
    # the start checks' one query (currency and scopes), and the token grant before the first
    assert _sample(metrics, CALLS, {"service": "shopify", "operation": "ShopCheck"}) == 1
    assert _sample(metrics, CALLS, {"service": "shopify", "operation": "access_token"}) == 1
    assert _sample(metrics, CALLS, {"service": "airtable", "operation": "schema"}) == 1
    assert _sample(metrics, CALLS, {"service": "klaviyo", "operation": "create_event"}) == 1
    assert _sample(metrics, ERRORS, {"service": "klaviyo", "kind": "Permanent"}) == 0
    seconds = metrics.registry.get_sample_value(
        "giftbridge_outside_call_seconds_count", {"service": "shopify"}
    )
    assert seconds == 4
    assert stand_ins.shopify.card("ABCD1234EFGH").balance == 10  # behaviour unchanged


def test_rate_limit_waits_are_reported() -> None:
    metrics = Metrics()
    limiter = WindowLimiter("airtable", [Window(1, 0.2)])
    limiter.on_wait = metrics.rate_limit_wait
    limiter.acquire()
    limiter.acquire()  # the second waits for the window
    assert _sample(metrics, "giftbridge_rate_limit_waits_total", {"service": "airtable"}) == 1
