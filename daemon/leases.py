"""The process's leases, one per prong (:mod:`daemon.ownership` has the protocol and its proof).

:class:`Leases` claims every free prong when the service starts and at each Status read, renews
the ones it holds in one batched write when the cadence says (every 30 s while polling, as seldom
as the Status reads while push is healthy), notices at each Status read a row that no longer
names us, and gives every lease up on a clean stop. A run's gate
(:class:`RunGate`) asks it whether the prong is ours and may act.

Earlier processes of this ``STATE_DIR`` are remembered in ``STATE_DIR/owners`` (the last few owner
ids): the lock file proves they are gone, so their leases are taken at once after a restart
rather than after a lease period; such a takeover is *contested* all the same (their runs may
have been cut short mid-request), so debits read their key back first for a lease period.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path

import structlog

from cards.vocab import ProngState
from clients.atomic_file import write_atomically
from clients.ports import Clock
from clients.records import StatusRow
from clients.status_commands import EndRun, ReleaseLease, StartRun, StatusWrite
from daemon.lease import StatusBoard
from daemon.logging import mask_codes
from daemon.ownership import ProngLease, claim, drive, renew
from prongs.report import LeaseNotProven, RunReport

log = structlog.get_logger(__name__)
OWNERS_FILE = "owners"
OWNERS_KEPT = 20
LAST_ERROR_MAX = 1000


class Leases:
    def __init__(
        self,
        board: StatusBoard,
        prongs: Sequence[str],
        owner: str,
        clock: Clock,
        *,
        lease_seconds: float,
        margin: float,
        dead_owners: frozenset[str] = frozenset(),
    ) -> None:
        self.board = board
        self.owner = owner
        self.clock = clock
        self.lease_seconds = lease_seconds
        self.margin = margin
        self.by_prong = {
            p: ProngLease(p, owner, lease_seconds, margin, dead_owners) for p in prongs
        }
        self._lock = threading.RLock()  # one protocol at a time in this process

    # --- what drive() needs of the Status table --------------------------------------------
    def read_rows(self) -> dict[str, StatusRow]:
        return self.board.refresh()

    def write_rows(self, writes: Sequence[tuple[str, StatusWrite]]) -> None:
        prong_of = {lease.record_id: p for p, lease in self.by_prong.items()}
        updates = [(prong_of.get(record_id, ""), record_id, w) for record_id, w in writes]
        for start in range(0, len(updates), 10):
            self.board.update_many(updates[start : start + 10])

    # --- the process's view -------------------------------------------------------------------
    def lease(self, prong: str) -> ProngLease:
        return self.by_prong[prong]

    def held(self) -> list[str]:
        return [p for p, lease in self.by_prong.items() if lease.held]

    def read_and_claim(
        self, prongs: Sequence[str] | None = None, *, claim_free: bool = True
    ) -> list[str]:
        """One read of every Status row (the board's cache follows): a held lease the row no
        longer shows is lost, and (``claim_free``) the free ones among ``prongs`` (default:
        all) are claimed (one more write and read, a few seconds); returns the prongs won."""
        with self._lock:
            chosen = [self.by_prong[p] for p in (prongs or self.by_prong)]
            if not claim_free:
                chosen = [lease for lease in chosen if lease.held]
            won = drive(claim(chosen, self.clock.now, self.lease_seconds), self, self.clock)
            return [lease.prong for lease in won]

    def acquire(self, prongs: Sequence[str] | None = None) -> list[str]:
        """Claim the free ones among ``prongs`` (default: all) unless every one is held."""
        if all(self.by_prong[p].held for p in (prongs or self.by_prong)):
            return []
        return self.read_and_claim(prongs)

    def renew_if_due(self, every: float) -> bool:
        """One batched renewal of every held lease once one of them was last renewed (claimed,
        or written by a run) ``every`` seconds ago; True when written."""
        now = self.clock.monotonic()
        with self._lock:
            held = [lease for lease in self.by_prong.values() if lease.held]
            if not any(now - lease.lease_from >= every for lease in held):
                return False
            drive(renew(held, self.clock.now, self.lease_seconds), self, self.clock)
            return True

    def release_all(self) -> None:
        """A clean stop: give every held lease up (never raises; an unreleased lease simply
        runs out, and this STATE_DIR's next process takes it at once)."""
        with self._lock:
            held = [lease for lease in self.by_prong.values() if lease.held]
            if not held:
                return
            now = self.clock.now()
            writes: list[tuple[str, StatusWrite]] = []
            for lease in held:
                cached = self.board.cached(lease.prong)
                paused = cached is not None and cached.state is ProngState.PAUSED
                writes.append((str(lease.record_id), ReleaseLease(now, offline=not paused)))
                lease.give_up()
            try:
                self.write_rows(writes)
                log.info("lease.released_all", prongs=[lease.prong for lease in held])
            except Exception as exc:  # the leases run out on their own
                log.warning("lease.release_failed", error=str(exc))


def dead_owners(state_dir: Path | None, owner: str) -> frozenset[str]:
    """The owners of earlier processes of ``state_dir`` (call while holding its lock file), and
    remember ``owner`` for the next process."""
    if state_dir is None:
        return frozenset()
    path = state_dir / OWNERS_FILE
    try:
        earlier = [line.strip() for line in path.read_text("utf-8").splitlines() if line.strip()]
    except OSError:
        earlier = []
    try:
        write_atomically(path, "\n".join([*earlier, owner][-OWNERS_KEPT:]) + "\n")
    except OSError as exc:
        log.warning("lease.owners_unsaved", path=str(path), error=str(exc))
    return frozenset(o for o in earlier if o != owner)


class RunGate:
    """The :class:`prongs.report.Gate` (and :class:`prongs.report.Fence`) of one run of one
    prong, over the process's lease of it:

    - ``claim()`` (before the run's first effect): a fresh read of the rows; the prong must be
      ours (claimed now if free: a few seconds, once), not Paused, and far enough from the end
      of the lease; then one write: State Executing, Last Started At, the lease renewed.
    - ``heartbeat()`` (between records): stops the run at its next recovery point when the
      lease ran short, the row names someone else, or an operator set Paused.
    - ``fence()`` (right before each debit or credit): no money moves unless the lease is
      proven now; ``contested()``: read every debit's key back first.
    - ``release()`` (always, after an exception too): a fresh read, then the run's figures,
      Offline unless an operator set Paused meanwhile, the lease renewed and kept (nothing
      written over a row that names someone else). A run that never claimed does nothing."""

    def __init__(self, leases: Leases, prong: str, clock: Clock, stop: threading.Event) -> None:
        self._leases = leases
        self._lease = leases.lease(prong)
        self._board = leases.board
        self._prong = prong
        self._clock = clock
        self._stop = stop
        self._started = False
        self.skip_reason: str | None = None
        self.lost: str | None = None  # why the run was told to stop early

    @property
    def claimed(self) -> bool:
        return self._started

    def claim(self) -> bool:
        if self._started:
            return True
        if self.skip_reason is not None:
            return False
        if self._stop.is_set():
            self.skip_reason = "stopping"
            return False
        # A fresh read: an operator's Paused counts at once, a lost lease is noticed, and a
        # free one is claimed now (one read per run that finds work, as before)
        self._leases.read_and_claim([self._prong])
        cached = self._board.cached(self._prong)
        if cached is not None and cached.state is ProngState.PAUSED:
            self.skip_reason = "Paused"
            return False
        if not self._lease.may_act(self._clock.monotonic()):
            self.skip_reason = self._lease.why
            return False
        self._write(StartRun(self._expires(), self._clock.now()))
        self._started = True
        return True

    def heartbeat(self) -> None:
        if not self._started:
            return
        cached = self._board.cached(self._prong)
        if cached is not None and cached.state is ProngState.PAUSED:
            self._halt("Paused by an operator during the run")
        elif not self._lease.may_act(self._clock.monotonic()):
            self._halt(f"the lease is no longer ours to act on ({self._lease.why})")

    def fence(self) -> None:
        if not self._lease.may_act(self._clock.monotonic()):
            raise LeaseNotProven(self._lease.why)

    def contested(self) -> bool:
        return self._lease.contested(self._clock.monotonic())

    def _halt(self, why: str) -> None:
        if self.lost is None:
            self.lost = why
            self._stop.set()  # the run's Budget: it stops at its next recovery point
            log.warning("lease.run_halted", prong=self._prong, reason=why)

    def release(self, report: RunReport | None, error: str | None) -> None:
        """End of the run, whatever happened; never raises."""
        if not self._started:
            return
        self._started = False
        try:
            self._leases.read_and_claim([self._prong], claim_free=False)  # keep a Paused
            if not self._lease.held:
                log.warning("lease.lost", prong=self._prong, reason=self._lease.why)
                return
            cached = self._board.cached(self._prong)
            paused = cached is not None and cached.state is ProngState.PAUSED
            problem = error or ("; ".join(report.errors) if report and report.errors else None)
            end = EndRun(
                at=self._clock.now(),
                processed=report.processed if report else 0,
                error=mask_codes(problem)[:LAST_ERROR_MAX] if problem else None,
                offline=not paused,
                expires_at=self._expires(),
            )
            self._write(end)
            log.info("run.status_written", prong=self._prong, processed=end.processed)
        except Exception as exc:  # the figures wait for the next run; the lease is unharmed
            log.error("lease.end_of_run_failed", prong=self._prong, error=str(exc))

    def _expires(self) -> datetime:
        return self._clock.now() + timedelta(seconds=self._leases.lease_seconds)

    def _write(self, write: StatusWrite) -> None:
        """A write to our row renews the lease when it is acknowledged in time."""
        record_id = self._lease.record_id
        if record_id is None:
            raise LeaseNotProven("the Status row is not known")
        sent = self._clock.monotonic()
        self._board.update(self._prong, record_id, write)
        self._lease.renewed(sent, self._clock.monotonic(), write.at)
