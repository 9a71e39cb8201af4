"""Shopify's access tokens: the client credentials grant over HTTP against the sandbox, renewal
before expiry and after a 401, one renewal at a time, failures that alert and then stop calls,
and no secret or token in an error or a repr."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from pydantic import SecretStr

from cards.codes import generate
from cards.money import Money
from clients.adapter_config import ClientCredentials
from clients.errors import Permanent, Retryable
from clients.factory import build_shopify
from clients.shopify import ShopifyAdapter
from clients.shopify_auth import ClientCredentialsTokens, TokenRejected, TokenUnavailable
from clients.shopify_grant import CredentialsRejected, parse_grant, token_endpoint
from daemon import bootstrap
from tests.clients.conftest import ShopifyRig, fast_policy, open_limiters, settings

CLIENT_ID = "3f1c0e5a9b7d4c2e8a6f1b3d5c7e9a0b"
SECRET = "shpss_test_5ecret_value_0123456789"


@dataclass
class FakeTime:
    now: float = 1000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Alerts:
    reasons: list[str] = field(default_factory=list)

    def __call__(self, reason: str) -> None:
        self.reasons.append(reason)


@pytest.fixture
def app(shopify_factory: Callable[..., ShopifyRig]) -> ShopifyRig:
    """The sandbox's Shopify with a Dev Dashboard app; tokens live 100 s (of the fake clock,
    for the client; the sandbox's own clock is real, so they stay valid there)."""
    return shopify_factory(client_id=CLIENT_ID, client_secret=SECRET, token_life=100)


def tokens(
    rig: ShopifyRig,
    clock: FakeTime | None = None,
    alerts: Alerts | None = None,
    secret: str = SECRET,
    seen: list[str] | None = None,
) -> ClientCredentialsTokens:
    source = ClientCredentialsTokens(
        token_endpoint(rig.graphql_url),
        CLIENT_ID,
        SecretStr(secret),
        timeouts=(2.0, 2.0),
        retry=fast_policy(attempts=2, deadline=2.0),
        clock=clock or FakeTime(),
        on_token=seen.append if seen is not None else None,
        on_renewal_failing=alerts,
    )
    rig.closers.append(source.close)
    return source


def adapter(rig: ShopifyRig, secret: str = SECRET) -> ShopifyAdapter:
    config = bootstrap.shopify_config(
        settings(shopify_graphql_url=rig.graphql_url),
        ClientCredentials(CLIENT_ID, SecretStr(secret)),
        fast_policy(),
    )
    built = build_shopify(config, open_limiters())
    rig.closers.append(built.close)
    return built


def test_the_token_endpoint_is_the_graphql_endpoints_origin() -> None:
    url = "http://127.0.0.1:8702/admin/api/2025-10/graphql.json"
    assert token_endpoint(url) == "http://127.0.0.1:8702/admin/oauth/access_token"
    url = "https://my-shop.myshopify.com/admin/api/2025-10/graphql.json"
    assert token_endpoint(url) == "https://my-shop.myshopify.com/admin/oauth/access_token"


def test_the_grant_answer_and_its_refusals() -> None:
    body = {"access_token": "shpat_x", "scope": "read_orders,write_orders", "expires_in": 86399}
    grant = parse_grant(200, body, SECRET)
    assert grant.token.get_secret_value() == "shpat_x" and grant.life == 86399
    assert grant.scopes == {"read_orders", "write_orders"}
    refused = {"error": "invalid_client", "error_description": f"bad secret {SECRET}"}
    with pytest.raises(CredentialsRejected) as caught:
        parse_grant(401, refused, SECRET)
    assert caught.value.status == 401 and "invalid_client" in str(caught.value)
    assert SECRET not in str(caught.value)  # even when the endpoint echoes it
    with pytest.raises(Retryable):
        parse_grant(503, None, SECRET)
    with pytest.raises(Retryable):
        parse_grant(429, None, SECRET, retry_after=2.0)
    with pytest.raises(CredentialsRejected, match="redirected"):
        parse_grant(302, None, SECRET)
    with pytest.raises(Permanent, match="no access_token"):
        parse_grant(200, {"scope": ""}, SECRET)


def test_a_token_is_fetched_once_and_renewed_when_a_tenth_of_its_life_is_left(
    app: ShopifyRig,
) -> None:
    clock, seen = FakeTime(), list[str]()
    source = tokens(app, clock, seen=seen)
    first = source.token()
    assert first.startswith("shpat_") and app.shop.tokens.grants == 1
    assert seen == [first]  # handed to the log redactor the moment it arrives
    clock.now += 89  # 11 s of 100 left
    assert source.token() == first and app.shop.tokens.grants == 1
    clock.now += 2  # 9 s left: renewed before it expires
    second = source.token()
    assert second != first and app.shop.tokens.grants == 2 and seen == [first, second]
    assert source.scopes >= {"write_gift_card_transactions"}
    assert source.stopped() is None


def test_one_renewal_at_a_time_across_threads(app: ShopifyRig) -> None:
    source = tokens(app)
    app.shop.faults.add("shopify.access_token", "delay", seconds=0.3)  # a slow grant
    got: list[str] = []
    threads = [threading.Thread(target=lambda: got.append(source.token())) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert len(got) == 8 and len(set(got)) == 1
    assert app.shop.tokens.grants == 1  # the others waited for the one renewal


def test_a_rejected_secret_is_named_and_not_asked_about_again_at_once(app: ShopifyRig) -> None:
    alerts = Alerts()
    source = tokens(app, alerts=alerts, secret="shpss_wrong_secret_value")
    with pytest.raises(TokenUnavailable) as caught:
        source.token()
    assert isinstance(caught.value.cause, CredentialsRejected)
    assert "invalid_client" in str(caught.value) and "shpss_wrong" not in str(caught.value)
    asked = len(app.shop.log.entries())
    with pytest.raises(TokenUnavailable):
        source.token()  # within the minute: refused without a call
    assert len(app.shop.log.entries()) == asked
    assert caught.value.retry_after is not None and caught.value.retry_after > 30
    line = source.stopped()
    assert line is not None and line.startswith("Shopify calls stopped: no access token since")
    assert "the client id or secret was rejected" in line
    assert [r.split(":")[0] for r in alerts.reasons] == ["Shopify calls stopped"]
    assert "shpss_wrong" not in repr(source) + "".join(alerts.reasons)


def test_failing_renewals_keep_the_live_token_then_alert_then_stop_then_recover(
    app: ShopifyRig,
) -> None:
    clock, alerts = FakeTime(), Alerts()
    source = tokens(app, clock, alerts)
    first = source.token()
    app.shop.faults.add("shopify.access_token", "fail_before", times=10)
    clock.now += 95  # renewal due: it fails, the live token is still used
    assert source.token() == first and alerts.reasons == []
    assert source.stopped() is None and source.stopped(margin=10) is not None
    clock.now += 2  # after the pause between attempts: fails again -> the alert
    assert source.token() == first
    assert alerts.reasons == [alerts.reasons[0]]
    assert alerts.reasons[0].startswith("Shopify access token renewal keeps failing")
    clock.now += 10  # expired, and the grant still fails: calls stop
    with pytest.raises(TokenUnavailable):
        source.token()
    assert source.stopped() is not None
    assert alerts.reasons[-1].startswith("Shopify calls stopped") and len(alerts.reasons) == 2
    app.shop.faults.clear()
    clock.now += 61
    assert source.token() != first and source.stopped() is None  # recovered


def test_a_401_renews_at_once_and_the_call_is_sent_once_more(app: ShopifyRig) -> None:
    shopify = adapter(app)
    card = shopify.create_card(generate(), Money.of("20", "USD"), "giftbridge create:recA", None)
    assert app.shop.tokens.grants == 1
    app.shop.tokens.revoke_all()  # e.g. Shopify expired it early
    result = shopify.debit(card.id, Money.of("5", "USD"), "giftbridge redeem:recB")
    assert result.balance_after == Money.of("15", "USD")
    assert app.shop.tokens.grants == 2
    outcomes = [o.outcome for o in app.shop.operations]
    assert outcomes[-2:] == ["unauthorized", "ok"]  # nothing ran on the 401
    debits = [t for t in app.shop.card_transactions(card.id) if t.kind == "debit"]
    assert len(debits) == 1


def test_a_token_refused_even_fresh_is_one_clear_error(app: ShopifyRig) -> None:
    app.shop.tokens.life = 0  # every token is dead on arrival (as for an uninstalled app)
    shopify = adapter(app)
    with pytest.raises(TokenRejected) as caught:
        shopify.access_scopes()
    assert caught.value.status == 401 and caught.value.code == "UNAUTHORIZED"
    assert "is the app installed" in str(caught.value)
    assert app.shop.tokens.grants == 2  # the first, and one renewal after the 401: no more


def test_a_legacy_static_token_keeps_working_and_its_401_names_the_variable(
    shopify: ShopifyRig,
) -> None:
    assert "write_gift_cards" in shopify.adapter().access_scopes()
    shopify.shop.access_token = "shpat_other"
    with pytest.raises(TokenRejected) as caught:
        shopify.adapter().access_scopes()
    assert "GIFTBRIDGE_SHOPIFY_ACCESS_TOKEN" in str(caught.value)
    assert shopify.shop.tokens.grants == 0  # a static token is never renewed


def test_reprs_and_errors_carry_no_secret(app: ShopifyRig) -> None:
    shopify = adapter(app, secret="shpss_wrong_0123456789")
    with pytest.raises(TokenUnavailable) as caught:
        shopify.get_card("gid://shopify/GiftCard/1")
    texts: list[Any] = [caught.value, repr(caught.value), shopify.tokens, repr(shopify.tokens)]
    assert not [t for t in texts if "shpss_wrong" in str(t)]
