from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet

from config.settings import Mode, PushMode, Settings, SettingsError, ShopifyAuth, load_settings

KEY = Fernet.generate_key().decode()
LIVE: dict[str, Any] = {
    "airtable_token": "patXXXXXXXXXXXXXX.secret",
    "shopify_access_token": "shpat_secret",
    "klaviyo_api_key": "pk_secret",
    "airtable_base_id": "appA1b2C3d4E5f6G7",
    "shopify_shop": "my-shop.myshopify.com",
    "code_pepper": "x" * 32,
    "code_key": KEY,
}


def settings(**values: Any) -> Settings:
    return load_settings(_env_file=None, **values)


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for name in list(os.environ):
        if name.startswith("GIFTBRIDGE_"):
            monkeypatch.delenv(name)


def test_defaults_match_the_contract() -> None:
    s = settings()
    assert s.mode == Mode.SANDBOX
    assert s.airtable_api_url == "https://api.airtable.com"
    assert s.airtable_content_url == "https://content.airtable.com"
    assert s.klaviyo_api_url == "https://a.klaviyo.com"
    assert s.shopify_api_version == "2025-10"
    assert (s.currency, s.business_name, s.code_length) == ("USD", "giftbridge", 12)
    assert (s.min_amount, s.max_amount) == (Decimal("5.00"), Decimal("1000.00"))
    assert (s.expiry_days, s.portal_enabled, s.gift_card_skus) == (0, True, frozenset())
    assert (s.processed_tag, s.redeemed_tag) == ("giftbridge-processed", "giftbridge-redeemed")
    assert (s.order_window_days, s.balance_checks_per_hour, s.tick_seconds) == (60, 5, 15)
    assert (s.call_timeout_seconds, s.run_budget_seconds, s.lease_seconds) == (10, 45, 90)
    assert s.state_dir == Path("./state")
    assert (s.http_host, s.http_port) == ("127.0.0.1", 8377)


def test_live_mode_with_everything() -> None:
    s = settings(**LIVE)
    assert s.mode == Mode.LIVE
    assert s.graphql_url == "https://my-shop.myshopify.com/admin/api/2025-10/graphql.json"
    assert "shpat_secret" not in repr(s)


def test_graphql_url_override() -> None:
    s = settings(**{**LIVE, "shopify_shop": None, "shopify_graphql_url": "http://127.0.0.1:8702/x"})
    assert s.graphql_url == "http://127.0.0.1:8702/x"


def test_some_credentials_refuse_naming_the_missing_ones() -> None:
    with pytest.raises(SettingsError) as err:
        settings(airtable_token="pat")
    assert "GIFTBRIDGE_SHOPIFY_ACCESS_TOKEN" in str(err.value)
    assert "GIFTBRIDGE_KLAVIYO_API_KEY" in str(err.value)


def test_live_mode_requires_base_shop_pepper_key() -> None:
    with pytest.raises(SettingsError) as err:
        settings(
            **{k: LIVE[k] for k in ("airtable_token", "shopify_access_token", "klaviyo_api_key")}
        )
    message = str(err.value)
    for name in ("AIRTABLE_BASE_ID", "SHOPIFY_SHOP", "CODE_PEPPER", "CODE_KEY"):
        assert f"GIFTBRIDGE_{name}" in message


@pytest.mark.parametrize(
    ("values", "names"),
    [
        ({"min_amount": "-5"}, "GIFTBRIDGE_MIN_AMOUNT"),
        ({"min_amount": "5.001"}, "GIFTBRIDGE_MIN_AMOUNT"),
        ({"max_amount": "0"}, "GIFTBRIDGE_MAX_AMOUNT"),
        ({"min_amount": "50", "max_amount": "10"}, "GIFTBRIDGE_MIN_AMOUNT"),
        ({"code_length": 7}, "GIFTBRIDGE_CODE_LENGTH"),
        ({"code_length": 21}, "GIFTBRIDGE_CODE_LENGTH"),
        ({"tick_seconds": 0}, "GIFTBRIDGE_TICK_SECONDS"),
        ({"run_budget_seconds": 5}, "GIFTBRIDGE_RUN_BUDGET_SECONDS"),
        ({"lease_seconds": 30}, "GIFTBRIDGE_LEASE_SECONDS"),
        ({"currency": "usd"}, "GIFTBRIDGE_CURRENCY"),
        ({"code_pepper": "short"}, "GIFTBRIDGE_CODE_PEPPER"),
        ({"code_key": "not-a-fernet-key"}, "GIFTBRIDGE_CODE_KEY"),
        ({"airtable_base_id": "base1"}, "GIFTBRIDGE_AIRTABLE_BASE_ID"),
        ({"shopify_shop": "https://x.com"}, "GIFTBRIDGE_SHOPIFY_SHOP"),
        ({"http_port": 70000}, "GIFTBRIDGE_HTTP_PORT"),
        ({"expiry_days": -1}, "GIFTBRIDGE_EXPIRY_DAYS"),
        ({"shopify_api_version": "latest"}, "GIFTBRIDGE_SHOPIFY_API_VERSION"),
    ],
)
def test_invalid_values_name_the_variable(values: dict[str, Any], names: str) -> None:
    with pytest.raises(SettingsError) as err:
        settings(**values)
    assert names in str(err.value)


def test_yen_amounts_take_no_decimals() -> None:
    with pytest.raises(SettingsError, match="precision"):
        settings(currency="JPY", min_amount="5.50")
    assert settings(currency="JPY", min_amount="500", max_amount="100000").currency == "JPY"


def test_environment_and_dotenv_are_read(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("GIFTBRIDGE_TICK_SECONDS", "5")
    monkeypatch.setenv("GIFTBRIDGE_SHOPIFY_GIFT_CARD_SKUS", "GC-25, GC-50,,GC-100")
    env = tmp_path / ".env"
    env.write_text("GIFTBRIDGE_BUSINESS_NAME=Corner Books\n")
    s = load_settings(_env_file=env)
    assert s.tick_seconds == 5
    assert s.business_name == "Corner Books"
    assert s.gift_card_skus == frozenset({"GC-25", "GC-50", "GC-100"})


def test_policies_derive_from_settings() -> None:
    s = settings(expiry_days=1825)
    assert s.expiry.days == 1825 and s.expiry.warning is None
    assert s.amount_limits.minimum.as_string() == "5.00"
    assert settings(expiry_days=30).expiry.warning is not None


def test_new_defaults_match_the_contract() -> None:
    s = settings()
    assert (s.expiry_interval_seconds, s.audit_interval_seconds) == (3600, 3600)
    assert s.reminder_days == (30, 7)
    assert (s.alert_email, s.public_url, s.push_poll_seconds) == (None, None, 2.5)
    assert s.airtable_push is PushMode.POLL
    assert s.shopify_auth is None


def test_dev_dashboard_credentials_run_live() -> None:
    live = {k: v for k, v in LIVE.items() if k != "shopify_access_token"}
    s = settings(**live, shopify_client_id="client-id", shopify_client_secret="shpss_secret")
    assert s.mode == Mode.LIVE
    assert s.shopify_auth is ShopifyAuth.CLIENT_CREDENTIALS
    assert "shpss_secret" not in repr(s)
    assert settings(**LIVE).shopify_auth is ShopifyAuth.STATIC_TOKEN


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({"shopify_client_id": "id", "shopify_client_secret": "s"}, "not both"),
        ({"shopify_client_secret": "s", "shopify_access_token": None}, "SHOPIFY_CLIENT_ID"),
        ({"shopify_client_id": "id", "shopify_access_token": None}, "SHOPIFY_CLIENT_SECRET"),
    ],
)
def test_shopify_credentials_are_one_way_whole(values: dict[str, Any], expected: str) -> None:
    with pytest.raises(SettingsError) as err:
        settings(**{**LIVE, **values})
    assert expected in str(err.value)
    assert "shpat_secret" not in str(err.value)


def test_no_shopify_credential_names_both_ways() -> None:
    with pytest.raises(SettingsError) as err:
        settings(**{k: v for k, v in LIVE.items() if k != "shopify_access_token"})
    message = str(err.value)
    assert "GIFTBRIDGE_SHOPIFY_CLIENT_ID" in message
    assert "GIFTBRIDGE_SHOPIFY_ACCESS_TOKEN" in message


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (
            {"tick_seconds": 0.01},
            "GIFTBRIDGE_TICK_SECONDS: 0.01 is out of range; allowed: 1 to 3600",
        ),
        ({"push_poll_seconds": 0.1}, "allowed: 0.5 to 60"),
        ({"expiry_interval_seconds": 1}, "GIFTBRIDGE_EXPIRY_INTERVAL_SECONDS"),
        ({"audit_interval_seconds": 10**6}, "allowed: 60 to 86400"),
        ({"currency": "XYZ"}, "XYZ is not an ISO 4217 currency code"),
        ({"expiry_reminder_days": "30,0"}, "GIFTBRIDGE_EXPIRY_REMINDER_DAYS"),
        ({"expiry_reminder_days": "soon"}, "GIFTBRIDGE_EXPIRY_REMINDER_DAYS"),
        ({"alert_email": "ops"}, "GIFTBRIDGE_ALERT_EMAIL"),
        ({"airtable_push": "sometimes"}, "GIFTBRIDGE_AIRTABLE_PUSH"),
        ({"airtable_push": "notify"}, "GIFTBRIDGE_PUBLIC_URL"),
        ({"public_url": "http://gifts.example.com"}, "GIFTBRIDGE_PUBLIC_URL"),
    ],
)
def test_new_settings_are_bounded_and_named(values: dict[str, Any], expected: str) -> None:
    with pytest.raises(SettingsError) as err:
        settings(**values)
    assert expected in str(err.value)


def test_public_url_is_https_or_loopback() -> None:
    assert settings(public_url="https://gifts.example.com/").public_url == (
        "https://gifts.example.com"
    )
    assert settings(public_url="http://127.0.0.1:9000").public_url == "http://127.0.0.1:9000"
    notify = settings(airtable_push="notify", public_url="https://gifts.example.com")
    assert notify.airtable_push is PushMode.NOTIFY


def test_reminder_days_are_distinct_largest_first_and_may_be_empty() -> None:
    assert settings(expiry_reminder_days="7, 30,7").reminder_days == (30, 7)
    assert settings(expiry_reminder_days="").reminder_days == ()


def test_real_currencies_pass() -> None:
    for code in ("EUR", "JPY", "KWD", "PLN", "CHF"):
        assert settings(currency=code, min_amount="5", max_amount="1000").currency == code
