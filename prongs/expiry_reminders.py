"""Reminders before a card expires: ``Gift Card Expiring Soon``, once per threshold and date.

The key is ``remind:<card record id>:<expires on>:<N>``: an extension gives the card a new date,
so its reminders start afresh under new keys. Exactly once, by the recipe:

1. One receipts read for every reminder due (``receipt_references``, 100 references a request):
   a reminder whose receipt exists was done. Which receipt marks it done depends on the card:
   **Reminder Sent** (``<key>:reminder-sent``) for a card with a holder email, **Email Failed**
   (``<key>:email-failed:recipient``, Details saying no email could go) for a card without one.
   So a card that gets an email address later is reminded then, and an email that kept failing
   (an Email Failed receipt, but no Reminder Sent) is tried again by the next run.
2. The event, ``unique_id`` ``<key>:recipient``: a run that died after sending and before its
   receipt sends it again, and Klaviyo drops the repeat.
3. The receipts of ten reminders in one upsert on Reference.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import structlog

from cards.keys import ActionKey
from cards.vocab import Audience, ReceiptAction, ReceiptSource
from clients.errors import ClientError
from prongs import emails
from prongs.exactly_once import again_if_ambiguous
from prongs.expiry_run import Due, ExpiryRun, required
from prongs.notices import ReceiptBase, send_email, write_receipts
from prongs.store_context import failure_line

log = structlog.get_logger("giftbridge.prongs")

REMINDER_SENT = "Reminder Sent"
NO_HOLDER_EMAIL = "No Holder Email"
EMAIL_FAILED = "Email Failed"


@dataclass(frozen=True, slots=True)
class Reminder:
    due: Due
    key: ActionKey

    @property
    def reference(self) -> str:
        """The receipt that marks this reminder done (see the module's docstring)."""
        if self.due.decision.holder_email is None:
            return self.key.reference(ReceiptAction.EMAIL_FAILED, Audience.RECIPIENT)
        return self.key.reference(ReceiptAction.REMINDER_SENT)


def reminder_for(due: Due) -> Reminder:
    decision = due.decision
    if decision.expires_on is None or decision.threshold is None:
        raise ValueError("only a REMIND decision has a reminder")
    return Reminder(due, ActionKey.remind(due.row.id, decision.expires_on, decision.threshold))


def send_reminders(run: ExpiryRun, due: Sequence[Due]) -> None:
    """Step 3 of a run: the reminders not done yet, ten at a time."""
    reminders = [reminder_for(d) for d in due]
    references = [r.reference for r in reminders]
    try:
        done = again_if_ambiguous(lambda: run.deps.airtable.receipt_references(references))
    except ClientError as exc:
        run.report.errors.append(failure_line("reading the reminders' receipts", exc))
        return
    todo = [r for r in reminders if r.reference not in done]
    run.in_groups(todo, lambda group: remind(run, group), "reminders")


def remind(run: ExpiryRun, group: Sequence[Reminder]) -> None:
    """Send each reminder of the group (or record that it cannot go), then its receipts."""
    deps, config = run.deps, run.config
    receipts = []
    outcomes = []
    for reminder in group:
        row, decision = reminder.due.row, reminder.due.decision
        expires_on = required(decision.expires_on, "date")
        balance = required(decision.balance, "balance")
        left = required(decision.days_left, "days left")
        base = ReceiptBase(reminder.key, ReceiptSource.DAEMON, run.now, row.id)
        what = (
            f"{decision.threshold}-day reminder: {left} day(s) left before {expires_on}, "
            f"{balance} on the card"
        )
        if decision.holder_email is None:
            receipts.append(
                base.make(
                    ReceiptAction.EMAIL_FAILED,
                    Audience.RECIPIENT,
                    details=f"Not sent: the card has no Recipient Email or Purchaser Email "
                    f"(fill one in and the next run sends it). {what}",
                )
            )
            outcomes.append(NO_HOLDER_EMAIL)
            continue
        event = emails.expiring_soon(
            row,
            balance=balance,
            expires_on=expires_on,
            days_left=left,
            business_name=config.business_name,
            key=reminder.key,
            to=decision.holder_email,
            at=run.now,
        )
        sent = send_email(
            deps, event, attempts=config.email_attempts, pause_seconds=config.email_retry_seconds
        )
        if sent:
            receipts.append(base.make(ReceiptAction.REMINDER_SENT, details=what))
            outcomes.append(REMINDER_SENT)
        else:
            detail = f"Gift Card Expiring Soon kept failing; the next run tries again. {what}"
            receipts.append(
                base.make(ReceiptAction.EMAIL_FAILED, Audience.RECIPIENT, details=detail)
            )
            outcomes.append(EMAIL_FAILED)
            log.warning("reminder email kept failing", key=str(reminder.key))
    write_receipts(deps, receipts)
    for outcome in outcomes:
        run.report.record(outcome)
