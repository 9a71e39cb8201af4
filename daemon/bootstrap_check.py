"""The composition root's part for ``giftbridge check`` and ``check --rehearse``: Settings ->
what the checks compare against and the rehearsal's values and ports (like
:mod:`daemon.bootstrap`, of which it is a part, it reads Settings; nothing else does).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from config.settings import Mode, Settings, ShopifyAuth, env_name
from daemon.adapter_settings import airtable_config, required, secret, state_dir
from daemon.clients import Clients, NotWired

if TYPE_CHECKING:
    from daemon.rehearsal_ports import RehearsalPorts, RehearsalSetup


@dataclass(frozen=True)
class CheckPlan:
    """What ``giftbridge check`` checks against, as plain values."""

    target: str  # "sandbox ..." or "live ..."
    base_id: str
    airtable_url: str
    graphql_url: str
    klaviyo_url: str
    currency: str
    client_credentials: bool  # a Dev Dashboard app's (else a legacy static token)
    alert_email: str | None
    status_page: str  # the status page's URL, for the rehearsal's alert link


_LOOPBACK_HOSTS = ("127.", "localhost", "[::1]")


def points_at_sandbox(settings: Settings) -> bool:
    """Every service on loopback: the local stand-ins (``giftbridge sandbox``), not a shop."""
    urls = (settings.airtable_api_url, settings.graphql_url or "", settings.klaviyo_api_url)
    hosts = [u.split("://", 1)[-1] for u in urls]
    return all(h.startswith(_LOOPBACK_HOSTS) for h in hosts)


def describe_target(settings: Settings) -> str:
    """One line: what these settings reach. Sandbox mode and settings pointed at a sandbox
    started by hand both say "sandbox"."""
    if settings.mode is Mode.SANDBOX:
        return (
            f"sandbox mode: the local stand-ins with data in {state_dir(settings) / 'sandbox'} "
            "(no credentials set), not a real shop"
        )
    if points_at_sandbox(settings):
        return "sandbox: these settings point at local stand-ins on 127.0.0.1, not a real shop"
    shop = settings.shopify_shop or settings.graphql_url
    return f"live: shop {shop}, Airtable base {settings.airtable_base_id}"


def check_plan(settings: Settings) -> CheckPlan:
    """For settings that name a shop (live, or pointed at the sandbox by :func:`connect`)."""
    return CheckPlan(
        target=describe_target(settings),
        base_id=settings.airtable_base_id or "",
        airtable_url=settings.airtable_api_url,
        graphql_url=settings.graphql_url or "",
        klaviyo_url=settings.klaviyo_api_url,
        currency=settings.currency,
        client_credentials=settings.shopify_auth is ShopifyAuth.CLIENT_CREDENTIALS,
        alert_email=settings.alert_email,
        status_page=f"http://{settings.http_host}:{settings.http_port}/",
    )


def rehearsal_setup(settings: Settings) -> RehearsalSetup:
    """``check --rehearse``'s values (the caller refuses first when ALERT_EMAIL is unset)."""
    from cards.money import Money, minor_unit_exponent
    from daemon.rehearsal_ports import RehearsalSetup

    currency = settings.currency
    return RehearsalSetup(
        amount=Money.of(settings.min_amount, currency),
        unit=Money.of(Decimal(1).scaleb(-minor_unit_exponent(currency)), currency),
        code_length=settings.code_length,
        code_key=secret(settings, "code_key").get_secret_value(),
        alert_email=required(settings.alert_email, env_name("alert_email")),
        status_page=f"http://{settings.http_host}:{settings.http_port}/",
        state_dir=settings.state_dir,
    )


def rehearsal_ports(settings: Settings, clients: Clients) -> RehearsalPorts:
    """The rehearsal's ports over these clients, plus the request tables' test-row adapter
    (closed with the clients)."""
    from clients import factory
    from clients.airtable_rehearsal import RehearsalRows
    from daemon.rehearsal_ports import RehearsalPorts, RehearsalShop

    shop = clients.shopify
    if not isinstance(shop, RehearsalShop):
        raise NotWired("the rehearsal needs the Shopify adapter (giftCardDeactivate)")
    config = airtable_config(settings, secret(settings, "airtable_token"))
    rows = RehearsalRows(factory.airtable_tables(config, clients.limiters or factory.Limiters()))
    clients.closers.append(rows.close)
    return RehearsalPorts(shop=shop, rows=rows, receipts=clients.airtable, email=clients.email)
