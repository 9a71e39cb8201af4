"""Exactly once, across crashes: every outside call of a clean run, crashed or dropped in turn.

For each flow, a clean run is recorded first. Then for every call index i of that run and each
mode (crash_before, crash_after, drop_after), a fresh world is set up the same way, the fault is
armed at i, the run goes until SimulatedCrash (or the end), and fresh runs follow until the
prong is quiet. The end state must equal the clean run's: the same request outcomes, receipts,
emails and card states, one debit or credit per key, one Shopify card per creation, balances
equal in Shopify and Airtable, and repeats sent to Klaviyo only where a crash or a lost response
made them necessary (at most one per email of the flow).
"""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from cards.vocab import CardActionType, Kind, RequestStatus
from clients.commands import Queue, RecordIntent
from config.layout import (
    BalanceChecks,
    CardActions,
    CreationRequests,
    GiftCards,
    Receipts,
    StoreRedemptions,
)
from tests.fakes import SimulatedCrash
from tests.prongs.conftest import Harness, usd
from tests.prongs.test_bulk_issuance import csv_rows, import_rows

REQUEST_TABLES = (StoreRedemptions, CreationRequests, BalanceChecks, CardActions)
FINAL = {RequestStatus.DONE, RequestStatus.REJECTED, RequestStatus.NEEDS_ATTENTION}
MODES = ("crash_before", "crash_after", "drop_after")


@dataclass(frozen=True)
class Flow:
    setup: Callable[[Harness], None]
    emails: int  # emails the flow sends: the most repeats a single fault can need


def _redeem(h: Harness) -> None:
    store = h.store()
    card = h.issue("50.00")
    h.redemption(h.code_of(card).reveal(), "12.50", store=store)


def _redeem_refused(h: Harness) -> None:
    store = h.store()
    card = h.issue("10.00")
    h.redemption(h.code_of(card).reveal(), "12.50", store=store)


def _redeem_native(h: Harness) -> None:
    store = h.store()
    h.shop.issue_native("NATIVE7KQ2XY", usd("30.00"))
    h.redemption("NATIVE7KQ2XY", "30.00", store=store)


def _redeem_certificate(h: Harness) -> None:
    card = h.issue("40.00", kind=Kind.CERTIFICATE)
    h.redemption(h.code_of(card).reveal(), None, order_total="45.00", store=h.store())


def _redeem_batch(h: Harness) -> None:
    """One group of several redemptions sharing their Airtable writes: two on one card, a
    refusal after the intent (Shopify's INSUFFICIENT_FUNDS), a code nobody has, a native card
    imported on the way, and a request resumed from an earlier run's intent."""
    store = h.store()
    card, small = h.issue("50.00"), h.issue("10.00")
    h.shop.issue_native("NATIVE7KQ2XY", usd("30.00"))
    code = h.code_of(card).reveal()
    resumed = h.redemption(code, "1.00", store=store)
    h.at.update_request(RecordIntent(Queue.REDEMPTIONS, resumed))  # an earlier run's intent
    h.redemption(code, "12.50", store=store)
    h.redemption(h.code_of(small).reveal(), "12.50", store=store)
    h.redemption("QQQQQQQQQQQQ", "3.00", store=store)
    h.redemption(code, "20.00", store=store)
    h.redemption("NATIVE7KQ2XY", "5.00", store=store)


def _redeem_backlog(h: Harness) -> None:
    """Twelve redemptions: two groups (10 and 2) over three cards."""
    store = h.store()
    codes = [h.code_of(h.issue("50.00")).reveal() for _ in range(3)]
    for n in range(12):
        h.redemption(codes[n % 3], "2.00", store=store)


def _bulk(h: Harness) -> None:
    """Eleven bulk rows (groups of 10 and 1), gifts with a confirmation, linked to a store."""
    import_rows(h, csv_rows(11, gift=True), store=h.store())


def _create(h: Harness) -> None:
    store = h.store()
    h.creation(**{CreationRequests.STORE: (store,)})


def _void(h: Harness) -> None:
    card = h.issue("50.00")
    h.card_action(card, CardActionType.VOID, reason="stolen")


def _reactivate(h: Harness) -> None:
    card = h.issue("50.00")
    h.card_action(card, CardActionType.VOID, reason="stolen")
    h.run()
    h.card_action(card, CardActionType.REACTIVATE)


def _adjust(h: Harness) -> None:
    card = h.issue("50.00")
    h.card_action(card, CardActionType.ADJUST_BALANCE, amount="-7.25")


def _balance(h: Harness) -> None:
    card = h.issue("50.00")
    h.balance_check(h.code_of(card).reveal())


FLOWS = {
    "redemption": Flow(_redeem, 1),
    "redemption-refused": Flow(_redeem_refused, 1),
    "redemption-native": Flow(_redeem_native, 1),
    "redemption-certificate": Flow(_redeem_certificate, 1),
    "redemption-batch": Flow(_redeem_batch, 6),
    "redemption-backlog": Flow(_redeem_backlog, 12),
    "creation": Flow(_create, 3),
    # A crash before a group's receipts are written sends that group's emails again (Klaviyo
    # drops each repeat under its unique id): at most two per card of a group of ten.
    "bulk": Flow(_bulk, 20),
    "void": Flow(_void, 1),
    "reactivate": Flow(_reactivate, 0),
    "adjust": Flow(_adjust, 0),
    "balance-check": Flow(_balance, 1),
}


def signature(h: Harness) -> dict[str, Any]:
    """Everything the outside world can see, independent of record ids made on the way."""
    requests = {
        (t.TABLE, rid): (row.get(t.STATUS), row.get(t.OUTCOME))
        for t in REQUEST_TABLES
        for rid, row in h.at.tables[t.TABLE].items()
    }
    cards = sorted(
        (
            str(row.get(GiftCards.ORIGIN_KEY)),
            str(row.get(GiftCards.STATUS)),
            str(row.get(GiftCards.BALANCE)),
        )
        for row in h.at.tables[GiftCards.TABLE].values()
    )
    shopify = sorted((str(c.card.balance), c.card.note or "") for c in h.shop.cards.values())
    return {
        "requests": requests,
        "receipts": sorted(h.receipts()),
        "receipt_actions": sorted(
            (r[Receipts.REFERENCE], str(r[Receipts.ACTION])) for r in h.receipts().values()
        ),
        "events": sorted((e.metric.value, e.unique_id, e.email) for e in h.world.email.events),
        "cards": cards,
        "shopify": shopify,
        "notes": sorted(n or "" for c in h.shop.cards.values() for n in h.shop.notes(c.card.id)),
    }


def invariants(h: Harness) -> None:
    for t in REQUEST_TABLES:
        for row in h.at.tables[t.TABLE].values():
            assert row.get(t.STATUS) in FINAL, row
    for c in h.shop.cards.values():
        notes = [n for n in h.shop.notes(c.card.id) if n and n.startswith("giftbridge ")]
        assert len(notes) == len(set(notes)), f"a key moved money twice: {notes}"
    shopify_notes = Counter(c.card.note for c in h.shop.cards.values() if c.card.note)
    assert all(n == 1 for n in shopify_notes.values()), shopify_notes
    for row in h.at.tables[GiftCards.TABLE].values():
        gid = row.get(GiftCards.SHOPIFY_GIFT_CARD_ID)
        if gid:
            assert row[GiftCards.BALANCE] == h.shop.balance(gid)
            assert isinstance(row[GiftCards.BALANCE].amount, type(usd("1").amount))
    assert len(h.deps.card_locks) == 0
    for row in h.at.tables[GiftCards.TABLE].values():
        assert len(row.get(GiftCards.CERTIFICATE, ())) <= 1, "a card holds two certificates"


def prepared(flow: Flow) -> tuple[Harness, int]:
    h = Harness()
    flow.setup(h)
    return h, len(h.injector.calls)


_CLEAN: dict[str, tuple[dict[str, Any], int]] = {}


def clean_run(name: str) -> tuple[dict[str, Any], int]:
    if name not in _CLEAN:
        h, start = prepared(FLOWS[name])
        h.run_until_quiet()
        invariants(h)
        assert h.world.email.duplicates == 0
        _CLEAN[name] = (signature(h), len(h.injector.calls) - start)
    return _CLEAN[name]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name", sorted(FLOWS))
def test_a_fault_at_any_call_ends_like_a_clean_run(name: str, mode: str) -> None:
    expected, calls = clean_run(name)
    assert calls > 5
    for index in range(calls):
        h, start = prepared(FLOWS[name])
        h.injector.arm_index(start + index, mode)
        with contextlib.suppress(SimulatedCrash):
            h.run()
        h.injector.disarm()
        h.run_until_quiet()
        where = f"{name}: {mode} at call {index} ({h.injector.calls[start + index]})"
        invariants(h)
        assert signature(h) == expected, where
        assert h.world.email.duplicates <= FLOWS[name].emails, where
