"""The alerts raised outside the prongs: Shopify's token renewal failing (a real token source
against the Shopify stand-in) and push falling back to polling (a real push loop against the
Airtable stand-in), relayed to the AlertWatch and sent over the fakes: once per outage or
episode, with an Alert Sent receipt, nothing sent without ALERT_EMAIL, no secret anywhere, and
the raising thread never waiting for Airtable or Klaviyo."""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import structlog
from pydantic import SecretStr

from cards.codes import generate
from cards.vocab import Metric, ReceiptAction
from clients.shopify_auth import ClientCredentialsTokens, TokenUnavailable
from clients.shopify_grant import token_endpoint
from config.layout import Receipts
from daemon.alert_relay import AlertRelay, push_hint, shop_name
from daemon.alert_watch import AlertWatch
from daemon.health import HealthBook
from daemon.logging import add_secrets, configure
from prongs.alerts import Alerts
from sandbox.server import ServiceThread
from sandbox.shopify import ShopifySandbox, make_shopify_app
from tests.clients.conftest import fast_policy
from tests.daemon.push_rig import serving_rig
from tests.fakes import World

OPERATOR = "ops@example.com"
STATUS = "http://127.0.0.1:8377/"
SHOP = "my-shop.myshopify.com"
BASE = "appAlertRelay0001"
CLIENT_ID = "0a1b2c3d4e5f60718293a4b5c6d7e8f9"
SECRET = "shpss_relay_5ecret_0123456789abcdef"


class FakeTime:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Shop:
    sandbox: ShopifySandbox
    url: str
    closers: list[Callable[[], None]] = field(default_factory=list)


@pytest.fixture
def shop() -> Iterator[Shop]:
    """The Shopify stand-in with a Dev Dashboard app whose tokens live 100 s."""
    sandbox = ShopifySandbox(None, client_id=CLIENT_ID, client_secret=SECRET, token_life=100)
    service = ServiceThread(lambda: make_shopify_app(sandbox)).start()
    shop = Shop(sandbox, service.url)
    yield shop
    for close in shop.closers:
        close()
    service.stop()


@pytest.fixture
def logs() -> Iterator[io.StringIO]:
    """The daemon's log chain (JSON lines), knowing the client secret as ``run`` does."""
    stream = io.StringIO()
    configure(stream=stream, json_lines=True, secrets=[SECRET])
    yield stream
    structlog.reset_defaults()


def watched(world: World, email: str | None = OPERATOR) -> tuple[AlertRelay, AlertWatch]:
    """A relay bound to a fresh AlertWatch, as ``bootstrap.assemble`` wires them."""
    alerts = Alerts(world.deps(), email, attempts=2, pause_seconds=0)
    health = HealthBook(["store-transactions"], world.clock, hung_after=90, stall_after=120)
    watch = AlertWatch(alerts, health, None, world.clock, status_url=STATUS)
    relay = AlertRelay(world.clock, shop=SHOP, base_id=BASE, push_hint="the webhook")
    relay.bind(watch.raise_cause)
    return relay, watch


def token_source(shop: Shop, relay: AlertRelay, clock: FakeTime) -> ClientCredentialsTokens:
    """A Dev Dashboard app's tokens, with the daemon's hooks (the redactor; the relay)."""
    source = ClientCredentialsTokens(
        token_endpoint(f"{shop.url}/admin/api/2025-10/graphql.json"),
        CLIENT_ID,
        SecretStr(SECRET),
        timeouts=(2.0, 2.0),
        retry=fast_policy(attempts=2, deadline=1.0),
        clock=clock,
        on_token=lambda token: add_secrets([token]),
        on_renewal_failing=relay.shopify_token_failing,
    )
    shop.closers.append(source.close)
    return source


def alert_events(world: World) -> list[dict[str, object]]:
    return [dict(e.properties) for e in world.email.events if e.metric == Metric.ALERT]


def alert_receipts(world: World) -> list[dict[str, object]]:
    return [r for r in world.airtable.receipts() if r[Receipts.ACTION] == ReceiptAction.ALERT_SENT]


def test_a_failing_token_renewal_is_one_alert_per_day_with_a_receipt_and_no_secret(
    shop: Shop, logs: io.StringIO
) -> None:
    world = World.build()
    relay, watch = watched(world)
    clock = FakeTime()
    source = token_source(shop, relay, clock)
    first = source.token()
    shop.sandbox.faults.add("shopify.access_token", "fail_before", times=1000)
    clock.now += 95  # renewal due: fails, the live token goes on
    assert source.token() == first
    calls = len(world.injector.calls)
    clock.now += 2  # fails again: renewals keep failing -> the alert is raised
    assert source.token() == first
    assert len(world.injector.calls) == calls  # the token path did not wait for Airtable...
    assert alert_events(world) == []  # ...nor for Klaviyo: the next tick sends it
    assert watch.tick() == 1
    (event,) = alert_events(world)
    day = world.clock.now().strftime("%Y-%m-%d")
    assert (event["cause"], event["subject"], event["link"]) == (
        "shopify-token",
        f"{SHOP}@{day}",
        STATUS,
    )
    message = str(event["message"])
    assert "renewal keeps failing" in message and "GIFTBRIDGE_SHOPIFY_CLIENT_SECRET" in message
    (receipt,) = alert_receipts(world)
    assert receipt[Receipts.REFERENCE] == f"alert:shopify-token:{SHOP}@{day}:alert-sent"

    clock.now += 10  # the token has expired: calls stop, the second reason of this outage
    calls = len(world.injector.calls)
    with pytest.raises(TokenUnavailable):
        source.token()
    assert watch.tick() == 0 and len(world.injector.calls) == calls  # same day: in memory
    relay, watch = watched(world)  # a restarted daemon, the same day
    relay.shopify_token_failing("Shopify calls stopped: no access token (HTTP 502)")
    assert watch.tick() == 0 and len(alert_events(world)) == 1  # its receipt says it was sent
    world.clock.advance(24 * 3600)  # the outage goes on into the next day: one reminder
    relay.shopify_token_failing("Shopify calls stopped: no access token (HTTP 502)")
    assert watch.tick() == 1 and len(alert_events(world)) == 2 and len(alert_receipts(world)) == 2

    everything = json.dumps(alert_events(world)) + repr(alert_receipts(world)) + logs.getvalue()
    assert SECRET not in everything and first not in everything
    assert '"cause": "shopify-token"' in logs.getvalue()  # the log line an operator greps for


def test_without_alert_email_a_token_alert_is_only_the_log_line(logs: io.StringIO) -> None:
    world = World.build()
    relay = AlertRelay(world.clock, shop=SHOP, base_id=BASE, push_hint="the webhook")  # unbound
    relay.shopify_token_failing("Shopify access token renewal keeps failing: HTTP 502")
    _, watch = watched(world, email=None)  # bound, but no ALERT_EMAIL: nothing is even queued
    watch.raise_cause("shopify-token", f"{SHOP}@2026-11-22", "renewal keeps failing")
    assert watch.tick() == 0
    assert world.injector.calls == [] and world.email.events == []
    line = json.loads(logs.getvalue().splitlines()[0])
    assert (line["event"], line["cause"]) == ("alert.shopify_token", "shopify-token")
    assert line["level"] == "error" and "HTTP 502" in line["message"]


def test_a_failing_relay_never_raises_into_the_caller(logs: io.StringIO) -> None:
    world = World.build()
    relay = AlertRelay(world.clock, shop=SHOP, base_id=BASE, push_hint="the webhook")

    def broken(cause: str, subject: str, message: str) -> None:
        raise RuntimeError("sink down")

    relay.bind(broken)
    relay.shopify_token_failing("Shopify calls stopped: no access token (HTTP 502)")
    relay.push_unhealthy("webhook calls failing for 12 s: HTTP 503")
    assert logs.getvalue().count('"event": "alert.relay_failed"') == 2


def test_a_reason_carrying_a_secret_or_a_code_leaves_it_behind(logs: io.StringIO) -> None:
    world = World.build()
    relay, watch = watched(world)
    code = generate().reveal()
    relay.shopify_token_failing(f"rejected {SECRET} for code {code}")
    relay.push_unhealthy(f"Airtable said {SECRET}")
    assert watch.tick() == 2
    text = json.dumps(alert_events(world)) + repr(alert_receipts(world)) + logs.getvalue()
    assert SECRET not in text and code not in text and "<SECRET>" in text


def test_each_push_fall_back_is_one_alert(tmp_path: Path) -> None:
    world = World.build()
    relay, watch = watched(world)
    with serving_rig(tmp_path / "state") as rig:
        loop = rig.loop()
        loop.on_unhealthy = relay.push_unhealthy  # as bootstrap passes on_push_unhealthy

        def until(healthy: bool) -> None:
            for _ in range(60):
                if rig.health[-1:] == [healthy]:
                    return
                rig.advance(loop.step())
            pytest.fail(f"push never became {'healthy' if healthy else 'unhealthy'}")

        until(True)
        for _ in range(2):  # two episodes
            rig.sandbox.faults.add("airtable.payloads", "fail_before", times=1000)
            until(False)
            for _step in range(5):  # still down: the same episode
                rig.advance(loop.step())
            assert watch.tick() == 1 and watch.tick() == 0
            rig.sandbox.faults.clear()
            until(True)
            world.clock.advance(600)
    first, second = alert_events(world)
    assert {first["cause"], second["cause"]} == {"push-unhealthy"}
    assert first["subject"] != second["subject"] and str(first["subject"]).startswith(f"{BASE}@")
    assert "fell back to polling" in str(first["message"]) and "failing" in str(first["message"])
    assert first["link"] == STATUS and len(alert_receipts(world)) == 2


def test_the_push_hint_names_what_to_check_for_the_mode() -> None:
    notify = push_hint(
        notify_url="https://gifts.example.com/airtable/notify",
        http_host="127.0.0.1",
        http_port=8377,
    )
    assert "https://gifts.example.com/airtable/notify is reachable from Airtable" in notify
    assert "127.0.0.1:8377" in notify and "webhook" in notify
    poll = push_hint(notify_url=None, http_host="127.0.0.1", http_port=8377)
    assert "webhook" in poll and "reachable" not in poll
    assert shop_name(SHOP, None) == SHOP
    assert shop_name(None, "http://127.0.0.1:8702/admin/api/2025-10/graphql.json") == "127.0.0.1"


def test_a_newer_reason_replaces_one_still_waiting() -> None:
    world = World.build()
    relay, watch = watched(world)
    relay.shopify_token_failing("Shopify access token renewal keeps failing: HTTP 502")
    relay.shopify_token_failing("Shopify calls stopped: no access token (HTTP 502)")
    world.clock.advance(60)
    assert watch.tick() == 1
    (event,) = alert_events(world)
    assert "Shopify calls stopped" in str(event["message"])
