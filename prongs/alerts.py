"""``Giftbridge Alert`` to the operator, exactly once per cause and subject.

DESIGN.md, Alerts: with ``ALERT_EMAIL`` set, an alert goes out when a request ends Needs
Attention, a request stays Processing too long, a prong keeps failing, drift is detected, or
Shopify's token cannot be renewed; once per cause (key ``alert:<cause>:<subject>``), with a
receipt Alert Sent. The prongs that raise those causes call :meth:`Alerts.send`.

Exactly once, across crashes and processes, by the recipe:

1. The receipt ``<key>:alert-sent`` is read first: an alert already recorded is not sent again
   (a restarted process, or another prong, asking for the same cause and subject).
2. The Klaviyo event carries ``unique_id`` ``<key>:operator``: a process that died after sending
   and before writing the receipt sends it again on the next call, and Klaviyo drops the repeat.
3. The receipt is upserted on its Reference after Klaviyo took the event, so it is written
   once. An email that keeps failing writes no receipt: the next call tries again.

Without ``ALERT_EMAIL`` nothing is sent or written, and a debug log line says so.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum

import structlog

from cards.keys import ActionKey
from cards.vocab import ReceiptAction, ReceiptSource
from prongs import emails
from prongs.deps import Deps
from prongs.exactly_once import again_if_ambiguous
from prongs.notices import ReceiptBase, send_email, write_receipts

log = structlog.get_logger("giftbridge.prongs")


class AlertResult(StrEnum):
    SENT = "sent"
    ALREADY_SENT = "already sent"  # its Alert Sent receipt exists
    NOT_CONFIGURED = "not configured"  # no ALERT_EMAIL
    FAILED = "failed"  # Klaviyo kept failing; the next call tries again


class Alerts:
    """Sends ``Giftbridge Alert`` through the prong's deps; ``operator_email`` is ALERT_EMAIL."""

    def __init__(
        self,
        deps: Deps,
        operator_email: str | None,
        *,
        attempts: int = 3,
        pause_seconds: float = 0.25,
    ) -> None:
        self._deps = deps
        self._to = operator_email
        self._attempts = attempts
        self._pause = pause_seconds

    @property
    def configured(self) -> bool:
        return self._to is not None

    def already_sent(self, causes: Sequence[tuple[str, str]]) -> set[tuple[str, str]]:
        """Which (cause, subject) pairs have their Alert Sent receipt: one read for up to 100
        (the caller then sends the others with ``checked=True``). Raises a ClientError."""
        references = {
            ActionKey.alert(cause, subject).reference(ReceiptAction.ALERT_SENT): (cause, subject)
            for cause, subject in causes
        }
        if not references:
            return set()
        wanted = list(references)
        recorded = again_if_ambiguous(lambda: self._deps.airtable.receipt_references(wanted))
        return {references[r] for r in recorded if r in references}

    def send(
        self,
        cause: str,
        subject: str,
        message: str,
        link: str | None = None,
        *,
        checked: bool = False,
    ) -> AlertResult:
        """Alert the operator about ``subject`` (a record id, a prong or a card) for ``cause``
        (a lower-case slug such as ``needs-attention``), unless that was done already
        (``checked``: the caller just read that it was not, with :meth:`already_sent`).
        ``link`` is the Airtable record or the status page. Raises a ClientError only when the
        receipts cannot be read or written (then nothing is known to be sent twice)."""
        key = ActionKey.alert(cause, subject)
        if self._to is None:
            log.debug("alert not sent: ALERT_EMAIL is not set", key=str(key))
            return AlertResult.NOT_CONFIGURED
        if not checked and self.already_sent([(cause, subject)]):
            return AlertResult.ALREADY_SENT
        now = self._deps.clock.now()
        event = emails.alert(
            cause=cause, subject=subject, message=message, link=link, key=key, to=self._to, at=now
        )
        if not send_email(self._deps, event, attempts=self._attempts, pause_seconds=self._pause):
            log.warning("alert email kept failing; the next call tries again", key=str(key))
            return AlertResult.FAILED
        receipt = ReceiptBase(key, ReceiptSource.DAEMON, now).make(
            ReceiptAction.ALERT_SENT, details=f"{cause} {subject}: {message}"
        )
        write_receipts(self._deps, [receipt])
        log.info("alert sent", key=str(key))
        return AlertResult.SENT
