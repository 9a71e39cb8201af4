"""The composition root: the ONLY module that reads Settings and builds real clients.

Everything else takes plain values and ports:

- :func:`load`: Settings from the environment, ``.env`` and systemd credentials
  (``LoadCredential=``, see :func:`credential_overrides`);
- :func:`connect`: in sandbox mode (no credentials), start the stand-ins in their own process
  (:mod:`daemon.embedded_sandbox`) and point the settings at them;
- :func:`service_config`, :func:`log_secrets`: Settings -> the lifecycle's knobs, the redactor's
  secret list;
- :func:`preflight_problems`: the start checks (base layout, Shopify scopes) over built clients;
- :func:`build_clients`: the adapters of ``clients/factory.py``, one limiter per service shared
  by all threads;
- :func:`build_prong_jobs`: one job per prong (:mod:`daemon.wiring`);
- push (``AIRTABLE_PUSH``, :mod:`daemon.push_wiring`): the webhook for ``run``, not ``once``;
- :func:`assemble`: all of it + :class:`~daemon.service.Service`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, cast

from clients.errors import ClientError
from clients.ports import AirtablePort, CertificatePort, EmailPort, ShopifyPort, WebhookPort
from config.settings import Mode, Settings, SettingsError, env_name, load_settings
from daemon.clock import SystemClock
from daemon.embedded_sandbox import EmbeddedSandbox
from daemon.instrument import Instrumented
from daemon.logging import add_secrets
from daemon.metrics import Metrics
from daemon.push_wiring import build_push
from daemon.runner import ProngJob
from daemon.service import Service, ServiceConfig
from daemon.wiring import prong_jobs
from prongs._recipe import Deps

# Shopify access scopes the prongs use (reference: shopify-admin-api.md section 8).
SHOPIFY_SCOPES = (
    "read_gift_cards",
    "write_gift_cards",
    "read_gift_card_transactions",
    "write_gift_card_transactions",
    "read_orders",
    "write_orders",
)


class NotWired(RuntimeError):
    """A composition seam that is not connected yet."""


class BaseAdminPort(Protocol):
    """What ``check`` and ``base init`` need from the Metadata API adapter."""

    def check(self) -> list[str]:
        """One line per missing or mistyped table, field or select option."""
        ...

    def init(self) -> object:
        """Create missing tables and fields; the result's ``str()`` is shown to the operator."""
        ...


@dataclass
class Clients:
    airtable: AirtablePort
    shopify: ShopifyPort
    email: EmailPort
    certificates: CertificatePort
    base_admin: BaseAdminPort | None = None
    webhooks: WebhookPort | None = None
    closers: list[Callable[[], None]] = field(default_factory=list)

    def deps(self) -> Deps:
        """The ports a prong or a ``card`` command talks through, on the system clock."""
        return Deps(self.airtable, self.shopify, self.email, self.certificates, SystemClock())

    def close(self) -> None:
        for close in reversed(self.closers):
            close()


# --- settings -> plain values -------------------------------------------------------------
EXPIRY_WARNING_DAYS = 1825
SECRET_FIELDS = (
    "airtable_token",
    "shopify_access_token",
    "klaviyo_api_key",
    "code_pepper",
    "code_key",
)


def credential_overrides(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """Secrets systemd passed with ``LoadCredential=`` (files in ``$CREDENTIALS_DIRECTORY``).

    A file named after the field (``code_key``), the variable (``GIFTBRIDGE_CODE_KEY``) or, as a
    directory credential ``LoadCredential=giftbridge:/etc/giftbridge/credentials`` names them,
    ``giftbridge_code_key``. They win over the environment: the unit keeps secrets out of it."""
    env = os.environ if environ is None else environ
    directory = env.get("CREDENTIALS_DIRECTORY")
    if not directory:
        return {}
    found: dict[str, str] = {}
    for name in SECRET_FIELDS:
        for candidate in (name, f"giftbridge_{name}", env_name(name)):
            path = Path(directory) / candidate
            if path.is_file():
                found[name] = path.read_text("utf-8").strip()
                break
    return found


def load(environ: Mapping[str, str] | None = None) -> Settings:
    """Settings from the environment, ``.env`` and systemd credentials (SettingsError if bad)."""
    return load_settings(**credential_overrides(environ))


def connect(settings: Settings, *, demo: bool = False) -> tuple[Settings, Callable[[], None]]:
    """Live settings as given; in sandbox mode, start the embedded sandbox (with demo traffic
    when ``demo``) and return settings pointed at it, plus the function that stops it."""
    if settings.mode is Mode.LIVE:
        return settings, lambda: None
    sandbox = EmbeddedSandbox.start(settings.state_dir, demo=demo, currency=settings.currency)
    connected = sandbox.settings_for(settings)
    add_secrets(log_secrets(connected))
    return connected, sandbox.stop


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
def build_clients(settings: Settings, metrics: Metrics) -> Clients:
    """The adapters, sharing one rate limiter per service, for settings that name a shop:
    live ones, or ones :func:`connect` pointed at the sandbox."""
    if settings.mode is Mode.SANDBOX:
        raise NotWired("no credentials: call bootstrap.connect() first to start the sandbox")
    from clients import factory  # here, not at import: `giftbridge --help` stays light
    from clients.airtable_webhooks import build_webhooks

    limiters = factory.Limiters()
    for limiter in (limiters.airtable, limiters.shopify, limiters.klaviyo):
        limiter.on_wait = metrics.rate_limit_wait
    airtable = factory.build_airtable(settings, _secret(settings, "airtable_token"), limiters)
    shopify = factory.build_shopify(settings, _secret(settings, "shopify_access_token"), limiters)
    email = factory.build_email(settings, _secret(settings, "klaviyo_api_key"), limiters)
    admin = factory.build_base_admin(settings, _secret(settings, "airtable_token"), limiters)
    webhooks = build_webhooks(settings, _secret(settings, "airtable_token"), limiters)
    clients = Clients(
        airtable=cast(AirtablePort, Instrumented(airtable, "airtable", metrics)),
        shopify=cast(ShopifyPort, Instrumented(shopify, "shopify", metrics)),
        email=cast(EmailPort, Instrumented(email, "klaviyo", metrics)),
        certificates=factory.build_certificates(settings),
        base_admin=admin,
        webhooks=cast(WebhookPort, Instrumented(webhooks, "airtable", metrics)),
    )
    clients.closers += [airtable.close, shopify.close, email.close, admin.close, webhooks.close]
    return clients


def _secret(settings: Settings, name: str) -> str:
    value = getattr(settings, name)
    if value is None:
        raise SettingsError(f"{env_name(name)} is required in live mode")
    return str(value.get_secret_value())


def build_prong_jobs(settings: Settings, clients: Clients) -> list[ProngJob]:
    """One ProngJob per prong, store-transactions first, over these clients."""
    deps = clients.deps()
    return prong_jobs(settings, deps, deps.clock)


# --- checks and assembly -----------------------------------------------------------------
def preflight_problems(settings: Settings, clients: Clients) -> list[str]:
    """The checks before READY=1 and of ``giftbridge check``: one line per problem."""
    problems: list[str] = []
    if clients.base_admin is None:
        problems.append("airtable: no Metadata API adapter to check the base layout")
    else:
        try:
            problems += [f"airtable base: {p}" for p in clients.base_admin.check()]
        except ClientError as exc:
            problems.append(f"airtable: cannot read the base schema ({exc})")
    try:
        granted = clients.shopify.access_scopes()
    except ClientError as exc:
        problems.append(f"shopify: cannot read the token's access scopes ({exc})")
    else:
        problems += [
            f"shopify: the access token lacks the scope {scope}"
            for scope in SHOPIFY_SCOPES
            if scope not in granted and scope.replace("read_", "write_", 1) not in granted
        ]
    return problems


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
        push = None  # push serves the daemon (`run`), not a single `once`
        if http and clients.webhooks is not None:
            # on_push_unhealthy=... is where an operator alert hangs (logged in any case)
            push = build_push(settings, clients.webhooks, metrics, SystemClock())
        service = Service(
            service_config(settings, http=http, mode=mode),
            clients.airtable,
            jobs,
            metrics=metrics,
            push=push,
        )
    except BaseException:
        clients.close()
        raise
    return Assembly(settings, clients, service)


class PreflightFailed(RuntimeError):
    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("; ".join(problems))
