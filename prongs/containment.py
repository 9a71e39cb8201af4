"""One request never holds up another (DESIGN.md): attempts counted, and giving up after three.

An *unexpected* exception while handling a request (anything that is not a ``ClientError`` or
``InvariantViolation``, which the handlers already turn into an outcome: a value no rule
foresaw, a bug) is contained to that request: the run goes on with the others, and the request
is left as it is, which the exactly-once recipe makes safe to handle again (a debit or card
made before the failure is found again by its key). It counts as one *attempt*; so does a
process that died while handling the request (a crash, a kill, the watchdog). A request whose
attempts have failed :data:`MAX_ATTEMPTS` times is not handled again: :func:`give_up` closes it
Needs Attention, Outcome Error, with a Result Message an operator can act on and the typed code
masked.

Where attempts are kept: in an :class:`AttemptBook` the daemon holds for the store prong across
its runs, saved in ``STATE_DIR`` (``daemon.attempts_file``). Not in Airtable: counting there would
cost a write per request on the hot path (or miss the crashes that kill the process before a
write), and Airtable's requests are the tills' scarcest resource. A book is lost only with
``STATE_DIR`` or when another machine's daemon takes the prong over; either way a request gets
at most three more attempts, each safe by the recipe.

A request with a failed attempt is handled on its own, never in a group of redemptions again, so
a request that keeps failing cannot take nine others down with it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog

from cards.keys import ActionKey
from cards.masking import mask_codes
from cards.vocab import (
    BalanceOutcome,
    CardActionOutcome,
    CreationOutcome,
    RedemptionOutcome,
    RequestStatus,
)
from clients.commands import (
    CloseBalanceCheck,
    CloseCardAction,
    CloseCreation,
    CloseRedemptionMinimally,
    RequestWrite,
)
from clients.records import (
    BalanceCheckRequest,
    CardActionRequest,
    CreationRequest,
    RedemptionRequest,
)
from prongs import emails
from prongs.exactly_once import write_request
from prongs.lookup import Lookup
from prongs.notices import send_email
from prongs.store_context import Context, Handled

log = structlog.get_logger("giftbridge.prongs")

MAX_ATTEMPTS = 3
FORGET_AFTER = timedelta(days=7)  # a failed request nobody saw again (deleted) is forgotten
DIED = "the process stopped while handling it"

Request = RedemptionRequest | CreationRequest | BalanceCheckRequest | CardActionRequest


@dataclass(frozen=True, slots=True)
class Failures:
    """A request's failed attempts so far and the last failure, one line (codes masked)."""

    count: int
    last_error: str
    at: datetime


class AttemptBook:
    """Failed attempts by request record id, kept in memory; :meth:`_save` (a subclass's) keeps
    them across restarts. Requests handled now are *in flight*: one still in flight when the
    next run begins (or when a saved book is loaded) never finished, and counts as failed.

    One thread uses a book (the store prong's)."""

    def __init__(self) -> None:
        self.failures: dict[str, Failures] = {}
        self.in_flight: set[str] = set()

    def count(self, record_id: str) -> int:
        found = self.failures.get(record_id)
        return found.count if found else 0

    def last_error(self, record_id: str) -> str:
        found = self.failures.get(record_id)
        return found.last_error if found else ""

    def settle(self, now: datetime) -> None:
        """Count the requests whose handling never ended (the process died meanwhile)."""
        if self.in_flight:
            for stale in sorted(self.in_flight):
                self._failed(stale, DIED, now)
            self.in_flight = set()
            self._save()

    def begin(self, record_ids: list[str], now: datetime) -> None:
        """These requests are about to be handled. Handlings nest (a bulk group polls and
        handles redemptions between its cards), so this adds to what is in flight: only a new
        run or a new process (:meth:`settle`) counts what is left as failed."""
        self.in_flight |= set(record_ids)
        self._forget_old(now)
        self._save()

    def end(self, results: dict[str, str | None], now: datetime) -> None:
        """Handling ended: ``results`` maps each request to the line of its unexpected failure,
        or None when it was handled (finished, or left by design for the next run)."""
        changed = bool(self.in_flight)
        self.in_flight -= results.keys()
        for record_id, error in results.items():
            if error is not None:
                self._failed(record_id, error, now)
                changed = True
            elif self.failures.pop(record_id, None) is not None:
                changed = True
        if changed:
            self._save()

    def _failed(self, record_id: str, error: str, now: datetime) -> None:
        count = self.count(record_id) + 1
        error = mask_codes(error)[:500]  # an unexpected exception's text may hold what was typed
        self.failures[record_id] = Failures(count, error, now)
        log.warning("attempt failed", record=record_id, attempts=count, error=error[:200])

    def _forget_old(self, now: datetime) -> None:
        for record_id in [r for r, f in self.failures.items() if now - f.at > FORGET_AFTER]:
            del self.failures[record_id]

    def _save(self) -> None:
        """Keep the book (a subclass writes it to disk); in memory, nothing to do."""


def give_up(ctx: Context, req: Request, failures: int, last_error: str) -> Handled:
    """Close a request that failed ``failures`` times: Needs Attention, Outcome Error, a Result
    Message saying what to check, the typed code masked. A redemption's store hears at once (a
    clerk is waiting); nothing else is attempted."""
    key, now = _key(req), ctx.now()
    tried = f"giftbridge failed {failures} times to handle this request (last: {last_error})."
    masked = _masked(getattr(req, "code_text", None))
    write: RequestWrite
    outcome: str = RedemptionOutcome.ERROR.value  # "Error" in every queue
    match req:
        case RedemptionRequest():
            message = f"{tried} {_redemption_advice(req, key)}"
            write = CloseRedemptionMinimally(
                req.id, RedemptionOutcome.ERROR, message, now, masked_code=masked
            )
            _tell_store_best_effort(ctx, req, key, masked, message)
        case CreationRequest():
            message = (
                f"{tried} Look in Gift Cards for Origin Key {key}: an Active row there means "
                "the card was issued; otherwise fix the request and submit it again."
            )
            write = CloseCreation(
                req.id, RequestStatus.NEEDS_ATTENTION, CreationOutcome.ERROR, message, now
            )
        case BalanceCheckRequest():
            message = f"{tried} No balance was sent; the customer may check again."
            write = CloseBalanceCheck(
                req.id,
                RequestStatus.NEEDS_ATTENTION,
                BalanceOutcome.ERROR,
                now,
                masked_code=masked,
                message=message,
            )
        case CardActionRequest():
            message = (
                f"{tried} Check the card's Shopify transactions for the note giftbridge {key} "
                "before asking for the action again."
            )
            write = CloseCardAction(
                req.id, RequestStatus.NEEDS_ATTENTION, CardActionOutcome.ERROR, message, now
            )
    write_request(ctx.deps, write)
    log.error("request given up", key=str(key), attempts=failures)
    return Handled(outcome)


def _key(req: Request) -> ActionKey:
    match req:
        case RedemptionRequest():
            return ActionKey.redeem(req.id)
        case CreationRequest():
            return ActionKey.create(req.id)
        case BalanceCheckRequest():
            return ActionKey.balance(req.id)
        case CardActionRequest():
            return ActionKey.action(req.id)


def _masked(code_text: str | None) -> str | None:
    """What was typed, masked, whatever it is (the code may never have been parsed)."""
    return (Lookup(code_text, None, None, False).masked or None) if code_text else None


def _redemption_advice(req: RedemptionRequest, key: ActionKey) -> str:
    if req.status == RequestStatus.PROCESSING:
        return (
            f"A debit may have been made: check the card's Shopify transactions for the note "
            f"giftbridge {key} before redeeming again."
        )
    return "Nothing was debited; check the Code and Amount and submit a new request."


def _tell_store_best_effort(
    ctx: Context, req: RedemptionRequest, key: ActionKey, masked: str | None, message: str
) -> None:
    try:
        store = ctx.store(req.store_ids)
        if store is None or not store.email:
            return
        event = emails.store_notice(
            notice=emails.STORE_NOTICE_REDEMPTION,
            outcome=RedemptionOutcome.ERROR.value,
            masked_code=masked,
            amount=None,
            currency=ctx.card.currency,
            balance_after=None,
            request_id=req.id,
            message=message,
            key=key,
            to=store.email,
            at=ctx.now(),
        )
        send_email(ctx.deps, event, attempts=ctx.card.email_attempts, pause_seconds=0)
    except Exception as exc:  # the closing write matters; the notice is a courtesy
        log.warning("store notice of a given-up request failed", key=str(key), error=str(exc))

