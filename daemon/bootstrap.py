"""The composition root: the ONLY module that reads Settings and builds real clients.

Settings become typed values once, here; everything else takes plain values and ports:

- :func:`load`: Settings from the environment, ``.env`` and systemd credentials
  (``LoadCredential=``, :mod:`daemon.credentials`);
- :func:`connect`: in sandbox mode (no credentials), start the stand-ins in their own process
  (:mod:`daemon.embedded_sandbox`) and point the settings at them;
- :func:`service_config`, :func:`log_secrets`: Settings -> the lifecycle's knobs, the redactor's
  secret list;
- :func:`adapter_configs` (:func:`airtable_config`, :func:`shopify_config`,
  :func:`klaviyo_config`): Settings -> one typed config per adapter
  (``clients/adapter_config.py``), each with a retry policy whose ``on_call`` hook counts every
  outside call in ``/metrics``;
- :func:`preflight_problems`: the start checks (base layout, Shopify scopes) over built clients;
- :func:`build_clients`: the adapters of ``clients/factory.py`` from those configs, one limiter
  per service shared by all threads;
- :func:`build_prong_jobs`: one job per prong (:mod:`daemon.wiring`, the prongs' configs);
- :func:`assemble`: all of it + :class:`~daemon.service.Service`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from pydantic import SecretStr

from cards.policy import AmountLimits
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
from clients.errors import GiftbridgeError
from clients.ports import (
    AirtablePort,
    BulkPort,
    CertificatePort,
    EmailPort,
    ReportSource,
    ShopifyPort,
)
from config.settings import PREFIX, Mode, Settings, SettingsError, env_name, load_settings
from daemon.clock import SystemClock
from daemon.credentials import SECRET_FIELDS, systemd_credentials
from daemon.embedded_sandbox import DEMO_SKU, EmbeddedSandbox
from daemon.logging import add_secrets
from daemon.metrics import Metrics
from daemon.preflight import BaseAdminPort, start_problems
from daemon.preflight import PreflightFailed as PreflightFailed  # assemble() raises it
from daemon.runner import ProngJob
from daemon.service import Service, ServiceConfig
from daemon.summary import BusinessSummary
from daemon.wiring import card_config as card_config  # the card commands' (via bootstrap)
from daemon.wiring import prong_jobs
from prongs.card_locks import CardLocks
from prongs.deps import Deps

if TYPE_CHECKING:
    from clients.airtable_reports import AirtableReports
    from clients.retry import CallHook, RetryPolicy

T = TypeVar("T")


class NotWired(GiftbridgeError):
    """A composition seam that is not connected yet."""


@dataclass
class Clients:
    airtable: AirtablePort
    shopify: ShopifyPort
    email: EmailPort
    certificates: CertificatePort
    base_admin: BaseAdminPort | None = None
    reports: ReportSource | None = None  # the status page's summary reads through it
    closers: list[Callable[[], None]] = field(default_factory=list)

    def deps(self) -> Deps:
        """The ports a prong or a ``card`` command talks through, on the system clock, with the
        process's card locks (call once per process: every prong shares what it returns)."""
        return Deps(
            self.airtable, self.shopify, self.email, self.certificates, SystemClock(), CardLocks()
        )

    def close(self) -> None:
        for close in reversed(self.closers):
            close()


# --- settings -> plain values -------------------------------------------------------------
EXPIRY_WARNING_DAYS = 1825


def load(environ: Mapping[str, str] | None = None) -> Settings:
    """Settings from the environment, ``.env`` and systemd credentials (SettingsError if bad)."""
    return load_settings(**systemd_credentials(environ))


def connect(settings: Settings, *, demo: bool = False) -> tuple[Settings, Callable[[], None]]:
    """Live settings as given; in sandbox mode, start the embedded sandbox (with demo traffic
    when ``demo``) and return settings pointed at it, plus the function that stops it."""
    if settings.mode is Mode.LIVE:
        return settings, lambda: None
    sandbox = EmbeddedSandbox.start(settings.state_dir, demo=demo, currency=settings.currency)
    connected = _pointed_at(settings, sandbox.environment)
    add_secrets(log_secrets(connected))
    return connected, sandbox.stop


def _pointed_at(settings: Settings, environment: Mapping[str, str]) -> Settings:
    """``settings`` with the sandbox's ``GIFTBRIDGE_*`` values (URLs, credentials, base, shop,
    pepper, key). The demo sells a gift-card SKU, so when no SKUs are configured the demo's is
    used."""
    update: dict[str, object] = {}
    for name, value in environment.items():
        field_name = name.removeprefix(PREFIX).lower()
        update[field_name] = SecretStr(value) if field_name in SECRET_FIELDS else value
    if not settings.gift_card_skus:
        update["shopify_gift_card_skus"] = DEMO_SKU
    return settings.model_copy(update=update)


def start_warnings(settings: Settings) -> list[str]:
    """What an operator should know at start, without refusing to run."""
    warnings = []
    if settings.mode is Mode.SANDBOX:
        warnings.append(
            "no credentials set: running against the local sandbox, not a real shop "
            "(deploy/README.md connects one)"
        )
    if 0 < settings.expiry_days < EXPIRY_WARNING_DAYS:
        warnings.append(
            f"GIFTBRIDGE_EXPIRY_DAYS={settings.expiry_days}: cards expire in under five years; "
            "many jurisdictions forbid that (the US CARD Act, several EU states)"
        )
    return warnings


def service_config(
    settings: Settings, *, http: bool = True, mode: Mode | None = None
) -> ServiceConfig:
    return ServiceConfig(
        tick_seconds=settings.tick_seconds,
        call_timeout_seconds=settings.call_timeout_seconds,
        run_budget_seconds=settings.run_budget_seconds,
        lease_seconds=settings.lease_seconds,
        http_host=settings.http_host,
        http_port=settings.http_port if http else None,
        about={"mode": (mode or settings.mode).value, "business": settings.business_name},
    )


def state_dir(settings: Settings) -> Path:
    """``STATE_DIR``: the lock file that keeps local processes apart, the sandbox's data."""
    return settings.state_dir


def run_mode(settings: Settings) -> Mode:
    """Sandbox (no credentials) or live."""
    return settings.mode


def log_secrets(settings: Settings) -> list[str]:
    """Every secret value, for the log redactor (it replaces them with <SECRET>)."""
    values = [getattr(settings, name) for name in SECRET_FIELDS]
    return [v.get_secret_value() for v in values if v is not None]


# --- settings -> adapter configs -----------------------------------------------------------
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
        base_id=_required(settings.airtable_base_id, env_name("airtable_base_id")),
        token=token,
        currency=settings.currency,
        timeouts=Timeouts.for_call(settings.call_timeout_seconds),
        retry=retry or call_policy(settings),
        penalty=DEFAULT_PENALTY,
    )


def shopify_config(
    settings: Settings, credential: ShopifyCredential, retry: RetryPolicy | None = None
) -> ShopifyConfig:
    endpoint = f"{env_name('shopify_shop')} or {env_name('shopify_graphql_url')}"
    return ShopifyConfig(
        graphql_url=_required(settings.graphql_url, endpoint),
        credential=credential,
        timeouts=Timeouts.for_call(settings.call_timeout_seconds),
        retry=retry or call_policy(settings),
    )


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
    return StaticToken(_secret(settings, "shopify_access_token"))


def adapter_configs(settings: Settings, on_call: CallHook | None = None) -> AdapterConfigs:
    """Every adapter's config from settings that name a shop (live ones, or ones
    :func:`connect` pointed at the sandbox), sharing one retry policy."""
    retry = call_policy(settings, on_call)
    return AdapterConfigs(
        airtable=airtable_config(settings, _secret(settings, "airtable_token"), retry),
        shopify=shopify_config(settings, shopify_credential(settings), retry),
        klaviyo=klaviyo_config(settings, _secret(settings, "klaviyo_api_key"), retry),
    )


def _secret(settings: Settings, name: str) -> SecretStr:
    value: SecretStr | None = getattr(settings, name)
    return _required(value, env_name(name))


def _required(value: T | None, name: str) -> T:
    if value is None or value == "":
        raise SettingsError(f"{name} is required in live mode")
    return value


# --- clients -----------------------------------------------------------------------------
@dataclass(frozen=True)
class ReportSetup:
    """What ``giftbridge report`` needs: its ReportSource (with its own patient retry policy)
    and the plain values it prints."""

    source: AirtableReports
    business_name: str
    shop_currency: str
    state_dir: Path


def report_setup(settings: Settings, retry: RetryPolicy) -> ReportSetup:
    from clients import factory  # here, not at import: `giftbridge --help` stays light

    config = airtable_config(settings, _secret(settings, "airtable_token"), retry)
    source = factory.build_reports(config, factory.Limiters())
    return ReportSetup(source, settings.business_name, settings.currency, settings.state_dir)


@dataclass(frozen=True)
class BulkSetup:
    """What ``giftbridge cards import`` and ``cards export`` need: Airtable alone (the store
    prong does the issuing), with the command's own patient retry policy."""

    airtable: AirtablePort
    bulk: BulkPort
    currency: str
    limits: AmountLimits
    close: Callable[[], None]


def bulk_setup(settings: Settings, retry: RetryPolicy) -> BulkSetup:
    from clients import factory  # here, not at import: `giftbridge --help` stays light

    config = airtable_config(settings, _secret(settings, "airtable_token"), retry)
    limiters = factory.Limiters()
    airtable = factory.build_airtable(config, limiters)
    bulk = factory.build_bulk(config, limiters)

    def close() -> None:
        bulk.close()
        airtable.close()

    return BulkSetup(airtable, bulk, settings.currency, settings.amount_limits, close)


def build_clients(settings: Settings, metrics: Metrics) -> Clients:
    """The adapters, sharing one rate limiter per service; every outside call, error and
    rate-limit wait is counted in ``metrics``."""
    if settings.mode is Mode.SANDBOX:
        raise NotWired("no credentials: call bootstrap.connect() first to start the sandbox")
    configs = adapter_configs(settings, on_call=metrics.outside_call)
    from clients import factory  # here, not at import: `giftbridge --help` stays light

    limiters = factory.Limiters()
    for limiter in (limiters.airtable, limiters.shopify, limiters.klaviyo):
        limiter.on_wait = metrics.rate_limit_wait
    airtable = factory.build_airtable(configs.airtable, limiters)
    shopify = factory.build_shopify(configs.shopify, limiters)
    email = factory.build_email(configs.klaviyo, limiters)
    admin = factory.build_base_admin(configs.airtable, limiters)
    reports = factory.build_reports(configs.airtable, limiters)
    clients = Clients(
        airtable, shopify, email, factory.build_certificates(), base_admin=admin, reports=reports
    )
    clients.closers += [airtable.close, shopify.close, email.close, admin.close, reports.close]
    return clients


def build_prong_jobs(settings: Settings, clients: Clients) -> list[ProngJob]:
    """One ProngJob per prong, store-transactions first, over these clients."""
    return prong_jobs(settings, clients.deps())


# --- checks and assembly -----------------------------------------------------------------
def preflight_problems(settings: Settings, clients: Clients) -> list[str]:
    """The checks before READY=1 and of ``giftbridge check``: one line per problem."""
    return start_problems(clients.base_admin, clients.shopify)


def business_summary(
    settings: Settings, clients: Clients, metrics: Metrics
) -> BusinessSummary | None:
    """The status page's business figures, read every few minutes (see daemon.summary); None
    when these clients have no ReportSource (the page then says so)."""
    if clients.reports is None or not settings.airtable_base_id:
        return None
    return BusinessSummary(
        clients.reports,
        SystemClock(),
        base_id=settings.airtable_base_id,
        shop_currency=settings.currency,
        metrics=metrics,
    )


@dataclass
class Assembly:
    settings: Settings
    clients: Clients
    service: Service

    def close(self) -> None:
        self.clients.close()


def assemble(
    settings: Settings,
    metrics: Metrics,
    *,
    http: bool = True,
    demo: bool = False,
) -> Assembly:
    """Everything ``run`` and ``once`` need, after the start checks passed.

    Raises :class:`PreflightFailed` naming each problem (the base layout, scopes)."""
    mode = settings.mode  # before connect: a sandbox-mode daemon then talks to a "shop"
    settings, stop_sandbox = connect(settings, demo=demo)
    try:
        clients = build_clients(settings, metrics)
    except BaseException:
        stop_sandbox()
        raise
    clients.closers.insert(0, stop_sandbox)  # closers run in reverse: the sandbox stops last
    try:
        problems = preflight_problems(settings, clients)
        if problems:
            raise PreflightFailed(problems)
        jobs = build_prong_jobs(settings, clients)
        service = Service(
            service_config(settings, http=http, mode=mode),
            clients.airtable,
            jobs,
            metrics=metrics,
            summary=business_summary(settings, clients, metrics) if http else None,
            state_dir=settings.state_dir,
        )
    except BaseException:
        clients.close()
        raise
    return Assembly(settings, clients, service)
