"""Recorded traffic (tests/cassettes) replayed through the real adapters with the network off.

``record_mode="none"``: any request the cassette does not hold fails instead of reaching the
network, and nothing listens on the recorded ports anyway. Re-record with
``python -m tests.clients.record_cassettes``.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from cards.money import Money
from cards.vocab import Metric
from clients.factory import Limiters, build_airtable, build_email, build_shopify
from clients.records import EmailEvent, TransactionKind
from config.settings import Settings, load_settings
from tests.clients.cassette_tools import (
    AIRTABLE_URL,
    CASSETTES,
    KLAVIYO_URL,
    MASK,
    SHOPIFY_URL,
    recorder,
    scrub_json,
)
from tests.clients.conftest import fast_policy
from tests.clients.record_cassettes import CODE, KLAVIYO_KEY, SHOP_TOKEN, TOKEN
from tests.configs import airtable_config, klaviyo_config, shopify_config

NAMES = ["airtable_list.yaml", "shopify_debit.yaml", "klaviyo_event.yaml"]
# The hand-written cassettes of vendor examples (test_vendor_cassettes.py) get the same check.
VENDOR_NAMES = sorted(f"vendor/{p.name}" for p in (CASSETTES / "vendor").glob("*.yaml"))


@pytest.fixture
def settings() -> Settings:
    return load_settings(
        _env_file=None,
        airtable_api_url=AIRTABLE_URL,
        airtable_content_url=AIRTABLE_URL,
        airtable_base_id="appRecording00001",
        shopify_graphql_url=SHOPIFY_URL,
        klaviyo_api_url=KLAVIYO_URL,
        call_timeout_seconds=2,
    )


def test_an_airtable_listing_replays(settings: Settings, closers: list[Any]) -> None:
    config = airtable_config(settings, TOKEN, retry=fast_policy(attempts=1))
    adapter = build_airtable(config, Limiters())
    closers.append(adapter)
    with recorder("none").use_cassette("airtable_list.yaml") as cassette:
        (request,) = adapter.pending_redemptions(10)
    assert cassette.play_count == 1
    assert request.code_text == MASK + CODE[-4:] and request.staff_name == "Sam"
    assert request.amount is not None and str(request.amount) == "12.5"


def test_a_shopify_debit_replays(settings: Settings, closers: list[Any]) -> None:
    config = shopify_config(settings, SHOP_TOKEN, retry=fast_policy(attempts=1))
    adapter = build_shopify(config, Limiters())
    closers.append(adapter)
    with recorder("none").use_cassette("shopify_debit.yaml") as cassette:
        result = adapter.debit(
            "gid://shopify/GiftCard/1000001",
            Money.of("12.50", "USD"),
            "giftbridge redeem:recA1b2C3d4E5f6G7h",
        )
    assert cassette.play_count == 1
    assert result.transaction.kind is TransactionKind.DEBIT
    assert result.transaction.amount == Money.of("12.50", "USD")
    assert result.balance_after == Money.of("37.50", "USD")


def test_a_klaviyo_event_replays(settings: Settings, closers: list[Any]) -> None:
    config = klaviyo_config(settings, KLAVIYO_KEY, retry=fast_policy(attempts=1))
    adapter = build_email(config, Limiters())
    closers.append(adapter)
    event = EmailEvent(
        Metric.ISSUED,
        "recipient@example.com",
        "create:recA1b2C3d4E5f6G7h:recipient",
        {"amount": "50.00"},
        datetime.now(UTC),
    )
    with recorder("none").use_cassette("klaviyo_event.yaml") as cassette:
        adapter.send(event)
    assert cassette.play_count == 1


def test_the_vendor_folder_has_cassettes() -> None:
    assert len(VENDOR_NAMES) >= 10


@pytest.mark.parametrize("name", NAMES + VENDOR_NAMES)
def test_cassettes_hold_no_token_and_no_plaintext_code(name: str) -> None:
    text = (CASSETTES / name).read_text("utf-8")
    for secret in (TOKEN, SHOP_TOKEN, KLAVIYO_KEY, CODE, CODE.lower()):
        assert secret not in text
    with recorder("none").use_cassette(name) as cassette:
        requests = list(cassette.requests)
    assert requests
    for request in requests:
        assert not {k.lower() for k in request.headers} & {
            "authorization",
            "x-shopify-access-token",
        }
        body = request.body
        data = json.loads(body) if isinstance(body, str | bytes) and body else body
        assert scrub_json(data) == data  # any code-bearing key already holds the masked form
        if isinstance(data, dict) and "data" in data:
            code = data["data"]["attributes"]["properties"].get("code")
            assert code is None or code.startswith(MASK)
