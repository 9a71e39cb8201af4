"""Bulk creation requests (Channel Bulk), issued in groups of ten that share their Airtable traffic.

Each request keeps its key ``create:<record id>`` and the exact steps of :mod:`prongs.issuance`
(the Pending row with Origin Key is the intent, ``giftCardCreate`` with the key's note, read back
on TAKEN or a lost answer); what changes is that the group's Airtable work is done together:

1. Validate each (:func:`prongs.creations.validate`, the one rule of every creation request);
   a linked store must be one Active store (:func:`_check_stores`, Not Allowed otherwise).
2. One read finds the group's rows by Origin Key; one request creates the missing Pending rows
   (after a lost answer the rows are looked up again, and only the still missing ones are
   created; a request Airtable refuses is retried row by row, so one bad row costs only itself).
3. Card by card, the Shopify card (nothing in Airtable yet).
4. One write activates every card created (Active, Issued At, Expires On, Balance).
5. Card by card, the record-copy certificate (one upload each: the row has none yet) and the
   emails (``Gift Card Issued`` to the recipient; a gift's purchaser's confirmation).
6. One upsert of every receipt (Created, Purchased, Sent; 10 a request), then one write closes
   every request (Done and Created; Needs Attention when an email kept failing; Rejected with its
   Outcome when validation refused it; Error for a card that cannot be issued).

So a card costs about 1.8 Airtable requests instead of 7. Every step is a recovery point: a crash
anywhere resumes on the next run from the rows found by Origin Key, and a step already done is
found done (the row is Active, it holds its certificate; an email repeats under its unique id,
a receipt under its Reference). ``between()`` runs before each card's Shopify and email steps
and before each of the group's writes: the store prong polls redemptions there, so a till never
waits for a group.

Bulk rows send no store notice: the operator who imported the file follows the batch with
``giftbridge cards import`` (a notice per card to a store for an order of hundreds would be noise).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

import structlog

from cards.creation import CreationProblem
from cards.errors import InvariantViolation
from cards.keys import ActionKey
from cards.money import Money
from cards.vocab import (
    Audience,
    CardStatus,
    CreationOutcome,
    RequestStatus,
    request_status_for,
)
from clients.commands import ActivateCard, CloseCreation, NewCardRow
from clients.errors import AmbiguousOutcome, ClientError, Permanent, Retryable
from clients.records import CardRow, CreationRequest, Receipt
from prongs.creations import created_message, error_message, resume_edited, validate
from prongs.exactly_once import (
    Unresolved,
    again_if_ambiguous,
    create_card_once,
    write_cards,
    write_requests,
)
from prongs.issuance import (
    Issued,
    IssueOrder,
    attach_record_copy,
    create_in_shopify,
    email_jobs,
    issuance_receipts,
    pending_card_row,
    receipt_base,
)
from prongs.notices import send_emails, write_receipts
from prongs.store_context import Context, Handled, failure_line

log = structlog.get_logger("giftbridge.prongs")
CREATE_ATTEMPTS = 3
RECEIPTS_PER_WRITE = 10  # Airtable's records per write


@dataclass
class Item:
    """One request of a group on its way through the steps."""

    req: CreationRequest
    order: IssueOrder | None = None
    refusal: CreationProblem | None = None  # validation said no, or the card cannot be issued
    row: CardRow | None = None
    activation: ActivateCard | None = None
    receipts: list[Receipt] = field(default_factory=list)
    failed: tuple[Audience, ...] = ()  # emails that kept failing
    left: Handled | None = None  # left for the next run (a transient failure)
    error: str | None = None  # a failure line for the run report

    @property
    def issuing(self) -> bool:
        return self.order is not None and self.refusal is None and self.left is None

    def fail(self, exc: BaseException) -> None:
        """Transient: leave it for the next run; otherwise the card cannot be issued: Error."""
        line = failure_line(f"creation {self.req.id}", exc)
        if isinstance(exc, Retryable | AmbiguousOutcome):
            log.warning("creation left to resume", key=str(ActionKey.create(self.req.id)))
            self.left = Handled(None, line)
            return
        self.refusal = CreationProblem(CreationOutcome.ERROR, error_message(exc))
        self.error = line


Between = Callable[[], None]


def handle_group(
    ctx: Context, group: Sequence[CreationRequest], between: Between | None = None
) -> list[Handled]:
    """Issue a group of at most ten bulk requests (see the module's docstring)."""
    pause = between or (lambda: None)
    items = [Item(req) for req in group]
    for item in items:
        checked = validate(ctx, item.req)
        if isinstance(checked, CreationProblem):
            item.refusal = checked
        else:
            item.order = checked
    _resume_edited(ctx, [i for i in items if i.refusal is not None])
    _check_stores(ctx, [i for i in items if i.issuing])
    pause()
    try:
        _find_or_create_rows(ctx, [i for i in items if i.issuing])
    except (ClientError, InvariantViolation) as exc:
        for item in items:
            if item.issuing:
                item.fail(exc)
    for item in items:
        if item.issuing:
            pause()
            _step(item, lambda i: _create_in_shopify(ctx, i))
    pause()
    _activate(ctx, items)
    for item in items:
        if item.issuing:
            pause()
            _step(item, lambda i: _certify_and_mail(ctx, i))
    _write_receipts(ctx, items, pause)
    pause()
    return _close(ctx, items)


def _resume_edited(ctx: Context, items: Sequence[Item]) -> None:
    """Refused requests whose card is already on its way go on from the recorded intent
    (:func:`prongs.creations.resume_edited`): one read for all of them."""
    if not items:
        return
    keys = {str(ActionKey.create(i.req.id)): i for i in items}
    try:
        found = again_if_ambiguous(lambda: ctx.deps.airtable.find_cards_by_origin_keys(list(keys)))
    except (ClientError, InvariantViolation) as exc:
        for item in items:
            item.fail(exc)
        return
    for key, rows in found.items():
        item = keys[key]
        if rows:
            value = rows[0].initial_value or Money.zero(ctx.card.currency)
            checked = resume_edited(ctx, item.req, value)
            item.order, item.refusal = (
                (checked, None) if isinstance(checked, IssueOrder) else (None, checked)
            )


def _check_stores(ctx: Context, items: Sequence[Item]) -> None:
    """Store authority (:mod:`cards.authority`): a Bulk request needs no store, but one it
    links must be one Active store, else Not Allowed; one whose card is already on its way (a
    row under its key) goes on, as it was authorised then."""
    try:
        refused = {
            i.req.id: why
            for i in items
            if (why := ctx.store_refusal(i.req.store_ids, required=False)) is not None
        }
        if refused:
            _take_found(ctx, [i for i in items if i.req.id in refused])
    except (ClientError, InvariantViolation) as exc:
        for item in items:
            item.fail(exc)
        return
    for item in items:
        if item.req.id in refused and item.row is None:
            item.refusal = CreationProblem(CreationOutcome.NOT_ALLOWED, refused[item.req.id])


def _step(item: Item, action: Callable[[Item], None]) -> None:
    try:
        action(item)
    except (ClientError, InvariantViolation) as exc:
        item.fail(exc)


# --- rows -----------------------------------------------------------------------------------


def _find_or_create_rows(ctx: Context, items: Sequence[Item]) -> None:
    """Each item's Gift Cards row by Origin Key; the missing ones created Pending together."""
    deps = ctx.deps
    _take_found(ctx, items)
    for _ in range(CREATE_ATTEMPTS):
        missing = [i for i in items if i.row is None and i.issuing]
        if not missing:
            return
        rows = [pending_card_row(ctx.card, _order(i)) for i in missing]
        try:
            created = deps.airtable.create_cards(rows)
        except AmbiguousOutcome:
            _take_found(ctx, missing)  # a create is never re-sent blind
            continue
        except Permanent:  # one row Airtable refuses must not cost the others
            _create_one_by_one(ctx, missing, rows)
            return
        for item, row in zip(missing, created, strict=True):
            item.row = row
    for item in items:
        if item.row is None and item.issuing:
            item.fail(Unresolved("airtable", "create cards", f"{_order(item).key} still unknown"))


def _take_found(ctx: Context, items: Sequence[Item]) -> None:
    keys = [str(_order(i).key) for i in items]
    found = again_if_ambiguous(lambda: ctx.deps.airtable.find_cards_by_origin_keys(keys))
    for item in items:
        rows = found.get(str(_order(item).key), [])
        if len(rows) > 1:
            ids = ", ".join(r.id for r in rows)
            item.fail(InvariantViolation(f"Gift Cards rows {ids} share one Origin Key"))
        elif rows:
            item.row = rows[0]


def _create_one_by_one(ctx: Context, items: Sequence[Item], rows: Sequence[NewCardRow]) -> None:
    for item, row in zip(items, rows, strict=True):
        try:
            item.row = create_card_once(ctx.deps, row)
        except (ClientError, InvariantViolation) as exc:
            item.fail(exc)


def _order(item: Item) -> IssueOrder:
    if item.order is None:
        raise InvariantViolation(f"creation {item.req.id} has no card to issue")
    return item.order


# --- Shopify, activation, certificate and emails ------------------------------------------


def _create_in_shopify(ctx: Context, item: Item) -> None:
    row = _row(item)
    if row.status == CardStatus.VOIDED:
        raise InvariantViolation(f"card {row.id} of {_order(item).key} was voided before issue")
    if row.status == CardStatus.PENDING or row.shopify_id is None:
        item.activation = create_in_shopify(ctx.deps, ctx.card, _order(item), row)


def _activate(ctx: Context, items: Sequence[Item]) -> None:
    """One write for every card the group created in Shopify."""
    due = [i for i in items if i.issuing and i.activation is not None]
    try:
        refused = write_cards(ctx.deps, [_activation(i) for i in due])
    except (ClientError, InvariantViolation) as exc:
        for item in due:
            item.fail(exc)
        return
    for item in due:
        activation = _activation(item)
        if activation.card_id in refused:
            item.fail(refused[activation.card_id])
            continue
        item.row = _activated(_row(item), activation)


def _activated(row: CardRow, activation: ActivateCard) -> CardRow:
    """The row as the activation writes it."""
    return replace(
        row,
        status=CardStatus.ACTIVE,
        shopify_id=activation.shopify_id,
        expires_on=activation.expires_on,
        balance=activation.balance,
        issued_at=activation.at,
        last_activity_at=activation.at,
        last_synced_at=activation.at,
    )


def _certify_and_mail(ctx: Context, item: Item) -> None:
    row, order = _row(item), _order(item)
    if not row.certificate_ids:
        attach_record_copy(ctx.deps, ctx.card, row, fresh=True)
    base = receipt_base(ctx.deps, order, row)
    mailing = send_emails(ctx.deps, ctx.card, email_jobs(ctx.deps, ctx.card, order, row), base)
    item.receipts = issuance_receipts(order, row, base, mailing.receipts)
    item.failed = tuple(mailing.failed)
    log.info("card issued", key=str(order.key), card=row.id, masked=row.masked_code)


def _row(item: Item) -> CardRow:
    if item.row is None:
        raise InvariantViolation(f"creation {item.req.id} has no Gift Cards row")
    return item.row


def _activation(item: Item) -> ActivateCard:
    if item.activation is None:
        raise InvariantViolation(f"creation {item.req.id} has no activation")
    return item.activation


# --- receipts and closings ------------------------------------------------------------------


def _write_receipts(ctx: Context, items: Sequence[Item], pause: Between) -> None:
    """Ten receipts an upsert, the redemptions polled between two."""
    issued = [i for i in items if i.issuing and i.receipts]
    receipts = [r for i in issued for r in i.receipts]
    try:
        for start in range(0, len(receipts), RECEIPTS_PER_WRITE):
            pause()
            write_receipts(ctx.deps, receipts[start : start + RECEIPTS_PER_WRITE])
    except ClientError as exc:  # the cards stand; a transient failure is written next run
        for item in issued:
            item.fail(exc)


def _close(ctx: Context, items: Sequence[Item]) -> list[Handled]:
    closings = {item.req.id: _closing(ctx, item) for item in items if item.left is None}
    try:
        refused = write_requests(ctx.deps, list(closings.values()))
    except ClientError as exc:
        line = failure_line("closing bulk creations", exc)
        return [item.left or Handled(None, line) for item in items]
    return [_handled(item, closings, refused) for item in items]


def _closing(ctx: Context, item: Item) -> CloseCreation:
    if item.refusal is not None:
        outcome = item.refusal.outcome
        return CloseCreation(
            item.req.id,
            status=request_status_for(outcome),
            outcome=outcome,
            message=item.refusal.message,
            processed_at=ctx.now(),
        )
    row = _row(item)
    return CloseCreation(
        item.req.id,
        status=request_status_for(CreationOutcome.CREATED, email_failed=bool(item.failed)),
        outcome=CreationOutcome.CREATED,
        message=created_message(row, Issued(row, (), item.failed)),
        processed_at=ctx.now(),
        card_id=row.id,
    )


def _handled(
    item: Item, closings: dict[str, CloseCreation], refused: dict[str, Permanent]
) -> Handled:
    if item.left is not None:
        return item.left
    if item.req.id in refused:
        return Handled(None, failure_line(f"closing creation {item.req.id}", refused[item.req.id]))
    closing = closings[item.req.id]
    if closing.status == RequestStatus.NEEDS_ATTENTION and closing.outcome == CreationOutcome.ERROR:
        return Handled(closing.outcome.value, item.error)
    return Handled(closing.outcome.value)
