"""The factory that builds every adapter (certificates themselves: test_certificates.py)."""

from __future__ import annotations

from datetime import date

import pytest
from pydantic import SecretStr

from cards.money import Money
from cards.vocab import Kind, Theme
from clients.adapter_config import ClientCredentials
from clients.factory import (
    Limiters,
    build_airtable,
    build_certificates,
    build_email,
    build_shopify,
)
from clients.records import CertificateData
from clients.retry import RetryPolicy
from clients.shopify_auth import ClientCredentialsTokens, TokenUnavailable
from config.settings import load_settings
from daemon import bootstrap
from tests.configs import airtable_config, klaviyo_config, shopify_config


def test_the_factory_builds_a_certificate_renderer_that_renders() -> None:
    data = CertificateData(
        business_name="Bridge Books",
        code_display="••••••••7KQ2",
        amount=Money.of("50.00", "USD"),
        kind=Kind.GIFT_CARD,
        theme=Theme.BIRTHDAY,
        expires_on=date(2031, 11, 21),
    )
    pdf = build_certificates().render(data)
    assert pdf.startswith(b"%PDF-") and b"7KQ2" not in pdf  # compressed streams, glyph ids


def test_the_factory_builds_every_adapter_from_settings_without_any_io() -> None:
    settings = load_settings(
        _env_file=None,
        airtable_base_id="appAAAAAAAAAAAAAA",
        airtable_api_url="http://127.0.0.1:9",  # nothing listens: building must not connect
        shopify_graphql_url="http://127.0.0.1:9/admin/api/2025-10/graphql.json",
        klaviyo_api_url="http://127.0.0.1:9",
        call_timeout_seconds=10,
        run_budget_seconds=45,
    )
    limiters = Limiters()
    config = airtable_config(settings, "pat")
    airtable = build_airtable(config, limiters)
    shopify = build_shopify(shopify_config(settings, "shpat"), limiters)
    email = build_email(klaviyo_config(settings, "pk"), limiters)
    try:
        assert config.timeouts.pair == (5.0, 10.0)
        assert bootstrap.call_policy(settings).deadline == pytest.approx(22.5)
        assert config.penalty == 30.0 and config.token.get_secret_value() == "pat"
        assert airtable.currency == "USD"
    finally:
        airtable.close()
        shopify.close()
        email.close()


def test_the_factory_refuses_to_build_without_a_base_or_endpoint() -> None:
    settings = load_settings(_env_file=None)
    with pytest.raises(ValueError, match="AIRTABLE_BASE_ID"):
        build_airtable(airtable_config(settings, "pat"), Limiters())
    with pytest.raises(ValueError, match="SHOPIFY"):
        build_shopify(shopify_config(settings, "shpat"), Limiters())


def test_shopify_client_credentials_become_a_token_source_at_the_endpoint_origin() -> None:
    settings = load_settings(
        _env_file=None, shopify_graphql_url="http://127.0.0.1:9/admin/api/2025-10/graphql.json"
    )
    live = settings.model_copy(
        update={"shopify_client_id": "client-id", "shopify_client_secret": SecretStr("shpss_s")}
    )
    credential = bootstrap.shopify_credential(live)
    assert credential == ClientCredentials("client-id", SecretStr("shpss_s"))
    assert "shpss_s" not in repr(credential)
    shopify = build_shopify(
        bootstrap.shopify_config(live, credential, retry=RetryPolicy(attempts=1, deadline=1)),
        Limiters(),
    )
    try:
        tokens = shopify.tokens
        assert isinstance(tokens, ClientCredentialsTokens)
        assert tokens.url == "http://127.0.0.1:9/admin/oauth/access_token"
        assert "shpss_s" not in repr(tokens)
        # Nothing listens on port 9: no token, the call is not sent, and nothing says the secret.
        with pytest.raises(TokenUnavailable) as caught:
            shopify.access_scopes()
        assert "could not connect" in str(caught.value) and "shpss_s" not in str(caught.value)
    finally:
        shopify.close()
