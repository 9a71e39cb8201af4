"""What each adapter is built from: plain, typed values, filled in once by the composition root.

``daemon/bootstrap.py`` turns ``Settings`` into these (it is the one place that reads settings);
``clients/factory.py`` builds the adapters from them. Nothing in ``clients/`` reads settings.
Secrets stay ``SecretStr`` here and become plain strings only inside the factory, where the
library client that sends them is made.

Timeouts: connect ``min(5, call timeout)``, read the call timeout. The retry policy (see
``clients/retry.py``) keeps every call, retries included, well inside the run budget, and
carries the ``on_call`` hook through which ``/metrics`` counts each outside call.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pydantic import SecretStr

if TYPE_CHECKING:  # the configs are light: reading them loads no HTTP or retry library
    from clients.retry import RetryPolicy

MAX_CONNECT_SECONDS = 5.0


@dataclass(frozen=True, slots=True)
class Timeouts:
    connect: float
    read: float

    @classmethod
    def for_call(cls, call_timeout: float) -> Timeouts:
        """Connect within ``min(5, call_timeout)``, read within ``call_timeout``."""
        return cls(min(MAX_CONNECT_SECONDS, call_timeout), call_timeout)

    @property
    def pair(self) -> tuple[float, float]:
        """``(connect, read)``, as requests and urllib3 take them."""
        return (self.connect, self.read)


@dataclass(frozen=True, slots=True)
class AirtableConfig:
    api_url: str  # REST and Metadata API root
    content_url: str  # attachment upload root
    base_id: str
    token: SecretStr
    currency: str  # currency cells are written with this currency's precision
    timeouts: Timeouts
    retry: RetryPolicy
    penalty: float  # the base's silence after a 429 (airtable_errors.DEFAULT_PENALTY live)


@dataclass(frozen=True, slots=True)
class StaticToken:
    """A legacy admin-created custom app's access token (``SHOPIFY_ACCESS_TOKEN``)."""

    token: SecretStr


@dataclass(frozen=True, slots=True)
class ClientCredentials:
    """A Dev Dashboard app's client id and secret: access tokens come from the client
    credentials grant (DESIGN.md, Shopify credentials)."""

    client_id: str
    client_secret: SecretStr


ShopifyCredential = StaticToken | ClientCredentials


@dataclass(frozen=True, slots=True)
class ShopifyConfig:
    """``on_token`` sees every token the client credentials grant hands out (the composition
    root adds it to the log redactor); ``on_renewal_failing`` gets a one-line reason when
    renewals keep failing and when Shopify calls stop for want of a token (the alert)."""

    graphql_url: str  # the Admin GraphQL endpoint, version included
    credential: ShopifyCredential
    timeouts: Timeouts  # the read timeout also bounds each whole GraphQL execution
    retry: RetryPolicy
    on_token: Callable[[str], None] | None = field(default=None, repr=False, compare=False)
    on_renewal_failing: Callable[[str], None] | None = field(
        default=None, repr=False, compare=False
    )


@dataclass(frozen=True, slots=True)
class KlaviyoConfig:
    api_url: str
    api_key: SecretStr
    timeouts: Timeouts
    retry: RetryPolicy


@dataclass(frozen=True, slots=True)
class AdapterConfigs:
    """One config per outside service, for one process."""

    airtable: AirtableConfig
    shopify: ShopifyConfig
    klaviyo: KlaviyoConfig
