"""Every knob giftbridge has, validated once at start (DESIGN.md's configuration contract).

Environment variables (and ``.env``) with the prefix ``GIFTBRIDGE_``. Secrets are ``SecretStr`` so
they never show in a repr, a log line or a traceback. Build ``Settings`` from explicit values in
tests (``Settings(**values, _env_file=None)``) and with :func:`load_settings` in the daemon, which
turns pydantic's errors into one line per variable naming the variable and the allowed range.
"""

from __future__ import annotations

import re
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

from cryptography.fernet import Fernet
from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from cards.money import Money, MoneyError, check_currency
from cards.policy import AmountLimits, ExpiryPolicy

PREFIX = "GIFTBRIDGE_"
CREDENTIALS = ("airtable_token", "shopify_access_token", "klaviyo_api_key")


class Mode(StrEnum):
    SANDBOX = "sandbox"
    LIVE = "live"


class SettingsError(ValueError):
    """Settings that cannot run; the message names each variable and how to fix it."""


def env_name(field: str) -> str:
    return PREFIX + field.upper()


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix=PREFIX,
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        frozen=True,
        validate_default=True,
    )

    airtable_token: SecretStr | None = None
    shopify_access_token: SecretStr | None = None
    klaviyo_api_key: SecretStr | None = None
    airtable_base_id: str | None = None
    airtable_api_url: str = "https://api.airtable.com"
    airtable_content_url: str = "https://content.airtable.com"
    shopify_shop: str | None = None
    shopify_api_version: str = "2025-10"
    shopify_graphql_url: str | None = None
    klaviyo_api_url: str = "https://a.klaviyo.com"
    code_pepper: SecretStr | None = None
    code_key: SecretStr | None = None
    currency: str = "USD"
    business_name: Annotated[str, Field(min_length=1, max_length=100)] = "giftbridge"
    code_length: Annotated[int, Field(ge=8, le=20)] = 12
    min_amount: Decimal = Decimal("5.00")
    max_amount: Decimal = Decimal("1000.00")
    expiry_days: Annotated[int, Field(ge=0, le=36500)] = 0
    portal_enabled: bool = True
    shopify_gift_card_skus: str = ""
    processed_tag: Annotated[str, Field(min_length=1, max_length=40)] = "giftbridge-processed"
    redeemed_tag: Annotated[str, Field(min_length=1, max_length=40)] = "giftbridge-redeemed"
    order_window_days: Annotated[int, Field(ge=1, le=365)] = 60
    balance_checks_per_hour: Annotated[int, Field(ge=1, le=1000)] = 5
    tick_seconds: Annotated[float, Field(gt=0, le=3600)] = 15
    call_timeout_seconds: Annotated[float, Field(gt=0, le=300)] = 10
    run_budget_seconds: Annotated[float, Field(gt=0, le=3600)] = 45
    lease_seconds: Annotated[float, Field(gt=0, le=7200)] = 90
    state_dir: Path = Path("./state")
    http_host: str = "127.0.0.1"
    http_port: Annotated[int, Field(ge=0, le=65535)] = 8377

    @field_validator("currency")
    @classmethod
    def _currency(cls, value: str) -> str:
        try:
            return check_currency(value)
        except MoneyError as exc:
            raise ValueError("must be a 3-letter ISO 4217 code in capitals, e.g. USD") from exc

    @field_validator("airtable_base_id")
    @classmethod
    def _base_id(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"app[A-Za-z0-9]{14}", value):
            raise ValueError("must be an Airtable base id: 'app' and 14 letters or digits")
        return value

    @field_validator("shopify_shop")
    @classmethod
    def _shop(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"[a-z0-9][a-z0-9-]*\.myshopify\.com", value):
            raise ValueError(
                "must be the shop's *.myshopify.com domain, e.g. my-shop.myshopify.com"
            )
        return value

    @field_validator("shopify_api_version")
    @classmethod
    def _api_version(cls, value: str) -> str:
        if not re.fullmatch(r"20\d\d-(01|04|07|10)", value):
            raise ValueError("must be a Shopify API version such as 2025-10")
        return value

    @field_validator(
        "airtable_api_url", "airtable_content_url", "klaviyo_api_url", "shopify_graphql_url"
    )
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"https?://[^\s/]+(/\S*)?", value):
            raise ValueError("must be an http(s) URL")
        return value.rstrip("/") if value else value

    @field_validator("code_pepper")
    @classmethod
    def _pepper(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < 32:
            raise ValueError("must be at least 32 characters (e.g. `openssl rand -hex 32`)")
        return value

    @field_validator("code_key")
    @classmethod
    def _key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            try:
                Fernet(value.get_secret_value().encode("ascii"))
            except (ValueError, UnicodeEncodeError) as exc:
                raise ValueError(
                    "must be a Fernet key: 32 random bytes, URL-safe base64 (python -c "
                    "'from cryptography.fernet import Fernet; "
                    "print(Fernet.generate_key().decode())')"
                ) from exc
        return value

    @field_validator("shopify_gift_card_skus")
    @classmethod
    def _skus(cls, value: str) -> str:
        for sku in (s.strip() for s in value.split(",")):
            if sku and not re.fullmatch(r"[^\s,]{1,255}", sku):
                raise ValueError(f"SKU {sku!r} has spaces; use a comma-separated list")
        return value

    @model_validator(mode="after")
    def _cross_checks(self) -> Settings:
        for name in ("min_amount", "max_amount"):
            try:
                money = Money.of(getattr(self, name), self.currency)
            except MoneyError as exc:
                raise ValueError(f"{env_name(name)}: {exc}") from exc
            if not money.is_positive:
                raise ValueError(f"{env_name(name)} must be positive, got {money}")
        if self.min_amount > self.max_amount:
            raise ValueError(
                f"{env_name('min_amount')} ({self.min_amount}) must not exceed "
                f"{env_name('max_amount')} ({self.max_amount})"
            )
        if not self.call_timeout_seconds < self.run_budget_seconds < self.lease_seconds:
            raise ValueError(
                "timeouts out of order: need GIFTBRIDGE_CALL_TIMEOUT_SECONDS "
                f"({self.call_timeout_seconds}) < GIFTBRIDGE_RUN_BUDGET_SECONDS "
                f"({self.run_budget_seconds}) < GIFTBRIDGE_LEASE_SECONDS ({self.lease_seconds})"
            )
        self._mode_problems()
        return self

    def _mode_problems(self) -> None:
        given = [c for c in CREDENTIALS if getattr(self, c) is not None]
        if not given or len(given) == len(CREDENTIALS):
            missing = [] if not given else self._live_requirements()
        else:
            missing = [env_name(c) for c in CREDENTIALS if getattr(self, c) is None]
            missing.append("(set all three credentials to run live, or none for the sandbox)")
        if missing:
            raise ValueError("missing for live mode: " + ", ".join(missing))

    def _live_requirements(self) -> list[str]:
        missing = []
        if self.airtable_base_id is None:
            missing.append(env_name("airtable_base_id"))
        if self.shopify_shop is None and self.shopify_graphql_url is None:
            missing.append(f"{env_name('shopify_shop')} (or {env_name('shopify_graphql_url')})")
        missing += [env_name(n) for n in ("code_pepper", "code_key") if getattr(self, n) is None]
        return missing

    @property
    def mode(self) -> Mode:
        return Mode.LIVE if self.airtable_token is not None else Mode.SANDBOX

    @property
    def gift_card_skus(self) -> frozenset[str]:
        return frozenset(s.strip() for s in self.shopify_gift_card_skus.split(",") if s.strip())

    @property
    def amount_limits(self) -> AmountLimits:
        return AmountLimits(
            Money.of(self.min_amount, self.currency), Money.of(self.max_amount, self.currency)
        )

    @property
    def expiry(self) -> ExpiryPolicy:
        return ExpiryPolicy(self.expiry_days)

    @property
    def graphql_url(self) -> str | None:
        if self.shopify_graphql_url:
            return self.shopify_graphql_url
        if self.shopify_shop:
            return f"https://{self.shopify_shop}/admin/api/{self.shopify_api_version}/graphql.json"
        return None


def _describe(error: Any) -> str:
    loc = [str(part) for part in error.get("loc", ()) if part != "__root__"]
    message = str(error.get("msg", "invalid")).removeprefix("Value error, ")
    return f"{env_name(loc[0])}: {message}" if loc else message


def load_settings(**overrides: Any) -> Settings:
    """Settings from the environment and ``.env``, or :class:`SettingsError` naming each problem."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        lines = [_describe(e) for e in exc.errors(include_url=False, include_input=False)]
        raise SettingsError("invalid settings:\n  " + "\n  ".join(lines)) from None
