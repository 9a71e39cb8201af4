"""Building the real adapters from their configs (``clients/adapter_config.py``).

Only the composition root (``daemon/bootstrap.py``) calls these, once per process: build one
:class:`Limiters` and pass it to every builder, so that all threads share one limiter per
service. Nothing here reads settings or runs at import time; a secret becomes a plain string
only here, where the library client that sends it is made.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from clients.adapter_config import (
    AirtableConfig,
    ClientCredentials,
    KlaviyoConfig,
    ShopifyConfig,
    ShopifyCredential,
    StaticToken,
)
from clients.airtable import AirtableAdapter
from clients.airtable_budget import airtable_limiter, shared_file
from clients.airtable_bulk import AirtableBulk
from clients.airtable_http import make_api
from clients.airtable_reports import AirtableReports
from clients.airtable_tables import AirtableTables
from clients.airtable_webhooks import AirtableWebhooks
from clients.base_admin import BaseAdmin
from clients.klaviyo import KlaviyoEmail
from clients.pdf import FpdfCertificates
from clients.ratelimit import (
    CostBucket,
    PriorityGate,
    WindowLimiter,
    klaviyo_limiter,
    shopify_limiter,
)
from clients.shopify import ShopifyAdapter
from clients.shopify_auth import ClientCredentialsTokens, StaticTokenSource, TokenSource
from clients.shopify_grant import token_endpoint
from clients.shopify_transport import GraphQLRunner


@dataclass
class Limiters:
    """One limiter per outside service, for the whole process; Airtable's is shared with every
    giftbridge process on the machine when built :meth:`for_base` with a state directory."""

    airtable: PriorityGate = field(default_factory=airtable_limiter)
    shopify: CostBucket = field(default_factory=shopify_limiter)
    klaviyo: WindowLimiter = field(default_factory=klaviyo_limiter)

    @classmethod
    def for_base(cls, state_dir: Path, base_id: str) -> Limiters:
        """The limiters of a process that shares the base's Airtable budget through
        ``state_dir`` (:mod:`clients.airtable_budget`)."""
        return cls(airtable=airtable_limiter(shared_file=shared_file(state_dir, base_id)))


def airtable_tables(config: AirtableConfig, limiters: Limiters) -> AirtableTables:
    api = make_api(
        config.token.get_secret_value(),
        api_url=config.api_url,
        timeout=config.timeouts.pair,
        limiter=limiters.airtable,
        penalty=config.penalty,
        max_wait=config.retry.deadline,
    )
    return AirtableTables(
        api, config.base_id, currency=config.currency, retry=config.retry, penalty=config.penalty
    )


def build_airtable(config: AirtableConfig, limiters: Limiters) -> AirtableAdapter:
    """The AirtablePort."""
    return AirtableAdapter(airtable_tables(config, limiters), content_url=config.content_url)


def build_reports(config: AirtableConfig, limiters: Limiters) -> AirtableReports:
    """The ReportSource (reports and the status page's figures) on the shared limiters."""
    return AirtableReports(airtable_tables(config, limiters))


def build_bulk(config: AirtableConfig, limiters: Limiters) -> AirtableBulk:
    """The BulkPort (``giftbridge cards import`` and ``cards export``) on the shared limiters."""
    return AirtableBulk(airtable_tables(config, limiters))


def build_webhooks(config: AirtableConfig, limiters: Limiters) -> AirtableWebhooks:
    """The WebhookPort (push) on the shared Airtable limiter: the same session, timeouts and
    429 handling as every table call (the webhooks API shares the base's 5 requests/s)."""
    tables = airtable_tables(config, limiters)
    return AirtableWebhooks(tables.api, tables.base_id, penalty=config.penalty)


def build_base_admin(config: AirtableConfig, limiters: Limiters) -> BaseAdmin:
    """Layout check (``check()``) and ``base init`` (``init()``) for the configured base."""
    return BaseAdmin(airtable_tables(config, limiters))


def build_shopify(config: ShopifyConfig, limiters: Limiters) -> ShopifyAdapter:
    runner = GraphQLRunner(
        config.graphql_url,
        shopify_tokens(config),
        limiter=limiters.shopify,
        connect_timeout=config.timeouts.connect,
        read_timeout=config.timeouts.read,
        execute_timeout=config.timeouts.read,
        max_wait=config.retry.deadline,
    )
    return ShopifyAdapter(runner, retry=config.retry)


def shopify_tokens(config: ShopifyConfig) -> TokenSource:
    """Where the Admin API's access tokens come from: the legacy static token as it is, or the
    client credentials grant at the GraphQL endpoint's origin (fetched on first use, renewed)."""
    credential: ShopifyCredential = config.credential
    match credential:
        case StaticToken(token):
            return StaticTokenSource(token)
        case ClientCredentials(client_id, client_secret):
            return ClientCredentialsTokens(
                token_endpoint(config.graphql_url),
                client_id,
                client_secret,
                timeouts=config.timeouts.pair,
                retry=config.retry,
                on_token=config.on_token,
                on_renewal_failing=config.on_renewal_failing,
            )


def build_email(config: KlaviyoConfig, limiters: Limiters) -> KlaviyoEmail:
    return KlaviyoEmail(
        config.api_key.get_secret_value(),
        api_url=config.api_url,
        timeout=config.timeouts.pair,
        limiter=limiters.klaviyo,
        retry=config.retry,
        max_wait=config.retry.deadline,
    )


def build_certificates() -> FpdfCertificates:
    return FpdfCertificates()
