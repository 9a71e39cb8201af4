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
- :func:`preflight_problems`: the start checks (base layout; Shopify's credential, currency and
  scopes) over built clients; ``giftbridge check`` and its rehearsal take their plain values
  from this module's part for them, :mod:`daemon.bootstrap_check`;
- :func:`build_clients`: the adapters of ``clients/factory.py`` from those configs, one limiter
  per service shared by all threads;
- :func:`build_prong_jobs`: one job per prong (:mod:`daemon.wiring`, the prongs' configs);
- push (``AIRTABLE_PUSH``, :mod:`daemon.push_wiring`): the webhook for ``run``, not ``once``;
- :func:`~daemon.alert_relay.alert_relay`: the operator alerts raised before the service and
  its alerts exist (Shopify's token renewal, push falling back), bound to the service's
  AlertWatch once it does;
- :func:`assemble`: all of it + :class:`~daemon.service.Service`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import structlog
from pydantic import SecretStr

from cards.policy import AmountLimits
from clients.ports import AirtablePort, BulkPort
from config.settings import PREFIX, Mode, Settings, load_settings
from daemon.adapter_settings import (
    adapter_configs,
    airtable_config,
    call_policy,
    klaviyo_config,
    run_mode,
    secret,
    shopify_config,
    shopify_credential,
    shopify_token_alert,
    state_dir,
)
from daemon.alert_relay import AlertRelay, alert_relay
from daemon.clients import Clients, NotWired
from daemon.clock import SystemClock
from daemon.credentials import SECRET_FIELDS, systemd_credentials
from daemon.embedded_sandbox import DEMO_SKU, EmbeddedSandbox
from daemon.logging import add_secrets
from daemon.metrics import Metrics
from daemon.preflight import PreflightFailed as PreflightFailed  # assemble() raises it
from daemon.preflight import start_problems
from daemon.push_wiring import build_push
from daemon.runner import ProngJob
from daemon.service import Service, ServiceConfig
from daemon.summary import BusinessSummary
from daemon.wiring import card_config as card_config  # the card commands' (via bootstrap)
from daemon.wiring import prong_jobs
from prongs.alerts import Alerts

if TYPE_CHECKING:
    from clients.airtable_reports import AirtableReports
    from clients.retry import RetryPolicy

__all__ = [  # parts of the composition root that live in their own modules, reached through here
    "Clients",
    "NotWired",
    "adapter_configs",
    "airtable_config",
    "call_policy",
    "klaviyo_config",
    "run_mode",
    "shopify_config",
    "shopify_credential",
    "shopify_token_alert",
    "state_dir",
]
T = TypeVar("T")
log = structlog.get_logger(__name__)


# --- settings -> plain values -------------------------------------------------------------
EXPIRY_WARNING_DAYS = 1825


def load(environ: Mapping[str, str] | None = None) -> Settings:
    """Settings from the environment, ``.env`` and systemd credentials (SettingsError if bad)."""
    return load_settings(**systemd_credentials(environ))


def connect(
    settings: Settings, *, demo: bool = False, quiet: bool = False
) -> tuple[Settings, Callable[[], None]]:
    """Live settings as given; in sandbox mode, the sandbox already running on ``STATE_DIR``
    or a new embedded one (with demo traffic when ``demo``; its log lines in a file when
    ``quiet``), and settings pointed at it, plus the function that stops it (nothing, for a
    sandbox that was running before)."""
    if settings.mode is Mode.LIVE:
        return settings, lambda: None
    sandbox = EmbeddedSandbox.start(
        settings.state_dir, demo=demo, currency=settings.currency, quiet=quiet
    )
    if sandbox.shared:
        log.info(
            "sandbox.shared", detail=f"using the sandbox already running on {state_dir(settings)}"
        )
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


def log_secrets(settings: Settings) -> list[str]:
    """Every secret value, for the log redactor (it replaces them with <SECRET>)."""
    values = [getattr(settings, name) for name in SECRET_FIELDS]
    return [v.get_secret_value() for v in values if v is not None]


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

    config = airtable_config(settings, secret(settings, "airtable_token"), retry)
    source = factory.build_reports(
        config, factory.Limiters.for_base(settings.state_dir, config.base_id)
    )
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

    config = airtable_config(settings, secret(settings, "airtable_token"), retry)
    limiters = factory.Limiters.for_base(settings.state_dir, config.base_id)  # the base's budget
    airtable = factory.build_airtable(config, limiters)
    bulk = factory.build_bulk(config, limiters)

    def close() -> None:
        bulk.close()
        airtable.close()

    return BulkSetup(airtable, bulk, settings.currency, settings.amount_limits, close)


def build_clients(
    settings: Settings,
    metrics: Metrics,
    *,
    retry: RetryPolicy | None = None,
    alerts: AlertRelay | None = None,
) -> Clients:
    """The adapters, sharing one rate limiter per service; every outside call, error and
    rate-limit wait is counted in ``metrics``. ``retry``: a policy of the caller's (``check``
    gives up sooner than the daemon), instead of the run budget's. ``alerts``: where Shopify's
    token renewal failing is raised (else it is only logged)."""
    if settings.mode is Mode.SANDBOX:
        raise NotWired("no credentials: call bootstrap.connect() first to start the sandbox")
    on_failing = alerts.shopify_token_failing if alerts is not None else None
    configs = adapter_configs(
        settings, on_call=metrics.outside_call, retry=retry, on_renewal_failing=on_failing
    )
    from clients import factory  # here, not at import: `giftbridge --help` stays light

    # Airtable's budget is the base's, shared with every giftbridge process using STATE_DIR.
    limiters = factory.Limiters.for_base(settings.state_dir, configs.airtable.base_id)
    for limiter in (limiters.airtable, limiters.shopify, limiters.klaviyo):
        limiter.on_wait = metrics.rate_limit_wait
    airtable = factory.build_airtable(configs.airtable, limiters)
    shopify = factory.build_shopify(configs.shopify, limiters)
    email = factory.build_email(configs.klaviyo, limiters)
    admin = factory.build_base_admin(configs.airtable, limiters)
    reports = factory.build_reports(configs.airtable, limiters)
    webhooks = factory.build_webhooks(configs.airtable, limiters)
    clients = Clients(
        airtable,
        shopify,
        email,
        factory.build_certificates(),
        base_admin=admin,
        reports=reports,
        webhooks=webhooks,
        shopify_tokens=shopify.tokens,
        limiters=limiters,
    )
    clients.closers += [
        airtable.close,
        shopify.close,
        email.close,
        admin.close,
        reports.close,
        webhooks.close,
    ]
    return clients


def build_prong_jobs(settings: Settings, clients: Clients) -> list[ProngJob]:
    """One ProngJob per prong, store-transactions first, over these clients.

    Every prong needs Shopify: while no access token can be had for the next run budget (the
    client credentials grant keeps failing), each run is skipped before it touches a request,
    with the reason on the status page, so store redemptions wait untouched as new requests."""
    deps = clients.deps()
    jobs = prong_jobs(settings, deps)
    tokens = clients.shopify_tokens
    if tokens is None:
        return jobs
    margin = settings.run_budget_seconds

    def blocked() -> str | None:
        return tokens.stopped(margin)

    return [replace(job, blocked=blocked) for job in jobs]


# --- checks and assembly -----------------------------------------------------------------
def preflight_problems(settings: Settings, clients: Clients) -> list[str]:
    """The checks before READY=1: the base layout; Shopify's credential (this fetches the first
    token of a Dev Dashboard app), the shop's currency and the token's scopes. One line per
    problem."""
    from daemon import check  # here, not at import: `giftbridge --help` stays light

    if not isinstance(clients.shopify, check.ShopCheck):  # a test's fake: scopes only
        return start_problems(clients.base_admin, clients.shopify)
    from daemon.bootstrap_check import check_plan

    plan = check_plan(settings)
    shopify = check.check_shopify(
        clients.shopify,
        plan.currency,
        plan.graphql_url,
        client_credentials=plan.client_credentials,
    )
    return start_problems(clients.base_admin, None) + shopify.problems


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


def service_notices(clients: Clients) -> Callable[[], dict[str, str]] | None:
    """The status page's trouble lines: Shopify calls stopped for want of a token."""
    tokens = clients.shopify_tokens
    if tokens is None:
        return None
    return lambda: {"shopify": tokens.stopped() or ""}


@dataclass
class Assembly:
    settings: Settings
    clients: Clients
    service: Service
    alerts: AlertRelay

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
        relay = alert_relay(settings)
        clients = build_clients(settings, metrics, alerts=relay)
    except BaseException:
        stop_sandbox()
        raise
    clients.closers.insert(0, stop_sandbox)  # closers run in reverse: the sandbox stops last
    try:
        problems = preflight_problems(settings, clients)
        if problems:
            raise PreflightFailed(problems)
        jobs = build_prong_jobs(settings, clients)
        push = None  # push serves the daemon (`run`), not a single `once`
        if http and clients.webhooks is not None:
            push = build_push(
                settings,
                clients.webhooks,
                metrics,
                SystemClock(),
                on_push_unhealthy=relay.push_unhealthy,
            )
        service = Service(
            service_config(settings, http=http, mode=mode),
            clients.airtable,
            jobs,
            metrics=metrics,
            summary=business_summary(settings, clients, metrics) if http else None,
            state_dir=settings.state_dir,
            alerts=Alerts(clients.deps(), settings.alert_email) if settings.alert_email else None,
            notices=service_notices(clients),
            push=push,
        )
        if service.alert_watch is not None:  # with ALERT_EMAIL: mailed from now on
            relay.bind(service.alert_watch.raise_cause)
    except BaseException:
        clients.close()
        raise
    return Assembly(settings, clients, service, relay)
