"""Building the real adapters from ``Settings`` and explicitly passed secrets.

Only the composition root (``daemon/``) calls these, once per process: build one
:class:`Limiters` and pass it to every builder, so that all threads share one limiter per
service. Nothing here runs at import time; secrets are plain strings taken from the caller
(``settings.airtable_token.get_secret_value()`` live, the sandbox's token otherwise).

Timeouts: connect ``min(5, CALL_TIMEOUT_SECONDS)``, read ``CALL_TIMEOUT_SECONDS``; the retry
deadline keeps every call, retries included, well inside ``RUN_BUDGET_SECONDS``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from clients.airtable import AirtableAdapter
from clients.airtable_errors import DEFAULT_PENALTY
from clients.airtable_http import make_api
from clients.airtable_tables import AirtableTables
from clients.base_admin import BaseAdmin
from clients.klaviyo import KlaviyoEmail
from clients.pdf import FpdfCertificates
from clients.ratelimit import (
    CostBucket,
    WindowLimiter,
    airtable_limiter,
    klaviyo_limiter,
    shopify_limiter,
)
from clients.retry import RetryPolicy, policy_for
from clients.shopify import ShopifyAdapter
from clients.shopify_transport import GraphQLRunner
from config.settings import Settings


@dataclass
class Limiters:
    """One limiter per outside service, for the whole process."""

    airtable: WindowLimiter = field(default_factory=airtable_limiter)
    shopify: CostBucket = field(default_factory=shopify_limiter)
    klaviyo: WindowLimiter = field(default_factory=klaviyo_limiter)


def timeouts(settings: Settings) -> tuple[float, float]:
    call = settings.call_timeout_seconds
    return (min(5.0, call), call)


def retry_policy(settings: Settings) -> RetryPolicy:
    return policy_for(settings.call_timeout_seconds, settings.run_budget_seconds)


def _require(value: str | None, name: str) -> str:
    if not value:
        raise ValueError(f"{name} is required to build this adapter")
    return value


def airtable_tables(
    settings: Settings,
    token: str,
    limiters: Limiters,
    *,
    retry: RetryPolicy | None = None,
    penalty: float = DEFAULT_PENALTY,
) -> AirtableTables:
    policy = retry or retry_policy(settings)
    api = make_api(
        token,
        api_url=settings.airtable_api_url,
        timeout=timeouts(settings),
        limiter=limiters.airtable,
        penalty=penalty,
        max_wait=policy.deadline,
    )
    base_id = _require(settings.airtable_base_id, "GIFTBRIDGE_AIRTABLE_BASE_ID")
    return AirtableTables(api, base_id, currency=settings.currency, retry=policy, penalty=penalty)


def build_airtable(
    settings: Settings,
    token: str,
    limiters: Limiters,
    *,
    retry: RetryPolicy | None = None,
    penalty: float = DEFAULT_PENALTY,
) -> AirtableAdapter:
    """The AirtablePort. ``penalty`` is the silence after a 429 (30 s live; short in tests)."""
    tables = airtable_tables(settings, token, limiters, retry=retry, penalty=penalty)
    return AirtableAdapter(tables, content_url=settings.airtable_content_url)


def build_base_admin(
    settings: Settings, token: str, limiters: Limiters, *, retry: RetryPolicy | None = None
) -> BaseAdmin:
    """Layout check (``check()``) and ``base init`` (``init()``) for the configured base."""
    return BaseAdmin(airtable_tables(settings, token, limiters, retry=retry))


def build_shopify(
    settings: Settings, access_token: str, limiters: Limiters, *, retry: RetryPolicy | None = None
) -> ShopifyAdapter:
    policy = retry or retry_policy(settings)
    connect, read = timeouts(settings)
    runner = GraphQLRunner(
        _require(settings.graphql_url, "GIFTBRIDGE_SHOPIFY_SHOP or GIFTBRIDGE_SHOPIFY_GRAPHQL_URL"),
        access_token,
        limiter=limiters.shopify,
        connect_timeout=connect,
        read_timeout=read,
        execute_timeout=settings.call_timeout_seconds,
        max_wait=policy.deadline,
    )
    return ShopifyAdapter(runner, retry=policy)


def build_email(
    settings: Settings, api_key: str, limiters: Limiters, *, retry: RetryPolicy | None = None
) -> KlaviyoEmail:
    policy = retry or retry_policy(settings)
    return KlaviyoEmail(
        api_key,
        api_url=settings.klaviyo_api_url,
        timeout=timeouts(settings),
        limiter=limiters.klaviyo,
        retry=policy,
        max_wait=policy.deadline,
    )


def build_certificates(settings: Settings) -> FpdfCertificates:
    return FpdfCertificates()
