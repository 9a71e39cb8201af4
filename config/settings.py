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
# The three credentials (Shopify's is either the client id and secret or the legacy static token).
CREDENTIALS = ("airtable_token", "shopify", "klaviyo_api_key")
SHOPIFY_CLIENT_FIELDS = ("shopify_client_id", "shopify_client_secret")
_LOOPBACK = re.compile(r"https?://(127\.\d+\.\d+\.\d+|localhost|\[::1\])(:\d+)?(/\S*)?")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


class Mode(StrEnum):
    SANDBOX = "sandbox"
    LIVE = "live"


class PushMode(StrEnum):
    """How the daemon hears of new Airtable requests (DESIGN.md, Running, Push)."""

    POLL = "poll"  # an Airtable webhook whose payloads are read every PUSH_POLL_SECONDS
    NOTIFY = "notify"  # ... and Airtable's notification pings at PUBLIC_URL/airtable/notify
    OFF = "off"  # polling every TICK_SECONDS alone


class ShopifyAuth(StrEnum):
    """Which of the two ways the Shopify credential was given."""

    CLIENT_CREDENTIALS = "client credentials"  # a Dev Dashboard app: id + secret -> tokens
    STATIC_TOKEN = "static token"  # noqa: S105 - a name, not a secret: a legacy custom app


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
        env_ignore_empty=True,  # `GIFTBRIDGE_SHOPIFY_ACCESS_TOKEN=` in .env means not set
        frozen=True,
        validate_default=True,
    )

    airtable_token: SecretStr | None = None
    shopify_client_id: str | None = None
    shopify_client_secret: SecretStr | None = None
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
    tick_seconds: Annotated[float, Field(ge=1, le=3600)] = 15
    call_timeout_seconds: Annotated[float, Field(ge=0.1, le=300)] = 10
    run_budget_seconds: Annotated[float, Field(ge=1, le=3600)] = 45
    lease_seconds: Annotated[float, Field(ge=1, le=7200)] = 90
    state_dir: Path = Path("./state")
    http_host: str = "127.0.0.1"
    http_port: Annotated[int, Field(ge=0, le=65535)] = 8377
    expiry_interval_seconds: Annotated[float, Field(ge=60, le=86400)] = 3600
    expiry_reminder_days: str = "30,7"
    audit_interval_seconds: Annotated[float, Field(ge=60, le=86400)] = 3600
    alert_email: str | None = None
    airtable_push: PushMode = PushMode.POLL
    push_poll_seconds: Annotated[float, Field(ge=0.5, le=60)] = 2.5
    public_url: str | None = None

    @field_validator("currency")
    @classmethod
    def _currency(cls, value: str) -> str:
        try:
            check_currency(value)
        except MoneyError as exc:
            raise ValueError("must be a 3-letter ISO 4217 code in capitals, e.g. USD") from exc
        import pycountry  # here, not at import: the list is read only when settings are

        if pycountry.currencies.get(alpha_3=value) is None:
            raise ValueError(f"{value} is not an ISO 4217 currency code (e.g. USD, EUR, GBP)")
        return value

    @field_validator("expiry_reminder_days")
    @classmethod
    def _reminder_days(cls, value: str) -> str:
        parts = [p.strip() for p in value.split(",") if p.strip()]
        if not all(re.fullmatch(r"[0-9]{1,4}", p) and 1 <= int(p) <= 3650 for p in parts):
            raise ValueError("must be a comma list of whole days from 1 to 3650, e.g. 30,7")
        return value

    @field_validator("alert_email")
    @classmethod
    def _alert_email(cls, value: str | None) -> str | None:
        value = (value or "").strip() or None
        if value is not None and not _EMAIL.fullmatch(value):
            raise ValueError("must be an email address, e.g. ops@example.com")
        return value

    @field_validator("public_url")
    @classmethod
    def _public_url(cls, value: str | None) -> str | None:
        value = (value or "").strip().rstrip("/") or None
        if value is None:
            return None
        if not (re.fullmatch(r"https://[^\s/]+(/\S*)?", value) or _LOOPBACK.fullmatch(value)):
            raise ValueError(
                "must be an https:// URL Airtable can reach (http:// only for 127.0.0.1 or "
                "localhost), e.g. https://gifts.example.com"
            )
        return value

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
        self._shopify_way_problems()
        if self.airtable_push is PushMode.NOTIFY and self.public_url is None:
            raise ValueError(
                f"{env_name('airtable_push')}=notify needs {env_name('public_url')}: the https:// "
                "URL at which Airtable reaches this daemon's /airtable/notify"
            )
        given = {
            "airtable_token": self.airtable_token is not None,
            "shopify": self._shopify_given,
            "klaviyo_api_key": self.klaviyo_api_key is not None,
        }
        if not any(given.values()) or all(given.values()):
            missing = [] if not any(given.values()) else self._live_requirements()
        else:
            missing = [_credential_name(c) for c, ok in given.items() if not ok]
            missing.append("(set all three credentials to run live, or none for the sandbox)")
        if missing:
            raise ValueError("missing for live mode: " + ", ".join(missing))

    @property
    def _shopify_given(self) -> bool:
        client = any(getattr(self, n) is not None for n in SHOPIFY_CLIENT_FIELDS)
        return client or self.shopify_access_token is not None

    def _shopify_way_problems(self) -> None:
        client = [n for n in SHOPIFY_CLIENT_FIELDS if getattr(self, n) is not None]
        if client and self.shopify_access_token is not None:
            raise ValueError(
                f"set either {env_name('shopify_client_id')} and "
                f"{env_name('shopify_client_secret')} (a Dev Dashboard app) or "
                f"{env_name('shopify_access_token')} (a legacy custom app), not both"
            )
        if len(client) == 1:
            other = next(n for n in SHOPIFY_CLIENT_FIELDS if n not in client)
            raise ValueError(
                f"{env_name(client[0])} is set but {env_name(other)} is not: a Dev Dashboard "
                "app needs both (Dev Dashboard > your app > Settings)"
            )

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
    def shopify_auth(self) -> ShopifyAuth | None:
        """How Shopify tokens are had; None in sandbox mode before it is connected."""
        if self.shopify_client_id is not None:
            return ShopifyAuth.CLIENT_CREDENTIALS
        if self.shopify_access_token is not None:
            return ShopifyAuth.STATIC_TOKEN
        return None

    @property
    def reminder_days(self) -> tuple[int, ...]:
        """``EXPIRY_REMINDER_DAYS`` as distinct days, largest first (empty: no reminders)."""
        days = {int(p) for p in self.expiry_reminder_days.split(",") if p.strip()}
        return tuple(sorted(days, reverse=True))

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


def _credential_name(credential: str) -> str:
    if credential == "shopify":
        return (
            f"{env_name('shopify_client_id')} and {env_name('shopify_client_secret')} "
            f"(or {env_name('shopify_access_token')})"
        )
    return env_name(credential)


def allowed_range(name: str) -> str | None:
    """``"1 to 3600"`` for a numeric setting with bounds, from the field's own constraints."""
    field = Settings.model_fields.get(name)
    if field is None:
        return None
    low = high = None
    for meta in field.metadata:
        low = getattr(meta, "ge", None) if getattr(meta, "ge", None) is not None else low
        high = getattr(meta, "le", None) if getattr(meta, "le", None) is not None else high
    if low is None or high is None:
        return None
    return f"{low:g} to {high:g}"


def _describe(error: Any) -> str:
    loc = [str(part) for part in error.get("loc", ()) if part != "__root__"]
    message = str(error.get("msg", "invalid")).removeprefix("Value error, ")
    if not loc:
        return message
    bounds = allowed_range(loc[0])
    if bounds is not None and error.get("type") in _RANGE_ERRORS:
        given = error.get("input")
        message = f"{given!r} is out of range; allowed: {bounds}"
    elif bounds is not None:
        message = f"{message} (allowed: {bounds})"
    return f"{env_name(loc[0])}: {message}"


_RANGE_ERRORS = {"greater_than_equal", "less_than_equal", "greater_than", "less_than"}


def load_settings(**overrides: Any) -> Settings:
    """Settings from the environment and ``.env``, or :class:`SettingsError` naming each problem."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        lines = [_describe(e) for e in exc.errors(include_url=False)]
        if len(lines) == 1:  # one problem, one line
            raise SettingsError(f"invalid settings: {lines[0]}") from None
        raise SettingsError("invalid settings:\n  " + "\n  ".join(lines)) from None
