"""Airtable failures over real HTTP: each fault ends as the right class, and the shared limiter
keeps three threads inside Airtable's 5 requests per second."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from cards.money import Money
from clients.airtable_budget import airtable_limiter
from clients.commands import NewCardRow, VoidCard
from clients.errors import AmbiguousOutcome, RateLimited, Retryable
from clients.factory import Limiters
from clients.ports import Priority, priority
from clients.ratelimit import Window, WindowLimiter
from config.layout import GiftCards, StoreRedemptions, Stores
from tests.clients.conftest import AirtableRig, fast_policy, open_limiters

pytestmark = pytest.mark.slow
NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def card_rows(rig: AirtableRig) -> int:
    return len(rig.base.records(GiftCards.TABLE))


def test_a_lost_create_response_is_ambiguous_and_never_resent(airtable: AirtableRig) -> None:
    adapter = airtable.adapter()
    airtable.sandbox.faults.add("airtable.create", "drop_after")
    with pytest.raises(AmbiguousOutcome):
        adapter.create_card(NewCardRow(origin_key="create:recAAAAAAAAAAAAAA"))
    assert card_rows(airtable) == 1  # it happened, once: the caller looks it up by Origin Key
    found = adapter.find_card(origin_key="create:recAAAAAAAAAAAAAA")
    assert found is not None


def test_a_lost_patch_response_is_resent_because_it_is_safe(airtable: AirtableRig) -> None:
    adapter = airtable.adapter()
    card = adapter.create_card(NewCardRow(origin_key="k"))
    airtable.sandbox.faults.add("airtable.update", "drop_after")
    updated = adapter.update_card(VoidCard(card.id, "test", Money.of("0", "USD"), None, at=NOW))
    assert updated.void_reason == "test"


def test_502_is_retried_and_500_on_a_write_is_ambiguous(airtable: AirtableRig) -> None:
    adapter = airtable.adapter()
    airtable.sandbox.faults.add("airtable.list", "fail_before")
    assert adapter.stores() == []  # retried after the 502
    single = airtable.adapter(retry=fast_policy(attempts=1))
    airtable.sandbox.faults.add("airtable.list", "fail_before")
    with pytest.raises(Retryable):
        single.stores()


def test_a_429_silences_the_whole_base_and_surfaces_as_rate_limited(
    airtable: AirtableRig,
) -> None:
    limiters = open_limiters()
    adapter = airtable.adapter(limiters=limiters, retry=fast_policy(attempts=1), penalty=2.0)
    airtable.sandbox.faults.add("airtable.list", "throttle")
    with pytest.raises(RateLimited) as caught:
        adapter.pending_redemptions(5)
    assert caught.value.retry_after == 2.0
    assert 1.5 < limiters.airtable.silent_for() <= 2.2
    # Another adapter on the same limiter (another thread's view) must wait too.
    other = airtable.adapter(limiters=limiters, retry=fast_policy(attempts=1, deadline=0.5))
    with pytest.raises(RateLimited):
        other.stores()
    assert sum(1 for e in airtable.sandbox.request_log if e.operation == "airtable.list") == 1


def test_a_short_penalty_is_waited_out_and_the_call_succeeds(airtable: AirtableRig) -> None:
    adapter = airtable.adapter(penalty=0.2)
    airtable.sandbox.faults.add("airtable.list", "throttle")
    assert adapter.pending_balance_checks(5) == []


def test_a_hung_response_times_out_into_the_right_class(airtable: AirtableRig) -> None:
    adapter = airtable.adapter(retry=fast_policy(attempts=1), call_timeout_seconds=0.3)
    airtable.sandbox.faults.add("airtable.create", "delay", seconds=1.0)
    with pytest.raises(AmbiguousOutcome):
        adapter.create_card(NewCardRow(origin_key="slow"))
    airtable.sandbox.faults.add("airtable.list", "delay", seconds=1.0)
    with pytest.raises(Retryable):
        adapter.stores()


def test_connection_refused_is_retryable(airtable: AirtableRig) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    rig = AirtableRig(airtable.sandbox, f"http://127.0.0.1:{port}", airtable.closers)
    adapter = rig.adapter(retry=fast_policy(attempts=2))
    with pytest.raises(Retryable):
        adapter.create_card(NewCardRow(origin_key="never sent"))


class ExpiringLimiter(WindowLimiter):
    """Expires the sandbox's pagination iterators right before the second request."""

    def __init__(self, expire: Callable[[], None]) -> None:
        super().__init__("airtable", [Window(10_000, 1.0)])
        self._expire = expire

    def _admit(self, now: float, cost: float) -> None:
        super()._admit(now, cost)
        if self.admitted == 1:
            self._expire()


def test_an_expired_listing_restarts_from_the_first_page(airtable: AirtableRig) -> None:
    t = StoreRedemptions
    airtable.base.create(t.TABLE, [{t.CODE: f"c{i}"} for i in range(150)])
    limiters = open_limiters()
    limiters.airtable = ExpiringLimiter(airtable.sandbox.expire_iterators)
    adapter = airtable.adapter(limiters=limiters)
    assert len(adapter.pending_redemptions(500)) == 150
    statuses = [e.status for e in airtable.sandbox.request_log]
    assert statuses == [200, 422, 200, 200]


def test_three_threads_stay_within_five_requests_per_second(
    airtable_factory: Callable[..., AirtableRig],
) -> None:
    rig = airtable_factory(rate_limit=5, penalty_seconds=30.0)  # the real limit and penalty
    rig.base.create(Stores.TABLE, [{Stores.NAME: "Main St"}])
    limiters = Limiters(airtable=airtable_limiter())
    adapters = [rig.adapter(limiters=limiters) for _ in range(3)]
    failures: list[BaseException] = []

    def hammer(index: int) -> None:
        try:
            for _ in range(4):
                assert adapters[index].stores()[0].name == "Main St"
        except BaseException as exc:  # reported below
            failures.append(exc)

    threads = [threading.Thread(target=hammer, args=(i,)) for i in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert failures == []
    log = rig.sandbox.request_log
    assert len(log) == 12 and all(e.status == 200 for e in log)  # no 429: no 30 s silence
    times = sorted(e.time for e in log)
    for i in range(len(times) - 5):
        assert times[i + 5] - times[i] >= 1.0, "six requests reached Airtable within 1 s"


def test_a_redemption_poll_overtakes_queued_bulk_calls(airtable: AirtableRig) -> None:
    limiters = open_limiters()
    limiters.airtable = WindowLimiter("airtable", [Window(1, 0.08)])
    adapter = airtable.adapter(limiters=limiters)
    adapter.stores()  # fills the window: what follows queues

    def bulk() -> None:
        with priority(Priority.BULK):
            adapter.status_rows()

    def redemption() -> None:
        with priority(Priority.REDEMPTION):
            adapter.pending_redemptions(5)

    threads = [threading.Thread(target=bulk) for _ in range(4)]
    for thread in threads:
        thread.start()
    threading.Event().wait(0.02)  # the bulk calls queue first
    urgent = threading.Thread(target=redemption)
    urgent.start()
    for thread in [*threads, urgent]:
        thread.join(timeout=10)
    tables = [e.table for e in airtable.sandbox.request_log][1:]
    assert tables.index(StoreRedemptions.TABLE) <= 1, tables
