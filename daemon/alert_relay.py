"""Alerts raised where :class:`~prongs.alerts.Alerts` cannot be reached: Shopify's token
renewal (the adapters are built before the deps that ``Alerts`` needs) and push (its own
thread). A part of the composition root (:mod:`daemon.bootstrap`): :func:`alert_relay` reads
the settings it needs.

:class:`AlertRelay` is built first and handed to the Shopify adapter (``on_renewal_failing``)
and to push (``on_push_unhealthy``); once the service exists the bootstrap binds it to the
service's :class:`~daemon.alert_watch.AlertWatch`, whose next tick sends the alert (one
Receipts read, ``Giftbridge Alert``, an Alert Sent receipt; a failed email is tried again at
the tick after). Before binding, or without ``ALERT_EMAIL``, only the log line is written.

A hook only logs and hands over a few words in memory: it never raises into its caller, never
calls Shopify, Airtable or Klaviyo, and never waits for them. The token-renewal path and the push
thread go on at once. Every message passes the log redactor (:func:`daemon.logging.scrub`), so
neither the client secret nor a token can reach an email or a receipt.

Subjects (the alert key is ``alert:<cause>:<subject>``, once each, across restarts):

- ``shopify-token``: ``<shop>@<UTC date>``. The token source raises up to two reasons per
  outage (renewals keep failing; then calls stop) and a restarted process starts counting
  again, so the day is what makes one email per outage: every retry, the escalation and a
  restart on the same day are the same alert; an outage still going on the next day is mailed
  again that day; a second outage the same day is only logged (the status page shows it).
- ``push-unhealthy``: ``<base>@<UTC minute push fell back>``. Push calls the hook once per
  fall-back (not again until it is healthy again), so each episode is mailed once and the next
  one again, as ``prong-failing`` does for a prong's outage.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime
from urllib.parse import urlparse

import structlog

from clients.ports import Clock
from config.settings import Settings
from daemon.clock import SystemClock
from daemon.logging import scrub
from daemon.push_wiring import notification_url

log = structlog.get_logger(__name__)

SHOPIFY_CAUSE = "shopify-token"
PUSH_CAUSE = "push-unhealthy"

#: ``sink(cause, subject, message)``: takes the alert in memory (``AlertWatch.raise_cause``).
AlertSink = Callable[[str, str, str], None]


class AlertRelay:
    """Log at once; send through the bound sink (see the module docstring)."""

    def __init__(self, clock: Clock, *, shop: str, base_id: str, push_hint: str) -> None:
        self._clock = clock
        self._shop = shop
        self._base_id = base_id
        self._push_hint = push_hint
        self._sink: AlertSink | None = None
        self._lock = threading.Lock()

    def bind(self, sink: AlertSink) -> None:
        """From now on alerts go to ``sink`` (the service's AlertWatch), not only the log."""
        with self._lock:
            self._sink = sink

    @property
    def bound(self) -> bool:
        return self._sink is not None

    def shopify_token_failing(self, reason: str) -> None:
        """``on_renewal_failing``: Shopify's token cannot be renewed (``reason``: one line)."""
        try:
            reason = scrub(reason)
            log.error("alert.shopify_token", cause=SHOPIFY_CAUSE, message=reason)
            message = (
                f"{reason} (shop {self._shop}). giftbridge goes on with its "
                "current token while it lives and keeps trying; once it has expired, Shopify "
                "calls stop and store requests wait untouched as new requests (the status page "
                "says since when). Check GIFTBRIDGE_SHOPIFY_CLIENT_ID and "
                "GIFTBRIDGE_SHOPIFY_CLIENT_SECRET (was the secret rotated in the Dev "
                "Dashboard?), that the app is still installed on the shop, and Shopify's status."
            )
            self._hand_over(SHOPIFY_CAUSE, f"{self._shop}@{_day(self._clock.now())}", message)
        except Exception:  # an alert must never break the Shopify call path
            log.exception("alert.relay_failed", cause=SHOPIFY_CAUSE)

    def push_unhealthy(self, reason: str) -> None:
        """``on_push_unhealthy``: push fell back to polling every tick (logged by push)."""
        try:
            message = (
                f"Airtable push fell back to polling every tick: {scrub(reason)}. Requests are "
                "still served, every tick instead of within seconds, with more Airtable calls. "
                f"Check {self._push_hint}. giftbridge keeps trying to restore push; the status "
                "page's push line says when it is healthy again."
            )
            subject = f"{self._base_id}@{_minute(self._clock.now())}"
            self._hand_over(PUSH_CAUSE, subject, message)
        except Exception:  # never into the push thread
            log.exception("alert.relay_failed", cause=PUSH_CAUSE)

    def _hand_over(self, cause: str, subject: str, message: str) -> None:
        with self._lock:
            sink = self._sink
        if sink is None:
            log.debug("alert not sent: not bound (no ALERT_EMAIL, or not the daemon)", cause=cause)
            return
        sink(cause, subject, message)


def alert_relay(settings: Settings) -> AlertRelay:
    """The daemon's relay, from settings pointed at a shop (live, or the connected sandbox)."""
    hint = push_hint(
        notify_url=notification_url(settings),
        http_host=settings.http_host,
        http_port=settings.http_port,
    )
    return AlertRelay(
        SystemClock(),
        shop=shop_name(settings.shopify_shop, settings.graphql_url),
        base_id=settings.airtable_base_id or "base",
        push_hint=hint,
    )


def push_hint(*, notify_url: str | None, http_host: str, http_port: int) -> str:
    """What the operator should check when push falls back, for this configuration."""
    webhook = (
        "that giftbridge's webhook is in the base (the Airtable token needs webhook:manage "
        "and creator access; the log line push.unhealthy names Airtable's answer)"
    )
    if notify_url is None:  # poll mode: the daemon reads the payloads itself
        return f"{webhook}, and that Airtable answers"
    return (
        f"that {notify_url} is reachable from Airtable over public HTTPS (the reverse proxy "
        f"forwards it to the daemon's HTTP port, {http_host}:{http_port}), and {webhook}"
    )


def shop_name(shop: str | None, graphql_url: str | None) -> str:
    """The shop's domain (``SHOPIFY_SHOP``), else the GraphQL endpoint's host."""
    if shop:
        return shop
    host = urlparse(graphql_url or "").hostname
    return host or "shop"  # a subject has no spaces


def _day(at: datetime) -> str:
    return at.strftime("%Y-%m-%d")


def _minute(at: datetime) -> str:
    return at.strftime("%Y%m%dT%H%MZ")
