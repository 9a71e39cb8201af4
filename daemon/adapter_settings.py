"""Settings -> one typed config per adapter (``clients/adapter_config.py``): a part of the
composition root (:mod:`daemon.bootstrap`), the only modules that read Settings.

Each config carries a retry policy whose ``on_call`` hook counts every outside call in
``/metrics`` (:func:`adapter_configs`); secrets stay ``SecretStr`` until an adapter sends them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import structlog
from pydantic import SecretStr

from clients.adapter_config import (
    AdapterConfigs,
    AirtableConfig,
    ClientCredentials,
    KlaviyoConfig,
    ShopifyConfig,
    ShopifyCredential,
    StaticToken,
    Timeouts,
)
from config.settings import Mode, Settings, SettingsError, env_name
from daemon.logging import add_secrets

if TYPE_CHECKING:
    from clients.retry import CallHook, RetryPolicy

T = TypeVar("T")
log = structlog.get_logger(__name__)


def state_dir(settings: Settings) -> Path:
    """``STATE_DIR``: the lock file that keeps local processes apart, the sandbox's data."""
    return settings.state_dir


def run_mode(settings: Settings) -> Mode:
    """Sandbox (no credentials) or live."""
    return settings.mode


def call_policy(settings: Settings, on_call: CallHook | None = None) -> RetryPolicy:
    """Retries that end well inside ``RUN_BUDGET_SECONDS``; ``on_call`` sees every attempt."""
    from clients.retry import policy_for  # here, not at import: `giftbridge --help` stays light

    return policy_for(settings.call_timeout_seconds, settings.run_budget_seconds, on_call=on_call)


def airtable_config(
    settings: Settings, token: SecretStr, retry: RetryPolicy | None = None
) -> AirtableConfig:
    from clients.airtable_errors import DEFAULT_PENALTY  # (pyairtable: not at import)

    return AirtableConfig(
        api_url=settings.airtable_api_url,
        content_url=settings.airtable_content_url,
        base_id=required(settings.airtable_base_id, env_name("airtable_base_id")),
        token=token,
        currency=settings.currency,
        timeouts=Timeouts.for_call(settings.call_timeout_seconds),
        retry=retry or call_policy(settings),
        penalty=DEFAULT_PENALTY,
    )


def shopify_config(
    settings: Settings,
    credential: ShopifyCredential,
    retry: RetryPolicy | None = None,
    *,
    on_renewal_failing: Callable[[str], None] | None = None,
) -> ShopifyConfig:
    """``on_renewal_failing``: the daemon's alert (:class:`daemon.alert_relay.AlertRelay`);
    by default (commands, tests) the log line of :func:`shopify_token_alert`."""
    endpoint = f"{env_name('shopify_shop')} or {env_name('shopify_graphql_url')}"
    return ShopifyConfig(
        graphql_url=required(settings.graphql_url, endpoint),
        credential=credential,
        timeouts=Timeouts.for_call(settings.call_timeout_seconds),
        retry=retry or call_policy(settings),
        on_token=_redact_token,
        on_renewal_failing=on_renewal_failing or shopify_token_alert,
    )


def _redact_token(token: str) -> None:
    """Every token from the client credentials grant is masked in logs from its first moment."""
    add_secrets([token])


def shopify_token_alert(reason: str) -> None:
    """Shopify's token cannot be renewed (``reason`` is one line, never a secret): a log line
    an operator's journal monitoring can catch. The daemon also mails it (cause
    ``shopify-token``, :class:`daemon.alert_relay.AlertRelay`, which writes this same line)."""
    log.error("alert.shopify_token", cause="shopify-token", message=reason)


def klaviyo_config(
    settings: Settings, api_key: SecretStr, retry: RetryPolicy | None = None
) -> KlaviyoConfig:
    return KlaviyoConfig(
        api_url=settings.klaviyo_api_url,
        api_key=api_key,
        timeouts=Timeouts.for_call(settings.call_timeout_seconds),
        retry=retry or call_policy(settings),
    )


def shopify_credential(settings: Settings) -> ShopifyCredential:
    """The way Shopify tokens are had: a Dev Dashboard app's client id and secret, or a legacy
    custom app's static token (the settings allow exactly one)."""
    if settings.shopify_client_id is not None and settings.shopify_client_secret is not None:
        return ClientCredentials(settings.shopify_client_id, settings.shopify_client_secret)
    return StaticToken(secret(settings, "shopify_access_token"))


def adapter_configs(
    settings: Settings,
    on_call: CallHook | None = None,
    retry: RetryPolicy | None = None,
    *,
    on_renewal_failing: Callable[[str], None] | None = None,
) -> AdapterConfigs:
    """Every adapter's config from settings that name a shop (live ones, or ones
    :func:`connect` pointed at the sandbox), sharing one retry policy; ``on_renewal_failing``
    as for :func:`shopify_config`."""
    if retry is None:
        retry = call_policy(settings, on_call)
    elif on_call is not None:
        retry = dataclasses.replace(retry, on_call=on_call)
    return AdapterConfigs(
        airtable=airtable_config(settings, secret(settings, "airtable_token"), retry),
        shopify=shopify_config(
            settings, shopify_credential(settings), retry, on_renewal_failing=on_renewal_failing
        ),
        klaviyo=klaviyo_config(settings, secret(settings, "klaviyo_api_key"), retry),
    )


def secret(settings: Settings, name: str) -> SecretStr:
    value: SecretStr | None = getattr(settings, name)
    return required(value, env_name(name))


def required(value: T | None, name: str) -> T:
    if value is None or value == "":
        raise SettingsError(f"{name} is required in live mode")
    return value
