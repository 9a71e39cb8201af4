"""Who may act for a prong: a lease on its Status row that two processes can never both hold.

Airtable has no compare-and-set, so the lease is Fischer's timed mutual exclusion over the row,
under one timing assumption, and effects are refused whenever ownership is not proven.

**Claiming** (:meth:`ProngLease.assess`, :func:`claim`): read the row; it is *free* when its
Lease Expires At is empty (released, or never taken), when it names a process that used this
``STATE_DIR`` before (we hold the directory's lock, so that process is gone), or when we have seen
it unchanged (same Owner, Heartbeat At and Lease Expires At) for a whole lease period on our own
monotonic clock; a Paused row is never taken. Write ``Owner = us``, Lease Expires At and
Heartbeat At (a fresh instant, so the write is recognisably this one), and keep the claim only if
the write's acknowledgement came within ``Δ`` (:data:`CLAIM_ACK_SECONDS`) of *sending* the read
that found the row free. Wait ``D > Δ`` (:data:`CLAIM_WAIT_SECONDS`), read again: the lease is
ours only if the row still shows our write.

*Why two claimants cannot both win.* Time here is real time; our monotonic clocks measure
durations of a few seconds, so their rates can be taken as equal. Let A and B both win, with
their claim writes landing at ``w_A < w_B``. A's check read came at ``c_A >= w_A + D`` and showed
A's write, so no write landed between ``w_A`` and ``c_A``: ``c_A < w_B``. B's write landed by its
acknowledgement, within ``Δ`` of sending its freeness read, which landed after it was sent:
``w_B <= r_B + Δ``, so ``r_B >= w_B - Δ > c_A - Δ >= w_A + D - Δ > w_A``. So B read the row after
A's write landed, and found it free; but then it named a live claimant (A, or a later writer)
whose write B could not have seen unchanged for a lease period (``r_B - w_A < D + Δ``, far less
than a lease), and Lease Expires At was set: not free. A contradiction. A write acknowledged late
does not count: the claimant gives up, and since the row may now name it although it holds
nothing, it treats that row like anyone else's (free only once unchanged for a lease period).

**Keeping it** (sticky): the holder renews (Heartbeat At and Lease Expires At) at least every
``renew`` seconds, between runs too, so ``Δ`` and ``D`` are paid once per process, not per run.
With push healthy the renewals come as seldom as the Status reads (every 5 or 10 minutes, the
idle budget), so the lease is sized from the slowest renewal (:func:`lease_length`) and the row
says how long it is (Lease Expires At less Heartbeat At): a taker waits the longer of its own
lease and the row's.
A renewal counts only if acknowledged while the lease was still good; the lease is measured on the
holder's own clock from the *send* time of its claim or last counted renewal, ``lease_from``. The
holder refuses effects from ``lease_from + lease - margin`` on (:meth:`ProngLease.may_act`), with
``margin`` longer than one outside call, so every effect it started lands before
``lease_from + lease``. A taker needs to see the row unchanged for a whole lease, starting no
earlier than the last of the holder's writes to land, which was sent no earlier than
``lease_from``: it takes over at ``>= lease_from + lease``. So the effects of the old and the
new holder never overlap, and no wall clock is compared with another machine's.

**Losing it**: a row that no longer shows us (another owner after our renewals stopped, an
operator's edit), a renewal acknowledged too late, or time running out on our clock. A clean
stop releases the lease (Lease Expires At cleared), so the next claimant takes it at once; any
other takeover is *contested* for a lease period (:meth:`ProngLease.contested`), during which every
debit and credit reads Shopify back for its key first, as a resumed request does. A lease that
ran out on our clock while the row still shows our own last write acknowledged in time (a
suspended machine, renewals failing while Airtable was down) is claimed again at once, by the same
claim: no write has landed since ours, so a claimant that might be about to take it is one more
claimant, and only one of us sees its write at the check. Waiting a lease period instead would
keep every till waiting for two minutes after Airtable came back.

Editing Owner or Lease Expires At by hand is outside this argument (set Paused instead).

The protocol is a generator of :data:`Step` values (read a row, write rows, pause), so a test can
drive several claimants against a simulated Airtable with any latencies and orders
(``tests/daemon/lease_sim.py``); :func:`drive` runs it against the real thing.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol, TypeVar

import structlog

from cards.vocab import ProngState
from clients.ports import Clock
from clients.records import StatusRow
from clients.status_commands import ClaimLease, RenewLease, StatusWrite

log = structlog.get_logger(__name__)
T = TypeVar("T")

#: Δ: a claim counts only if its write was acknowledged within this long of sending the read
#: that found the row free: two Airtable round trips (a few hundred milliseconds each) and some
#: queueing at the rate limiter. A slower claim is given up (and, since its write may have
#: landed, tried again only after a lease period): generous, so that a restart is not delayed.
CLAIM_ACK_SECONDS = 3.0
#: D > Δ: how long a claimant waits after its write before reading whether it won; paid once per
#: process start (or takeover), not per run.
CLAIM_WAIT_SECONDS = 3.5


@dataclass(frozen=True, slots=True)
class ReadRows:
    """Read every Status row (one request)."""


@dataclass(frozen=True, slots=True)
class WriteRows:
    writes: tuple[tuple[str, StatusWrite], ...]  # (record id, write)


@dataclass(frozen=True, slots=True)
class Pause:
    seconds: float


Step = ReadRows | WriteRows | Pause


@dataclass(frozen=True, slots=True)
class Reply:
    """What a step came to: the rows read (by prong), and when it was sent and answered on the
    claimant's monotonic clock."""

    rows: dict[str, StatusRow]
    sent: float
    done: float


Steps = Generator[Step, Reply, T]


class Verdict(StrEnum):
    MINE = "mine"
    FREE = "free"  # released, or never taken
    TAKEN_OVER = "free to take over"  # a dead owner's: contested
    ELSEWHERE = "held elsewhere"
    PAUSED = "Paused"


@dataclass
class ProngLease:
    """One prong's lease as this process sees it (one per prong, for the process's life)."""

    prong: str
    owner: str
    lease_seconds: float
    margin: float  # effects stop this long before the lease runs out (> one outside call)
    dead_owners: frozenset[str] = frozenset()  # earlier processes of this STATE_DIR
    held: bool = False
    record_id: str | None = None  # the prong's Status row, once read
    lease_from: float = float("-inf")
    contested_until: float = float("-inf")
    why: str = "not claimed yet"
    elsewhere: str | None = None  # the owner of a live lease we last saw, while not ours
    # Heartbeat At of our last write acknowledged in time (to the millisecond): a row that still
    # shows it after our lease ran out (a suspended machine, renewals failing while Airtable was
    # down) is ours to claim again at once; nobody's write has landed since.
    last_good_at: datetime | None = None
    _seen: tuple[tuple[object, ...], float] | None = field(default=None, repr=False)

    def assess(self, row: StatusRow, now: float) -> Verdict:
        """What ``row``, read at ``now``, means for us (and remember what we saw)."""
        self.record_id, self.elsewhere = row.id, None
        if row.state is ProngState.PAUSED:
            self.why = "Paused"
            return Verdict.PAUSED
        if self.held and row.owner == self.owner:
            return Verdict.MINE
        if row.lease_expires_at is None or self._untouched_since_ours(row):
            return Verdict.FREE
        if row.owner in self.dead_owners:
            return Verdict.TAKEN_OVER
        key = (row.owner, row.heartbeat_at, row.lease_expires_at)
        if self._seen is None or self._seen[0] != key:
            self._seen = (key, now)
        if now - self._seen[1] >= max(self.lease_seconds, advertised(row)):
            return Verdict.TAKEN_OVER
        self.why, self.elsewhere = f"lease held by {row.owner}", row.owner
        return Verdict.ELSEWHERE

    def _untouched_since_ours(self, row: StatusRow) -> bool:
        """The row shows our own last good write: a claimant's write would have replaced it, and
        one in flight is settled by the claim's wait, as between any two claimants."""
        return (
            row.owner == self.owner
            and row.heartbeat_at is not None
            and self.last_good_at is not None
            and _to_millisecond(row.heartbeat_at) == self.last_good_at
        )

    def may_act(self, now: float) -> bool:
        """Effects are allowed: held, and far enough from the end of the lease."""
        return self.held and now < self.lease_from + self.lease_seconds - self.margin

    def contested(self, now: float) -> bool:
        """Taken over from another owner within a lease period: read back before moving money."""
        return now < self.contested_until

    def won(self, sent: float, done: float, verdict: Verdict, at: datetime | None = None) -> None:
        self.held, self.lease_from, self.why, self.elsewhere = True, sent, "held", None
        self.last_good_at = _to_millisecond(at) if at is not None else None
        if verdict is Verdict.TAKEN_OVER:
            self.contested_until = done + self.lease_seconds
        log.info(
            "lease.claimed", prong=self.prong, owner=self.owner, contested=self.contested(done)
        )

    def renewed(self, sent: float, done: float, at: datetime | None = None) -> None:
        """A renewal sent at ``sent`` (Heartbeat At ``at``) was acknowledged at ``done``."""
        if not self.held:
            return
        if done < self.lease_from + self.lease_seconds - self.margin:
            self.lease_from = max(self.lease_from, sent)
            self.last_good_at = _to_millisecond(at) if at is not None else None
        else:
            self.lose("a renewal was acknowledged too late")

    def give_up(self) -> None:
        """A clean stop: the lease is released (written by the caller), not lost."""
        self.held, self.why, self._seen = False, "released", None

    def lose(self, why: str) -> None:
        if self.held:
            log.warning("lease.lost", prong=self.prong, reason=why)
        self.held, self.why, self._seen = False, why, None

    def check(self, row: StatusRow, now: float) -> None:
        """A fresh read of the row: a held lease that the row no longer shows is lost."""
        if self.held and row.owner != self.owner:
            self.lose(f"the row names {row.owner}")
        elif self.held and not self.may_act(now):
            self.lose("the lease ran out before a renewal")


def advertised(row: StatusRow) -> float:
    """The lease its holder promised: Lease Expires At less Heartbeat At, both written by the
    holder in one write (a duration on one machine's clock, never compared with ours)."""
    if row.lease_expires_at is None or row.heartbeat_at is None:
        return 0.0
    return max(0.0, (row.lease_expires_at - row.heartbeat_at).total_seconds())


def claim(
    leases: Sequence[ProngLease], now_wall: Callable[[], datetime], lease_seconds: float
) -> Steps[list[ProngLease]]:
    """One read of the rows (a held lease that the row no longer shows is lost), then Fischer's
    claim for every lease not held and free: one write and one more read; returns the leases
    won."""
    first = yield ReadRows()
    wanted: list[tuple[ProngLease, StatusRow, Verdict]] = []
    for lease in leases:
        row = first.rows.get(lease.prong)
        if row is None:
            continue
        if lease.held:
            lease.check(row, first.done)
            continue
        verdict = lease.assess(row, first.done)
        if verdict in (Verdict.FREE, Verdict.TAKEN_OVER):
            wanted.append((lease, row, verdict))
    if not wanted:
        return []
    at = _to_millisecond(now_wall())  # Airtable keeps milliseconds: the check compares it
    expires = at + timedelta(seconds=lease_seconds)
    claims = [ClaimLease(lease.owner, expires, at) for lease, *_ in wanted]
    written = yield WriteRows(
        tuple((row.id, c) for (_, row, _), c in zip(wanted, claims, strict=True))
    )
    if written.done - first.sent > CLAIM_ACK_SECONDS:
        for lease, _, _ in wanted:
            lease.lose(f"the claim took {written.done - first.sent:.1f} s (more than Δ)")
        return []
    yield Pause(CLAIM_WAIT_SECONDS)
    check = yield ReadRows()
    won = []
    for (lease, _, verdict), made in zip(wanted, claims, strict=True):
        row = check.rows.get(lease.prong)
        if row is not None and row.owner == made.owner and row.heartbeat_at == made.at:
            lease.won(written.sent, check.done, verdict, made.at)
            won.append(lease)
        else:
            lease.why = f"lost the claim to {row.owner if row else '?'}"
    return won


def renew(
    leases: Sequence[ProngLease], now_wall: Callable[[], datetime], lease_seconds: float
) -> Steps[None]:
    """One write renewing every held lease; each counts only if acknowledged in time."""
    held = [lease for lease in leases if lease.held and lease.record_id is not None]
    if not held:
        return
    at = now_wall()
    renewal = RenewLease(at + timedelta(seconds=lease_seconds), at)
    written = yield WriteRows(tuple((str(lease.record_id), renewal) for lease in held))
    for lease in held:
        lease.renewed(written.sent, written.done, renewal.at)


def lease_length(
    configured: float, slowest_renewal: float, tick: float, call_timeout: float, margin: float
) -> float:
    """A lease long enough for the slowest renewal in force to land while it is still good: a
    renewal is sent at the first tick after ``slowest_renewal`` (plus a quarter for slack) and
    answered within a call; effects stop ``margin`` before the end."""
    return max(configured, 1.25 * slowest_renewal + tick + call_timeout + margin)


def _to_millisecond(at: datetime) -> datetime:
    return at.replace(microsecond=at.microsecond // 1000 * 1000)


class RowPort(Protocol):
    """What :func:`drive` needs of the Status table."""

    def read_rows(self) -> dict[str, StatusRow]: ...

    def write_rows(self, writes: Sequence[tuple[str, StatusWrite]]) -> None: ...


def drive(steps: Steps[T], port: RowPort, clock: Clock) -> T:
    """Run a protocol against Airtable (raises what the port raises: nothing is held then)."""
    reply: Reply | None = None
    while True:
        try:
            step = steps.send(reply) if reply is not None else next(steps)
        except StopIteration as done:
            result: T = done.value
            return result
        sent = clock.monotonic()
        rows: dict[str, StatusRow] = {}
        match step:
            case ReadRows():
                rows = port.read_rows()
            case WriteRows(writes):
                port.write_rows(writes)
            case Pause(seconds):
                clock.sleep(seconds)
        reply = Reply(rows, sent, clock.monotonic())
