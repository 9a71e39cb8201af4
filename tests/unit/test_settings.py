from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet

from config.settings import Mode, Settings, SettingsError, load_settings

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
