"""Balance checks: the balance, read from Shopify, goes to the email given and nowhere else.

Key ``balance:<record id>``. Invalid Email and Format Incorrect (shape, or a failed check character
once nothing matched) send nothing. Found or not, ``Gift Card Balance`` has one shape (``found``,
``masked_code`` of the typed code, ``balance`` and ``expires_on`` null when not found): Outcome
Sent or Not Found, Status Done. A card still Pending counts as not found. The Balance Checked
receipt links the card when found and holds no balance; the request keeps the masked code only.
While the card is read, a stale Airtable Balance is refreshed from Shopify.

Hourly limits (``BALANCE_CHECKS_PER_HOUR`` per email and per code, 20 times that overall): a check
past a limit is Rate Limited (nothing looked up, nothing sent). The counts are seeded each run
from Airtable (``recent_balance_checks`` of the last hour), so they survive restarts and every
process agrees; within the run each answered check is added. Counted: every check answered
(Sent, Not Found, Format Incorrect, Error); not counted: Rate Limited and Invalid Email. A code
is counted by its digest (the HMAC of the normalized code, as Gift Cards keys cards), written to
the request's Code Digest when it is answered, since the request keeps only the masked code: so
strangers checking other cards that end in the same four characters never lock a holder out, and
the count survives restarts without a plaintext code at rest. A malformed code (Format
Incorrect) has no digest and counts only per email and overall.

No Processing mark is written first: every effect (the email, keyed by ``unique_id``; the
receipt, upserted) is idempotent, so a crashed check is simply handled again; a check found
Processing (from an operator) is not rate limited again. An email that keeps failing makes
Outcome Error (Needs Attention) with an Email Failed receipt.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import structlog

from cards.addresses import is_email
from cards.codes import digest
from cards.errors import InvariantViolation
from cards.keys import ActionKey
from cards.money import Money
from cards.status import status_for_balance
from cards.vocab import (
    Audience,
    BalanceOutcome,
    CardStatus,
    ReceiptAction,
    ReceiptSource,
    RequestStatus,
    request_status_for,
)
from clients.commands import CloseBalanceCheck, MirrorBalance
from clients.errors import AmbiguousOutcome, ClientError, Retryable
from clients.records import BalanceCheckRequest, CardRow, ShopifyCard
from prongs import emails
from prongs.exactly_once import again_if_ambiguous, update_card, write_request
from prongs.lookup import Lookup, find_by_code, parse_code
from prongs.notices import EmailJob, ReceiptBase, send_emails, write_receipts
from prongs.store_context import Context, Handled, failure_line

log = structlog.get_logger("giftbridge.prongs")

WINDOW = timedelta(hours=1)
OVERALL_FACTOR = 20
_COUNTED = {
    BalanceOutcome.SENT.value,
    BalanceOutcome.NOT_FOUND.value,
    BalanceOutcome.FORMAT_INCORRECT.value,
    BalanceOutcome.ERROR.value,
}


class CheckLimits:
    """The hourly counts, per email, per code digest and overall."""

    def __init__(self, per_hour: int, recent: list[BalanceCheckRequest]) -> None:
        self.per_hour = per_hour
        self.emails: Counter[str] = Counter()
        self.codes: Counter[str] = Counter()
        self.total = 0
        for check in recent:
            if check.outcome in _COUNTED:
                self.add(check.email, check.code_digest)

    @classmethod
    def seeded(cls, ctx: Context) -> CheckLimits:
        since = ctx.now() - WINDOW
        recent = again_if_ambiguous(lambda: ctx.deps.airtable.recent_balance_checks(since))
        return cls(ctx.config.balance_checks_per_hour, recent)

    def allows(self, email: str, code_digest: str | None) -> bool:
        return (
            self.emails[email.strip().lower()] < self.per_hour
            and (code_digest is None or self.codes[code_digest] < self.per_hour)
            and self.total < self.per_hour * OVERALL_FACTOR
        )

    def add(self, email: str | None, code_digest: str | None) -> None:
        self.emails[(email or "").strip().lower()] += 1
        if code_digest:
            self.codes[code_digest] += 1
        self.total += 1


def handle(ctx: Context, req: BalanceCheckRequest, limits: CheckLimits) -> Handled:
    key = ActionKey.balance(req.id)
    email = (req.email or "").strip()
    masked = Lookup(req.code_text or "", None, None, False).masked
    if not is_email(email):
        return _close_check(ctx, req, BalanceOutcome.INVALID_EMAIL, masked)
    code = parse_code(req.code_text)
    if code is None:
        limits.add(email, None)
        return _close_check(ctx, req, BalanceOutcome.FORMAT_INCORRECT, masked)
    checked = digest(code, ctx.card.pepper)
    if req.status != RequestStatus.PROCESSING and not limits.allows(email, checked):
        return _close_check(ctx, req, BalanceOutcome.RATE_LIMITED, masked, checked)
    limits.add(email, checked)
    try:
        found = find_by_code(ctx.deps, ctx.card, req.code_text)
        if found.format_incorrect:
            return _close_check(ctx, req, BalanceOutcome.FORMAT_INCORRECT, masked, checked)
        shopify_card = _read_shopify_card_and_refresh(ctx, found.card)
    except (ClientError, InvariantViolation) as exc:
        return _close_failed(ctx, req, masked, checked, exc)
    event = emails.balance(
        found=shopify_card is not None,
        masked_code=found.masked,
        amount=shopify_card.balance if shopify_card else None,
        expires_on=shopify_card.expires_on if shopify_card else None,
        currency=ctx.card.currency,
        key=key,
        to=email,
        at=ctx.now(),
    )
    card_id = found.card.id if found.card and shopify_card else None
    base = ReceiptBase(key, ReceiptSource.PORTAL, ctx.now(), card_id, request=req.id)
    mailing = send_emails(
        ctx.deps, ctx.card, [EmailJob(Audience.CUSTOMER, event, sent_receipt=False)], base
    )
    found_text = "found" if shopify_card else "not found"
    receipt = base.make(ReceiptAction.BALANCE_CHECKED, details=f"card {found_text}")
    write_receipts(ctx.deps, [receipt, *mailing.receipts])
    outcome = BalanceOutcome.SENT if shopify_card else BalanceOutcome.NOT_FOUND
    message = None
    if mailing.failed:
        outcome = BalanceOutcome.ERROR
        message = "The balance email kept failing; see the Email Failed receipt."
    return _close_check(ctx, req, outcome, found.masked, checked, message)


def _read_shopify_card_and_refresh(ctx: Context, card: CardRow | None) -> ShopifyCard | None:
    """The card as Shopify holds it (None when not found or not issued yet); refreshes a stale
    Airtable balance on the way."""
    if card is None or card.shopify_id is None or card.status == CardStatus.PENDING:
        return None
    shopify_id = card.shopify_id
    with ctx.deps.card_locks.hold_cards([card]):  # by the GID too: the online prongs' lock
        live = again_if_ambiguous(lambda: ctx.deps.shopify.get_card(shopify_id))
        if live is not None and card.balance != live.balance:
            _mirror_balance(ctx, card, live.balance)
    return live


def _mirror_balance(ctx: Context, card: CardRow, balance: Money) -> None:
    status = status_for_balance(card.status or CardStatus.ACTIVE, balance.is_zero)
    now = ctx.now()
    update_card(ctx.deps, MirrorBalance(card.id, balance, synced_at=now, status=status))


def _close_failed(
    ctx: Context, req: BalanceCheckRequest, masked: str, checked: str, exc: Exception
) -> Handled:
    line = failure_line(f"balance check {req.id}", exc)
    if isinstance(exc, AmbiguousOutcome | Retryable):
        log.warning("balance check left for the next run", key=f"balance:{req.id}")
        return Handled(None, line)  # nothing was sent: the next run answers it
    message = f"No balance was sent: {type(exc).__name__}: {exc}"
    _close_check(ctx, req, BalanceOutcome.ERROR, masked, checked, message)
    return Handled(BalanceOutcome.ERROR.value, line)


def _close_check(
    ctx: Context,
    req: BalanceCheckRequest,
    outcome: BalanceOutcome,
    masked: str,
    checked: str | None = None,
    message: str | None = None,
) -> Handled:
    closing = CloseBalanceCheck(
        req.id,
        status=request_status_for(outcome, balance_check=True),
        outcome=outcome,
        processed_at=ctx.now(),
        masked_code=masked or None,
        code_digest=checked,
        message=message,
    )
    write_request(ctx.deps, closing)
    log.info("balance check closed", key=f"balance:{req.id}", outcome=outcome.value)
    return Handled(outcome.value)
