"""Sending emails and writing receipts: the one way every prong does both.

- An email is a Klaviyo event whose ``unique_id`` is ``<key>:<audience>`` (built in
  :mod:`prongs.emails`), so re-sending after a crash or a lost response is safe: Klaviyo drops
  the repeat. :func:`send_email` retries a bounded number of times and never raises a
  ClientError: a failing Klaviyo must not undo money that already moved.
- :func:`send_emails` sends a flow's jobs and returns what was sent, what kept failing, and the
  receipts that say so: Sent for an email that carries or announces the card (store notices and
  balance emails have none, DESIGN.md), Email Failed (``<key>:email-failed:<audience>``) for one
  that kept failing. The caller decides what a failure means for its request.
- Receipts are upserted on their Reference (``<key>:<receipt action>``), so writing one twice
  leaves one row: :func:`write_receipts`. :class:`ReceiptBase` holds what every receipt of one
  action shares.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

import structlog

from cards.keys import ActionKey
from cards.money import Money
from cards.vocab import Audience, ReceiptAction, ReceiptSource
from clients.errors import AmbiguousOutcome, Permanent, Retryable
from clients.records import EmailEvent, Receipt
from prongs.deps import CardConfig, Deps
from prongs.exactly_once import again_if_ambiguous

log = structlog.get_logger("giftbridge.prongs")


@dataclass(frozen=True, slots=True)
class EmailJob:
    audience: Audience
    event: EmailEvent
    sent_receipt: bool  # False for store notices and balance emails (DESIGN.md)


@dataclass(frozen=True, slots=True)
class ReceiptBase:
    """What every receipt of one action shares."""

    key: ActionKey
    source: ReceiptSource
    at: datetime
    card_id: str | None = None
    store_id: str | None = None
    request: str | None = None

    def make(
        self,
        action: ReceiptAction,
        audience: Audience | None = None,
        *,
        amount: Money | None = None,
        balance_before: Money | None = None,
        balance_after: Money | None = None,
        shopify_reference: str | None = None,
        details: str | None = None,
    ) -> Receipt:
        return Receipt(
            reference=self.key.reference(action, audience),
            action=action,
            at=self.at,
            source=self.source,
            card_id=self.card_id,
            store_id=self.store_id,
            amount=amount,
            balance_before=balance_before,
            balance_after=balance_after,
            request=self.request,
            shopify_reference=shopify_reference,
            details=details,
        )


@dataclass
class Mailing:
    sent: list[Audience] = field(default_factory=list)
    failed: list[Audience] = field(default_factory=list)
    receipts: list[Receipt] = field(default_factory=list)


def send_email(deps: Deps, event: EmailEvent, *, attempts: int, pause_seconds: float) -> bool:
    """Send with bounded retries; True when Klaviyo took it. Never raises a ClientError."""
    for attempt in range(1, attempts + 1):
        try:
            deps.email.send(event)
            return True
        except Permanent as exc:
            log.warning("email refused", unique_id=event.unique_id, error=str(exc))
            return False
        except (Retryable, AmbiguousOutcome) as exc:
            log.warning("email failed", unique_id=event.unique_id, attempt=attempt, error=str(exc))
            if attempt < attempts:
                deps.clock.sleep(pause_seconds)
    return False


def send_emails(
    deps: Deps, config: CardConfig, jobs: Sequence[EmailJob], base: ReceiptBase
) -> Mailing:
    """Send each job; Sent receipts for those that carry or announce the card, Email Failed
    receipts (``<key>:email-failed:<audience>``) for those that kept failing."""
    mailing = Mailing()
    for job in jobs:
        sent = send_email(
            deps,
            job.event,
            attempts=config.email_attempts,
            pause_seconds=config.email_retry_seconds,
        )
        if sent:
            mailing.sent.append(job.audience)
            if job.sent_receipt:
                mailing.receipts.append(base.make(ReceiptAction.SENT, job.audience))
        else:
            mailing.failed.append(job.audience)
            detail = f"{job.event.metric.value} to the {job.audience.value} kept failing"
            mailing.receipts.append(
                base.make(ReceiptAction.EMAIL_FAILED, job.audience, details=detail)
            )
    return mailing


def write_receipts(deps: Deps, receipts: Sequence[Receipt]) -> None:
    """Upsert on Reference (10 a request): a replay never adds a second receipt."""
    if receipts:
        again_if_ambiguous(lambda: deps.airtable.upsert_receipts(list(receipts)))
