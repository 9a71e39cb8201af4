"""What every prong is built with: :class:`Deps` (the same shape for every prong) and the
card settings the issuing prongs share (:class:`CardConfig`).

The composition root (``daemon/``) builds ONE ``Deps`` per process and hands it to every prong,
so the prongs share the process's :class:`~prongs.card_locks.CardLocks`; tests build one over the
fakes (``tests.fakes.World.deps()``). A prong's own knobs are its config (``StoreConfig``,
``PurchasesConfig``, ``RedemptionsConfig``, beside each prong); state a prong keeps between its
runs is an explicit object the daemon holds and passes to ``run_once`` (the late-refund sweep's
:class:`~prongs.orders_sweep.RefundSweep`), never part of ``Deps``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from cards.policy import AmountLimits, ExpiryPolicy
from clients.ports import AirtablePort, CertificatePort, Clock, EmailPort, ShopifyPort
from prongs.card_locks import CardLocks


@dataclass(frozen=True, slots=True)
class Deps:
    """The ports a prong talks through and the process-wide collaborators it shares."""

    airtable: AirtablePort
    shopify: ShopifyPort
    email: EmailPort
    certificates: CertificatePort
    clock: Clock
    card_locks: CardLocks  # one per process: every writer of a card's balance holds it


@dataclass(frozen=True, slots=True)
class CardConfig:
    """What issuing, finding and mailing a card needs; secrets are plain ``str`` (repr-hidden)."""

    currency: str
    business_name: str
    code_length: int
    limits: AmountLimits
    expiry: ExpiryPolicy
    pepper: str = field(repr=False)
    code_key: str = field(repr=False)
    email_attempts: int = 3
    email_retry_seconds: float = 0.25  # short: a failing Klaviyo must not hold up a till
