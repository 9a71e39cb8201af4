"""Adapter configs for tests: the composition root's own mapping from settings
(``daemon/bootstrap.py``), with the secret given apart and a test's retry policy or penalty."""

from __future__ import annotations

from dataclasses import replace

from pydantic import SecretStr

from clients.adapter_config import AirtableConfig, KlaviyoConfig, ShopifyConfig, StaticToken
from clients.retry import RetryPolicy
from config.settings import Settings
from daemon import bootstrap


def airtable_config(
    settings: Settings,
    token: str,
    *,
    retry: RetryPolicy | None = None,
    penalty: float | None = None,
) -> AirtableConfig:
    config = bootstrap.airtable_config(settings, SecretStr(token), retry)
    return config if penalty is None else replace(config, penalty=penalty)


def shopify_config(
    settings: Settings, access_token: str, *, retry: RetryPolicy | None = None
) -> ShopifyConfig:
    return bootstrap.shopify_config(settings, StaticToken(SecretStr(access_token)), retry)


def klaviyo_config(
    settings: Settings, api_key: str, *, retry: RetryPolicy | None = None
) -> KlaviyoConfig:
    return bootstrap.klaviyo_config(settings, SecretStr(api_key), retry)
