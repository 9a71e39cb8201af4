"""A Dev Dashboard app's tokens end to end (sandbox over HTTP, real store prong): redemptions
keep succeeding across several token expiries, each with one debit; a 401 in the middle of a
run renews the token and the call goes through once; a grant that keeps failing stops the
prongs before they touch a request, and they resume once a token is had."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from dataclasses import replace

import pytest
from pydantic import SecretStr

from cards.codes import Code, generate
from cards.vocab import CardStatus, RedemptionOutcome, RequestStatus
from clients.adapter_config import ClientCredentials
from clients.factory import Limiters, build_shopify
from clients.shopify import ShopifyAdapter
from clients.shopify_auth import TokenUnavailable
from config.layout import StoreRedemptions
from daemon import bootstrap
from daemon.health import RunResult
from daemon.service import Service, ServiceConfig
from tests.e2e.store_helpers import FAST_RETRY, StoreWorld
from tests.prongs_shopify.online_sandbox import online

pytestmark = pytest.mark.slow

CLIENT_ID = "9a8b7c6d5e4f30211a2b3c4d5e6f7081"
SECRET = "shpss_e2e_renewal_0123456789abcdef"
LIFE = 2  # seconds: renewal every 1.8 s
STORE = "store-transactions"


@pytest.fixture
def world() -> Iterator[tuple[StoreWorld, ShopifyAdapter]]:
    with online() as running:
        running.shop.access_token = None  # only the grant's tokens open this shop
        grant = running.shop.tokens
        grant.client_id, grant.client_secret, grant.life = CLIENT_ID, SECRET, LIFE
        config = bootstrap.shopify_config(
            running.settings, ClientCredentials(CLIENT_ID, SecretStr(SECRET)), FAST_RETRY
        )
        shopify = build_shopify(config, Limiters())
        try:
            yield StoreWorld(running, replace(running.deps, shopify=shopify)), shopify
        finally:
            shopify.close()


def _card(store: StoreWorld, value: str) -> tuple[str, Code]:
    code = generate()
    issued = store.online.shop.issue_card(value, code.reveal())
    gid = f"gid://shopify/GiftCard/{issued.number}"
    return store.raw_card(code, CardStatus.ACTIVE, value, gid), code


def test_redemptions_across_several_token_expiries_debit_once_each(
    world: tuple[StoreWorld, ShopifyAdapter],
) -> None:
    store, _ = world
    shop = store.online.shop
    cards = [_card(store, "50.00") for _ in range(16)]
    requests: list[tuple[str, str]] = []
    started = time.monotonic()
    for round_number in range(8):  # about 8 s: four token lives
        if round_number == 5:
            shop.tokens.revoke_all()  # a 401 in the middle: renewed, the call sent once more
        for card_id, code in cards[2 * round_number : 2 * round_number + 2]:
            requests.append((store.redemption(code.reveal(), "12.50"), card_id))
        report = store.run()
        assert report.outcomes == {RedemptionOutcome.SUCCESS.value: 2}, report.errors
        time.sleep(0.9)
    assert time.monotonic() - started > 3 * LIFE
    assert shop.tokens.grants >= 4  # renewed as each token aged, and after the 401
    unauthorized = [o for o in shop.operations if o.outcome == "unauthorized"]
    assert unauthorized  # the revoked token's call: answered 401, renewed, sent again
    for request_id, card_id in requests:
        row = store.row(request_id)
        assert row[StoreRedemptions.STATUS] == RequestStatus.DONE.value
        (debit,) = [t for t in store.notes(card_id) if t[0] == "debit"]
        assert debit[2] == f"giftbridge redeem:{request_id}"
        store.assert_mirrored(card_id, "37.50")


def test_a_grant_that_keeps_failing_stops_the_prongs_untouched_until_a_token_is_had(
    world: tuple[StoreWorld, ShopifyAdapter],
) -> None:
    """The daemon's own jobs and runner (``bootstrap.build_prong_jobs``, ``Service.run_once``)
    over the sandbox."""
    store, shopify = world
    shop, deps = store.online.shop, store.deps
    clients = bootstrap.Clients(
        deps.airtable, shopify, deps.email, deps.certificates, shopify_tokens=shopify.tokens
    )
    service = Service(
        ServiceConfig(call_timeout_seconds=2, run_budget_seconds=5, lease_seconds=20),
        deps.airtable,
        bootstrap.build_prong_jobs(store.online.settings, clients),
        notices=bootstrap.service_notices(clients),
    )
    card_id, code = _card(store, "50.00")
    (ran,) = service.run_once([STORE])
    assert ran.result is RunResult.OK  # a token was fetched (nothing to do)
    shop.faults.add("shopify.access_token", "fail_before", times=1000)
    time.sleep(LIFE + 0.2)  # the token has expired, and the grant fails from now on
    with pytest.raises(TokenUnavailable):
        shopify.get_card("gid://shopify/GiftCard/1")  # any Shopify call finds out
    request_id = store.redemption(code.reveal(), "10.00")
    for _ in range(2):
        (skipped,) = service.run_once([STORE])
        assert skipped.result is RunResult.SKIPPED
        assert skipped.detail is not None
        assert skipped.detail.startswith("Shopify calls stopped: no access token since")
    row = store.row(request_id)  # untouched: still a new request
    assert StoreRedemptions.STATUS not in row and StoreRedemptions.OUTCOME not in row
    assert "shopify" in service.about()  # the one-line reason on the status page
    shop.faults.clear()
    deadline = time.monotonic() + 20
    while shopify.tokens.stopped(margin=5) is not None and time.monotonic() < deadline:
        time.sleep(0.5)
        with contextlib.suppress(TokenUnavailable):
            shopify.tokens.token()  # waits out the pause between attempts
    (resumed,) = service.run_once([STORE])
    assert resumed.result is RunResult.OK
    assert store.row(request_id)[StoreRedemptions.OUTCOME] == RedemptionOutcome.SUCCESS.value
    store.assert_mirrored(card_id, "40.00")
    assert "shopify" not in service.about()
