"""The vendors' documented responses (tests/cassettes/vendor) replayed through the real adapters.

Each cassette is hand-written: its responses are the examples quoted, with their sources, in
the project's API references (see tests/cassettes/vendor/README.md). ``record_mode="none"``:
nothing leaves the process, and a request the cassette does not hold fails the test. Requests
match on method, scheme, host, port and path, plus the query for Airtable (formula, page size,
offset), the GraphQL operation name for Shopify and the event's metric and unique_id for
Klaviyo; the rest of a body is ignored. Waits longer than a blink run on a fake clock shared by
the retry policy and the limiter, so a 30 s silence costs nothing here.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
import vcr

from cards.codes import Code
from cards.money import Money
from cards.vocab import Metric, RedemptionOutcome, RequestStatus
from clients.airtable import AirtableAdapter
from clients.commands import RecordRedemptionRefusal
from clients.errors import CodeTaken, Permanent, RateLimited
from clients.factory import Limiters, build_airtable, build_email, build_shopify
from clients.klaviyo import KlaviyoEmail
from clients.ratelimit import CostBucket, Window, WindowLimiter
from clients.records import EmailEvent, TransactionKind
from clients.retry import RetryPolicy
from clients.shopify import ShopifyAdapter
from config.settings import Settings, load_settings
from tests.clients.cassette_tools import AIRTABLE_URL, CASSETTES, KLAVIYO_URL, SHOPIFY_URL
from tests.clients.conftest import fast_policy
from tests.configs import airtable_config, klaviyo_config, shopify_config

CARD = "gid://shopify/GiftCard/123"
DEBIT_NOTE = "giftbridge redeem:recA1b2C3d4E5f6G7h"
ADDRESS = ("method", "scheme", "host", "port", "path")


class FakeTime:
    """A monotonic clock that ``sleep`` moves forward instead of waiting."""

    def __init__(self) -> None:
        self.offset = 0.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return time.monotonic() + self.offset

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.offset += seconds

    def policy(self, attempts: int = 2) -> RetryPolicy:
        return RetryPolicy(
            attempts=attempts,
            deadline=120.0,
            base_delay=0.01,
            max_delay=0.05,
            sleep=self.sleep,
            clock=self.clock,
        )

    def limiters(self) -> Limiters:
        return Limiters(
            airtable=WindowLimiter("airtable", [Window(5, 1.05)], clock=self.clock),
            shopify=CostBucket("shopify", clock=self.clock),
            klaviyo=WindowLimiter("klaviyo", [Window(350, 1.02)], clock=self.clock),
        )


def _json_body(request: Any) -> Any:
    body = request.body
    if isinstance(body, bytes | str):
        return json.loads(body) if body else None
    return body  # aiohttp's json= body, kept as data


def _operation(r1: Any, r2: Any) -> None:
    names = [(_json_body(r) or {}).get("operationName") for r in (r1, r2)]
    assert names[0] == names[1], f"operation {names[0]} != {names[1]}"


def _event_key(r1: Any, r2: Any) -> None:
    keys = []
    for request in (r1, r2):
        attributes = (_json_body(request) or {}).get("data", {}).get("attributes", {})
        metric = attributes.get("metric", {}).get("data", {}).get("attributes", {}).get("name")
        keys.append((metric, attributes.get("unique_id")))
    assert keys[0] == keys[1], f"event {keys[0]} != {keys[1]}"


def replay(name: str) -> Any:
    """``use_cassette`` for ``vendor/<name>`` with the matchers its service needs."""
    match_on = {
        "airtable": (*ADDRESS, "query"),
        "shopify": (*ADDRESS, "operation"),
        "klaviyo": (*ADDRESS, "event_key"),
    }[name.split("_", 1)[0]]
    recorder = vcr.VCR(cassette_library_dir=str(CASSETTES / "vendor"), record_mode="none")
    recorder.register_matcher("operation", _operation)
    recorder.register_matcher("event_key", _event_key)
    return recorder.use_cassette(name, match_on=match_on)


@pytest.fixture
def settings() -> Settings:
    return load_settings(
        _env_file=None,
        airtable_api_url=AIRTABLE_URL,
        airtable_content_url=AIRTABLE_URL,
        airtable_base_id="appVendorDocs0001",
        shopify_graphql_url=SHOPIFY_URL,
        klaviyo_api_url=KLAVIYO_URL,
        call_timeout_seconds=2,
    )


def _opened(closers: list[Any], adapter: Any) -> Any:
    closers.append(adapter)
    return adapter


def _airtable(settings: Settings, limiters: Limiters, **config: Any) -> AirtableAdapter:
    return build_airtable(airtable_config(settings, "pat", **config), limiters)


def _shopify(settings: Settings, limiters: Limiters, **config: Any) -> ShopifyAdapter:
    return build_shopify(shopify_config(settings, "shpat", **config), limiters)


def _klaviyo(settings: Settings, limiters: Limiters, **config: Any) -> KlaviyoEmail:
    return build_email(klaviyo_config(settings, "pk", **config), limiters)


# --- Airtable ------------------------------------------------------------------------------------


def test_airtable_reads_every_page_until_no_offset(settings: Settings, closers: list[Any]) -> None:
    airtable = _opened(closers, _airtable(settings, Limiters(), retry=fast_policy(1)))
    with replay("airtable_list_pages.yaml") as cassette:
        found = airtable.pending_redemptions(10)
    assert cassette.play_count == 2  # the second request carried the first page's offset
    assert [r.id for r in found] == ["recR3dempt1on0001", "recR3dempt1on0002", "recR3dempt1on0003"]
    assert [r.amount for r in found] == [Decimal("20"), Decimal("12.5"), Decimal("7.25")]
    assert [r.status for r in found] == [None, None, RequestStatus.PROCESSING]
    assert found[1].store_ids == ("recStoreDowntown1",) and found[0].store_ids == ()
    assert found[0].created_time == datetime(2026, 11, 22, 9, 0, tzinfo=UTC)


def test_airtable_restarts_a_listing_whose_iterator_expired(
    settings: Settings, closers: list[Any]
) -> None:
    airtable = _opened(closers, _airtable(settings, Limiters(), retry=fast_policy(1)))
    with replay("airtable_iterator_expired.yaml") as cassette:
        found = airtable.pending_redemptions(10)
    assert cassette.play_count == 4  # page 1, expired page 2, page 1 again, page 2
    assert [r.id for r in found] == ["recR3dempt1on0001", "recR3dempt1on0002", "recR3dempt1on0003"]


def test_airtable_429_is_rate_limited_for_the_whole_base(
    settings: Settings, closers: list[Any]
) -> None:
    limiters = Limiters()
    airtable = _opened(closers, _airtable(settings, limiters, retry=fast_policy(1), penalty=30.0))
    with replay("airtable_rate_limited.yaml") as cassette, pytest.raises(RateLimited) as caught:
        airtable.pending_redemptions(10)
    assert cassette.play_count == 1
    assert caught.value.retry_after == 30.0  # no Retry-After: the documented 30 s
    assert caught.value.detail == "HTTP 429 RATE_LIMIT_REACHED"  # the errors[] shape was read
    assert 29.0 < limiters.airtable.silent_for() <= 33.0  # every thread of the base waits


def test_airtable_429_then_200_waits_out_the_silence(
    settings: Settings, closers: list[Any]
) -> None:
    fake = FakeTime()
    airtable = _opened(
        closers, _airtable(settings, fake.limiters(), retry=fake.policy(attempts=2), penalty=0.5)
    )
    with replay("airtable_rate_limited.yaml") as cassette:
        (request,) = airtable.pending_redemptions(10)
    assert cassette.play_count == 2
    assert fake.sleeps and fake.sleeps[0] >= 0.5
    assert request.id == "recR3dempt1on0001" and request.amount == Decimal("20")


def test_airtable_error_bodies_of_either_shape(settings: Settings, closers: list[Any]) -> None:
    airtable = _opened(closers, _airtable(settings, Limiters(), retry=fast_policy(3)))
    with replay("airtable_error_shapes.yaml") as cassette:
        assert airtable.get_card("recNoSuchCard0001") is None  # error{} MODEL_ID_NOT_FOUND
        with pytest.raises(Permanent) as bare:
            airtable.update_request(
                RecordRedemptionRefusal("recNotAnId", RedemptionOutcome.ERROR, "x")
            )
        with pytest.raises(Permanent) as forbidden:
            airtable.pending_redemptions(10)
    assert cassette.play_count == 3  # nothing Permanent was sent twice
    assert (bare.value.code, bare.value.status) == ("NOT_FOUND", 404)
    assert forbidden.value.code == "INVALID_PERMISSIONS_OR_MODEL_NOT_FOUND"
    assert forbidden.value.status == 403


# --- Shopify -------------------------------------------------------------------------------------


def _debit(shopify: Any) -> Any:
    return shopify.debit(CARD, Money.of("12.50", "USD"), DEBIT_NOTE)


@pytest.mark.parametrize("name", ["shopify_throttled.yaml", "shopify_throttled_429.yaml"])
def test_shopify_throttled_waits_for_the_requested_cost(
    name: str, settings: Settings, closers: list[Any]
) -> None:
    limiters = Limiters()
    shopify = _opened(closers, _shopify(settings, limiters, retry=fast_policy(1)))
    with replay(name) as cassette, pytest.raises(RateLimited) as caught:
        _debit(shopify)
    assert cassette.play_count == 1
    assert caught.value.retry_after == pytest.approx((752 - 666) / 50.0)
    assert limiters.shopify.restore_rate == 50.0
    assert limiters.shopify.available() == pytest.approx(666, abs=5)


def test_shopify_throttled_debit_is_sent_again_after_the_wait(
    settings: Settings, closers: list[Any]
) -> None:
    fake = FakeTime()
    limiters = fake.limiters()
    shopify = _opened(closers, _shopify(settings, limiters, retry=fake.policy()))
    with replay("shopify_throttled.yaml") as cassette:
        result = _debit(shopify)
    assert cassette.play_count == 2  # a throttled mutation did not run: re-sending is safe
    assert fake.sleeps and fake.sleeps[0] >= (752 - 666) / 50.0
    assert result.transaction.kind is TransactionKind.DEBIT
    assert result.transaction.id == "gid://shopify/GiftCardDebitTransaction/456"
    assert result.transaction.amount == Money.of("12.50", "USD")
    assert result.balance_after == Money.of("37.50", "USD")
    assert limiters.shopify.available() == pytest.approx(954, abs=5)  # the success's budget


def test_shopify_insufficient_funds_is_permanent(settings: Settings, closers: list[Any]) -> None:
    shopify = _opened(closers, _shopify(settings, Limiters(), retry=fast_policy(3)))
    with replay("shopify_debit_insufficient.yaml") as cassette, pytest.raises(Permanent) as caught:
        _debit(shopify)
    assert cassette.play_count == 1
    assert type(caught.value) is Permanent and caught.value.code == "INSUFFICIENT_FUNDS"


def test_shopify_taken_code_is_code_taken(settings: Settings, closers: list[Any]) -> None:
    shopify = _opened(closers, _shopify(settings, Limiters(), retry=fast_policy(3)))
    code = Code.parse("7KQ2M9XH4TPC")
    with replay("shopify_create_taken.yaml") as cassette, pytest.raises(CodeTaken) as caught:
        shopify.create_card(
            code, Money.of("50.00", "USD"), "giftbridge create:recA1b2C3d4E5f6G7h", None
        )
    assert cassette.play_count == 1
    assert caught.value.code == "TAKEN" and code.reveal() not in str(caught.value)


# --- Klaviyo -------------------------------------------------------------------------------------


def _notice() -> EmailEvent:
    """The Create Event body example of the reference, as giftbridge builds it."""
    return EmailEvent(
        Metric.STORE_NOTICE,
        "store@example.com",
        "redeem:recA1b2C3d4E5f6G7h:store",
        {
            "notice": "redemption",
            "outcome": "Success",
            "masked_code": "\u2022" * 8 + "7KQ2",
            "amount": "12.50",
            "balance_after": "37.50",
            "request_id": "recA1b2C3d4E5f6G7h",
        },
        datetime(2026, 1, 1, 12, 0, tzinfo=UTC),
    )


def test_klaviyo_202_with_an_empty_body_is_sent(settings: Settings, closers: list[Any]) -> None:
    klaviyo = _opened(closers, _klaviyo(settings, Limiters(), retry=fast_policy(1)))
    with replay("klaviyo_accepted.yaml") as cassette:
        klaviyo.send(_notice())
    assert cassette.play_count == 1


def test_klaviyo_429_is_rate_limited_for_retry_after(
    settings: Settings, closers: list[Any]
) -> None:
    limiters = Limiters()
    klaviyo = _opened(closers, _klaviyo(settings, limiters, retry=fast_policy(1)))
    with replay("klaviyo_rate_limited.yaml") as cassette, pytest.raises(RateLimited) as caught:
        klaviyo.send(_notice())
    assert cassette.play_count == 1
    assert caught.value.retry_after == 7.0
    assert 6.0 < limiters.klaviyo.silent_for() <= 7.0


def test_klaviyo_429_then_202_honours_retry_after(settings: Settings, closers: list[Any]) -> None:
    fake = FakeTime()
    klaviyo = _opened(closers, _klaviyo(settings, fake.limiters(), retry=fake.policy()))
    with replay("klaviyo_rate_limited.yaml") as cassette:
        klaviyo.send(_notice())
    assert cassette.play_count == 2  # both carried the same metric and unique_id
    assert fake.sleeps and fake.sleeps[0] >= 7.0


def test_klaviyo_400_is_permanent_and_not_resent(settings: Settings, closers: list[Any]) -> None:
    klaviyo = _opened(closers, _klaviyo(settings, Limiters(), retry=fast_policy(3)))
    with replay("klaviyo_bad_request.yaml") as cassette, pytest.raises(Permanent) as caught:
        klaviyo.send(_notice())
    assert cassette.play_count == 1
    assert (caught.value.code, caught.value.status) == ("HTTP_400", 400)


def test_klaviyo_503_is_resent_with_the_same_unique_id(
    settings: Settings, closers: list[Any]
) -> None:
    klaviyo = _opened(closers, _klaviyo(settings, Limiters(), retry=fast_policy(2)))
    with replay("klaviyo_server_error.yaml") as cassette:
        klaviyo.send(_notice())
    assert cassette.play_count == 2
