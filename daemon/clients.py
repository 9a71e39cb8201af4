"""The process's adapters, built once by the composition root (:mod:`daemon.bootstrap`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from clients.errors import GiftbridgeError
from clients.ports import (
    AirtablePort,
    CertificatePort,
    EmailPort,
    ReportSource,
    ShopifyPort,
    WebhookPort,
)
from daemon.clock import SystemClock
from daemon.preflight import BaseAdminPort
from prongs.card_locks import CardLocks
from prongs.deps import Deps

if TYPE_CHECKING:
    from clients.factory import Limiters
    from clients.shopify_auth import TokenSource


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
    webhooks: WebhookPort | None = None  # push: the base's webhook and its payloads
    shopify_tokens: TokenSource | None = None  # says when Shopify calls are stopped
    limiters: Limiters | None = None  # the process's, for adapters built later (rehearsal)
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
