"""``giftbridge check --rehearse``: the go-live rehearsal, against the real services.

After ``check`` passed, it does once, for real, what the daemon will do every day, and says what
each step proved:

1. Shopify: creates a card of ``MIN_AMOUNT`` (note ``giftbridge rehearsal:<run>``), debits the
   currency's smallest unit and credits it back, then deactivates the card for good.
2. Airtable: writes one receipt per Shopify step (Reference ``rehearsal:<run>:<step>``, Details
   ``rehearsal ...``: ``cards.ledger.is_rehearsal`` leaves them out of every report), and one
   test row in each request table, deleted at once (``clients/airtable_rehearsal.py``).
3. Klaviyo: sends one ``Giftbridge Alert`` to ``ALERT_EMAIL`` (cause ``rehearsal``).

Nothing it does looks like business: its card is never in Gift Cards, its receipts are marked,
its rows are born final and deleted. Safe to run twice (every run has its own id and code) and
safe to interrupt: a journal in ``STATE_DIR/rehearsal.json`` is written before each outside
effect (the card's code only sealed, under ``CODE_KEY``), and the next run first finishes what
an interrupted one left (deactivates its card, deletes its rows). What is left behind on
purpose is said at the end: the deactivated card in Shopify (Shopify cannot delete a card) and
the marked receipts.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from cards.codes import Code, generate, mask_last4, seal, unseal
from cards.money import Money
from cards.vocab import Audience, Metric, ReceiptAction, ReceiptSource
from clients.errors import AmbiguousOutcome, ClientError, CodeTaken, InvariantViolation
from clients.records import EmailEvent, Receipt, ShopifyCard, TransactionResult
from daemon.lockfile import AlreadyRunning, LockFile
from daemon.rehearsal_ports import (
    JOURNAL,
    Journal,
    RehearsalPorts,
    RehearsalSetup,
    RehearsalShop,
)

LOCK = "rehearsal.lock"
Say = Callable[[str], None]


@dataclass
class RehearsalReport:
    ok: bool = True
    proved: list[str] = field(default_factory=list)
    left: list[str] = field(default_factory=list)  # what stays behind


class StepFailed(Exception):
    """One step could not be done; the message says which and why."""


def new_run_id(now: datetime) -> str:
    return f"{now:%Y%m%d-%H%M%S}-{secrets.token_hex(2)}"


def rehearse(setup: RehearsalSetup, ports: RehearsalPorts, say: Say) -> RehearsalReport:
    """The whole rehearsal, printing as it goes; never raises a ClientError."""
    try:
        lock = LockFile(setup.state_dir, LOCK).acquire()
    except AlreadyRunning:
        say("rehearsal: another rehearsal is running on this STATE_DIR: wait for it to finish")
        return RehearsalReport(ok=False)
    try:
        return _rehearse(setup, ports, say)
    finally:
        lock.release()


def _rehearse(setup: RehearsalSetup, ports: RehearsalPorts, say: Say) -> RehearsalReport:
    report = RehearsalReport()
    path = setup.state_dir / JOURNAL
    say(f"rehearsal: against the services above; a card of {setup.amount} is made and spent")
    try:
        _clean_up_after(Journal.load(path), setup, ports, say)
        journal = Journal(path, new_run_id(datetime.now(UTC)))
        journal.save()
        _run_steps(journal, setup, ports, report, say)
    except KeyboardInterrupt:
        say("rehearsal: interrupted; run `giftbridge check --rehearse` again to clean up")
        raise
    except (ClientError, InvariantViolation, StepFailed) as exc:
        report.ok = False
        say(f"rehearsal: FAILED: {exc}")
        say(
            "rehearsal: what it left is cleaned up by the next `giftbridge check --rehearse` "
            "(a card it made is deactivated, its test rows deleted)"
        )
        return report
    for line in report.left:
        say(f"left behind: {line}")
    say("rehearsal: every step passed")
    return report


def _run_steps(
    journal: Journal,
    setup: RehearsalSetup,
    ports: RehearsalPorts,
    report: RehearsalReport,
    say: Say,
) -> None:
    def proved(line: str) -> None:
        report.proved.append(line)
        say(f"proved: {line}")

    run, shop = journal.run, ports.shop
    card = _create_card(journal, setup, shop)
    proved(
        f"Shopify created a card of {card.initial_value} ({card.id}, "
        f"{mask_last4(card.last_characters)}, note giftbridge rehearsal:{run}): write_gift_cards"
    )
    debit = _move(shop, card.id, setup.unit, f"giftbridge rehearsal:{run}:debit", debit=True)
    credit = _move(shop, card.id, setup.unit, f"giftbridge rehearsal:{run}:credit", debit=False)
    proved(
        f"Shopify debited {setup.unit} (balance {debit.balance_after}) and credited it back "
        f"(balance {credit.balance_after}): write_gift_card_transactions"
    )
    shop.deactivate_card(card.id)
    journal.deactivated = True
    journal.save()
    proved("Shopify deactivated the card for good: it can never be spent")
    ports.email.send(_alert(run, setup))
    proved(
        f"Klaviyo took one Giftbridge Alert for {setup.alert_email}: it should arrive within "
        "minutes (if it does not, the Giftbridge Alert flow is not live in Klaviyo)"
    )
    receipts = _receipts(run, card, setup, debit, credit)
    ports.receipts.upsert_receipts(receipts)
    proved(
        f"Airtable took {len(receipts)} receipts marked rehearsal (Reference rehearsal:{run}:..., "
        "left out of every report)"
    )
    for table in ports.rows.tables:
        ports.rows.delete_row(table, ports.rows.write_test_row(table, run))
    proved(
        "Airtable wrote and deleted a test row in each request table ("
        + ", ".join(ports.rows.tables)
        + ")"
    )
    journal.clear()
    report.left += [
        f"the deactivated card {card.id} in Shopify (note giftbridge rehearsal:{run}): Shopify "
        "cannot delete a card, and this one can no longer be spent",
        f"{len(receipts)} receipts in Airtable with Reference rehearsal:{run}:... (left out of "
        "every report)",
    ]


# --- the steps ----------------------------------------------------------------------------------
def _create_card(journal: Journal, setup: RehearsalSetup, shop: RehearsalShop) -> ShopifyCard:
    code = generate(setup.code_length)
    note = f"giftbridge rehearsal:{journal.run}"
    journal.code_sealed = seal(code, setup.code_key)  # never the plaintext code
    journal.save()
    try:
        card = shop.create_card(code, setup.amount, note, None)
    except (AmbiguousOutcome, CodeTaken):  # read back before anything else
        found = _ours(shop, code, note)
        if found is None:
            raise StepFailed(
                "Shopify: the card's creation went unanswered and no card has its code"
            ) from None
        card = found
    journal.card_id = card.id
    journal.save()
    return card


def _ours(shop: RehearsalShop, code: Code, note: str) -> ShopifyCard | None:
    return next((c for c in shop.find_cards_by_code(code) if c.note == note), None)


def _move(
    shop: RehearsalShop, card_id: str, amount: Money, note: str, *, debit: bool
) -> TransactionResult:
    """A debit or credit; an unanswered one is read back by its note before it is sent again."""
    send = shop.debit if debit else shop.credit
    try:
        return send(card_id, amount, note)
    except AmbiguousOutcome:
        done = shop.find_transaction_by_note(card_id, note)
        if done is None:
            return send(card_id, amount, note)
        card = shop.get_card(card_id)
        if card is None:
            raise StepFailed(f"Shopify: the card {card_id} is gone") from None
        return TransactionResult(done, card.balance)


def _alert(run: str, setup: RehearsalSetup) -> EmailEvent:
    return EmailEvent(
        metric=Metric.ALERT,
        email=setup.alert_email,
        unique_id=f"rehearsal:{run}:{Audience.OPERATOR.value}",
        properties={
            "cause": "rehearsal",
            "subject": f"rehearsal:{run}",
            "message": (
                "giftbridge's go-live rehearsal: if you read this, giftbridge's alerts reach "
                "you. Nothing needs doing."
            ),
            "link": setup.status_page,
        },
        time=datetime.now(UTC),
    )


def _receipts(
    run: str,
    card: ShopifyCard,
    setup: RehearsalSetup,
    debit: TransactionResult,
    credit: TransactionResult,
) -> list[Receipt]:
    """One receipt per effect, each marked twice (Reference and Details) as a rehearsal's."""
    now, ref, source = datetime.now(UTC), f"rehearsal:{run}", ReceiptSource.DAEMON
    details = f"rehearsal {run} (giftbridge check --rehearse): a test, not business"
    a = ReceiptAction
    zero = Money.zero(setup.amount.currency)
    return [
        Receipt(f"{ref}:created", a.CREATED, now, source, amount=setup.amount,
                balance_after=setup.amount, shopify_reference=card.id, details=details),
        Receipt(f"{ref}:debit:adjusted", a.ADJUSTED, now, source, amount=-setup.unit,
                balance_before=setup.amount, balance_after=debit.balance_after,
                shopify_reference=debit.transaction.id, details=details),
        Receipt(f"{ref}:credit:adjusted", a.ADJUSTED, now, source, amount=setup.unit,
                balance_before=debit.balance_after, balance_after=credit.balance_after,
                shopify_reference=credit.transaction.id, details=details),
        Receipt(f"{ref}:voided", a.VOIDED, now, source, amount=credit.balance_after,
                balance_before=credit.balance_after, balance_after=zero,
                shopify_reference=card.id, details=details),
        Receipt(f"{ref}:alert-sent", a.ALERT_SENT, now, source, details=details),
    ]  # fmt: skip


# --- what an interrupted run left ---------------------------------------------------------------
def _clean_up_after(
    journal: Journal | None, setup: RehearsalSetup, ports: RehearsalPorts, say: Say
) -> None:
    """Deactivate the card an interrupted run made and delete every rehearsal's test rows."""
    deleted = 0
    for table in ports.rows.tables:
        for record_id in ports.rows.leftover_rows(table):
            ports.rows.delete_row(table, record_id)
            deleted += 1
    if deleted:
        say(f"rehearsal: deleted {deleted} test row(s) an earlier rehearsal left")
    if journal is None:
        return
    card_id = journal.card_id
    if card_id is None and journal.code_sealed and not journal.deactivated:
        code = unseal(journal.code_sealed, setup.code_key)
        found = _ours(ports.shop, code, f"giftbridge rehearsal:{journal.run}")
        card_id = found.id if found else None
    if card_id is not None and not journal.deactivated:
        card = ports.shop.get_card(card_id)
        if card is not None and card.enabled:
            ports.shop.deactivate_card(card_id)
            say(f"rehearsal: deactivated the card {card_id} an interrupted rehearsal made")
    journal.clear()
