"""Bulk issuance from the operator's side: write a checked file's rows, follow them, sum up.

``giftbridge cards import`` calls, at ``Priority.BULK``::

    store = choose_store(airtable.stores(), name)      # --store NAME, or None
    plan = plan_import(bulk, checked_file, store)       # what is there already, what repeats
    written = write_rows(bulk, plan)                    # the missing rows, 10 an upsert
    summary = follow(bulk, plan, clock, tick)           # until every row is final

Each row of the file becomes a Creation Requests row (Channel Bulk, Batch, Import Key
``import:<batch>:<line>``), upserted on its Import Key: a crash half-way and a re-run write each
row once, and the same file imported again writes nothing. The store prong issues the rows
(:mod:`prongs.bulk_issuance`).

A file with a changed row has another batch, so every row of it is a new request. Issuing the
same cards twice costs money, so :func:`plan_import` looks for rows that repeat rows of an earlier
batch (same recipient, email and amount; one read, for the file's first 40 recipients) and the
command says so and asks before writing.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from cards.bulk import BulkFile, BulkRow
from cards.errors import GiftbridgeError
from cards.vocab import CreationOutcome, RequestStatus
from clients.commands import NewCreationRequest
from clients.ports import BulkPort, Clock
from clients.records import CreationRequest, Store

PAGE = 100
SECONDS_PER_PAGE = 3.0  # following a batch costs at most one read every 3 s per 100 open rows
STALL_SECONDS = 120.0  # no row moved for this long: say the daemon may not be running
REPEAT_SAMPLE = 40  # recipients of the file looked up in earlier batches (one formula)


class ImportRefused(GiftbridgeError):
    """The import cannot go ahead as asked; the message says why and what to do."""


def choose_store(stores: Sequence[Store], name: str) -> Store:
    """The Active store called ``name`` (ignoring case and surrounding spaces)."""
    wanted = name.strip().casefold()
    named = [s for s in stores if s.name.strip().casefold() == wanted]
    active = sorted(s.name for s in stores if s.active)
    if not named:
        listed = ", ".join(active) if active else "none"
        raise ImportRefused(f"no store is called {name!r} in Stores (Active stores: {listed})")
    if len(named) > 1:
        ids = ", ".join(s.id for s in named)
        raise ImportRefused(f"several stores are called {name!r} ({ids}): rename one in Stores")
    if not named[0].active:
        raise ImportRefused(
            f"the store {named[0].name!r} is not Active: tick Active in Stores, or name another"
        )
    return named[0]


def new_row(row: BulkRow, batch: str, store: Store | None) -> NewCreationRequest:
    ask, valid = row.ask, row.valid
    return NewCreationRequest(
        import_key=row.import_key(batch),
        batch=batch,
        amount=valid.amount,
        purchaser_name=valid.purchaser_name,
        purchaser_email=valid.purchaser_email,
        recipient_name=(ask.recipient_name or "").strip(),
        recipient_email=(ask.recipient_email or "").strip(),
        is_gift=valid.is_gift,
        message=valid.message,
        kind=valid.kind,
        theme=valid.theme,
        store_id=store.id if store else None,
    )


@dataclass(frozen=True, slots=True)
class Repeat:
    """A row of this file that an earlier batch holds too (same recipient and amount)."""

    line: int
    batch: str
    earlier_line: int | None
    status: RequestStatus | None


@dataclass(frozen=True, slots=True)
class Plan:
    batch: str
    rows: tuple[NewCreationRequest, ...]
    existing: frozenset[str]  # Import Keys already in Airtable
    repeats: tuple[Repeat, ...] = ()

    @property
    def missing(self) -> list[NewCreationRequest]:
        return [r for r in self.rows if r.import_key not in self.existing]


def plan_import(bulk: BulkPort, checked: BulkFile, store: Store | None) -> Plan:
    """The file's rows, which of them Airtable holds already, and which repeat an earlier
    batch (two reads)."""
    if checked.problems:
        raise ImportRefused("the file has problems: nothing is imported")
    rows = tuple(new_row(r, checked.batch, store) for r in checked.rows)
    existing = frozenset(r.import_key for r in bulk.batch_requests(checked.batch) if r.import_key)
    repeats = () if existing else _repeats(bulk, checked.batch, rows)
    return Plan(checked.batch, rows, existing, repeats)


def _repeats(bulk: BulkPort, batch: str, rows: Sequence[NewCreationRequest]) -> tuple[Repeat, ...]:
    # As the earlier import wrote them (a formula compares text exactly); matched ignoring case.
    emails = list(dict.fromkeys(r.recipient_email for r in rows))[:REPEAT_SAMPLE]
    earlier: dict[tuple[str, str, Decimal], CreationRequest] = {}
    for req in bulk.bulk_requests_for(emails):
        if req.batch != batch and req.recipient_email and req.amount is not None:
            name = (req.recipient_name or "").strip().casefold()
            earlier.setdefault((req.recipient_email.casefold(), name, req.amount), req)
    found = []
    for row in rows:
        key = (row.recipient_email.casefold(), row.recipient_name.casefold(), row.amount.amount)
        match = earlier.get(key)
        if match is not None:
            line, status = _line(match), match.status
            found.append(Repeat(line_of(row.import_key), match.batch or "?", line, status))
    return tuple(found)


def write_rows(bulk: BulkPort, plan: Plan) -> int:
    """Upsert the rows Airtable does not hold yet (10 a request); returns how many it created."""
    missing = plan.missing
    return bulk.import_creation_requests(missing) if missing else 0


def line_of(import_key: str) -> int:
    """``import:<batch>:<line>`` -> line."""
    tail = import_key.rsplit(":", 1)[-1]
    return int(tail) if tail.isdigit() else 0


def _line(req: CreationRequest) -> int | None:
    return line_of(req.import_key) if req.import_key else None


# --- following the batch ----------------------------------------------------------------------

FINAL = frozenset({RequestStatus.DONE, RequestStatus.REJECTED, RequestStatus.NEEDS_ATTENTION})


@dataclass(frozen=True, slots=True)
class RowEnd:
    line: int
    status: RequestStatus | None
    outcome: str | None
    message: str | None


@dataclass(frozen=True, slots=True)
class BatchSummary:
    """Where the batch's rows ended: counts by Outcome, and the rows a person should read."""

    batch: str
    rows: int
    created: int
    open: int
    outcomes: dict[str, int] = field(default_factory=dict)  # final rows by Outcome
    not_created: tuple[RowEnd, ...] = ()  # Rejected or Needs Attention, by line

    @property
    def all_created(self) -> bool:
        return self.created == self.rows


def summarize(batch: str, requests: Sequence[CreationRequest]) -> BatchSummary:
    ends = sorted(
        (RowEnd(_line(r) or 0, r.status, r.outcome, r.result_message) for r in requests),
        key=lambda e: e.line,
    )
    final = [e for e in ends if e.status in FINAL]
    created = [e for e in final if e.outcome == CreationOutcome.CREATED.value]
    return BatchSummary(
        batch=batch,
        rows=len(ends),
        created=len(created),
        open=len(ends) - len(final),
        outcomes=dict(Counter(e.outcome or "(none)" for e in final)),
        not_created=tuple(
            e
            for e in final
            if e.outcome != CreationOutcome.CREATED.value or e.status != RequestStatus.DONE
        ),
    )


Tick = Callable[[int, int], None]  # (rows final, rows in the batch)


def follow(
    bulk: BulkPort,
    batch: str,
    rows: int,
    clock: Clock,
    tick: Tick,
    on_stall: Callable[[], None] | None = None,
) -> BatchSummary:
    """Poll the batch's open rows (one filtered read, only their Import Key and Status) until
    none is left, then read every row once for the summary. Polls come every 3 s per page of
    open rows (at least 3 s), so following a batch of hundreds costs a fraction of a request a
    second. ``on_stall`` is told once when no row moved for two minutes."""
    done, moved_at, stalled = -1, clock.monotonic(), False
    while True:
        still_open = len(bulk.batch_requests(batch, open_only=True))
        now_done = max(0, rows - still_open)
        if now_done != done:
            done, moved_at = now_done, clock.monotonic()
            tick(done, rows)
        if still_open == 0:
            break
        if not stalled and on_stall and clock.monotonic() - moved_at >= STALL_SECONDS:
            stalled = True
            on_stall()
        pages = -(-still_open // PAGE)
        clock.sleep(SECONDS_PER_PAGE * pages)
    return summarize(batch, bulk.batch_requests(batch))
