"""Per-card serialization inside one process: two writers of one card's balance never interleave.

A store redemption debits Shopify and then mirrors the balance Shopify returned into the card's
row; the online prongs read Shopify's balance and mirror it too. If one of them read between the
other's debit and its write, it would write back a balance from before the debit. So every flow
that moves or mirrors a card's money holds that card's lock from its Shopify call to its Airtable
write: by the row's record id (the store prong's flows) and by the Shopify GID (the online
prongs know only the GID), each taken once, in sorted order, so two holders never deadlock.

One :class:`CardLocks` is built per process by the composition root and shared by every prong
through :class:`prongs.deps.Deps`. Across processes the exactly-once recipe (keys, read-back),
not a lock, keeps the money right.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, ExitStack, contextmanager

from clients.records import CardRow


class CardLocks:
    """One lock per key, created on demand and dropped when nobody holds or waits for it."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._locks: dict[str, tuple[threading.Lock, int]] = {}

    @contextmanager
    def hold(self, key: str) -> Iterator[None]:
        with self._guard:
            lock, users = self._locks.get(key, (threading.Lock(), 0))
            self._locks[key] = (lock, users + 1)
        try:
            with lock:
                yield
        finally:
            with self._guard:
                lock, users = self._locks[key]
                if users == 1:
                    del self._locks[key]
                else:
                    self._locks[key] = (lock, users - 1)

    @contextmanager
    def hold_all(self, keys: Sequence[str]) -> Iterator[None]:
        """Every key's lock, taken in sorted order (so two holders of several never deadlock),
        each once (the locks are not re-entrant)."""
        with ExitStack() as stack:
            for key in sorted(set(keys)):
                stack.enter_context(self.hold(key))
            yield

    def hold_cards(self, cards: Sequence[CardRow]) -> AbstractContextManager[None]:
        """The locks of these cards by record id and by Shopify GID."""
        return self.hold_all(lock_keys(cards))

    def __len__(self) -> int:
        """Locks held or waited for now (0 when the process is quiet)."""
        return len(self._locks)


def lock_keys(cards: Sequence[CardRow]) -> list[str]:
    """Each card by its record id (the store prong's flows) and its Shopify GID (the online
    prongs' balance refresh)."""
    return [c.id for c in cards] + [c.shopify_id for c in cards if c.shopify_id]
