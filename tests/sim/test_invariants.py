"""The simulation's oracle: each invariant passes on a world giftbridge left in order, and names
the damage when that world is broken the way a bug would break it. Without these, a green soak
could mean the checks see nothing."""

from __future__ import annotations

import random
from dataclasses import replace
from decimal import Decimal
from typing import Any

import pytest

from cards.codes import normalize
from cards.vocab import RequestStatus
from clients.records import CardTransaction, EmailEvent, TransactionKind
from config.layout import CreationRequests, GiftCards, Receipts, StoreRedemptions
from tests.fakes.shopify_store import StoredCard
from tests.sim import events, events_shop, invariants
from tests.sim.process import Cluster
from tests.sim.runner import quiesce
from tests.sim.world import SimWorld, build, seeded_codes, usd


def _calm_world() -> SimWorld:
    """Cards sold, redeemed at a till and online, checked and mailed; no fault, one process."""
    rng = random.Random(4)
    sim = build(4, rng, two_processes=False)
    sim.injector.plan = replace(sim.injector.plan, rate=0.0, interleave_rate=0.0)
    cluster = Cluster(sim, 1, random.Random(5))
    with seeded_codes(random.Random(6)):
        for n in range(4):
            sim.airtable.insert(
                CreationRequests.TABLE,
                {
                    CreationRequests.PURCHASER_NAME: "Pat",
                    CreationRequests.PURCHASER_EMAIL: f"pat{n}@example.com",
                    CreationRequests.RECIPIENT_NAME: "Rae",
                    CreationRequests.RECIPIENT_EMAIL: f"rae{n}@example.com",
                    CreationRequests.IS_GIFT: True,
                    CreationRequests.AMOUNT: Decimal("80.00"),
                    CreationRequests.CHANNEL: "Phone",
                },
            )
        cluster.run(0, "store-transactions")
        codes = [entry.code for entry in sim.shopify.cards.values()]
        for code in codes[:2]:
            record_id = sim.airtable.insert(
                StoreRedemptions.TABLE,
                {
                    StoreRedemptions.CODE: code.lower(),
                    StoreRedemptions.AMOUNT: Decimal("12.50"),
                    StoreRedemptions.STORE: (sim.stores[0],),
                },
            )
            sim.request_stores[record_id] = (sim.stores[0],)
            sim.typed.add(normalize(code))
        events_shop.checkout(sim, random.Random(7))
        events.check_balance(sim, random.Random(8))
        assert not quiesce(sim, cluster)
    return sim


@pytest.fixture(scope="module")
def pristine() -> SimWorld:
    return _calm_world()


@pytest.fixture
def sim() -> SimWorld:
    return _calm_world()


def test_a_calm_world_keeps_every_invariant(pristine: SimWorld) -> None:
    assert invariants.check(pristine, []) == []
    debits = [t for c in pristine.shopify.cards.values() for t in c.transactions]
    assert len(debits) >= 3, "the world has till and online debits to check"
    assert pristine.world.email.events


def _card(sim: SimWorld) -> tuple[str, StoredCard]:
    gid, entry = next((g, e) for g, e in sim.shopify.cards.items() if e.transactions)
    return gid, entry


def test_a_second_debit_under_one_key(sim: SimWorld) -> None:
    _, entry = next(
        (g, e) for g, e in sim.shopify.cards.items() if any(t.note for t in e.transactions)
    )
    first = next(t for t in entry.transactions if t.note)
    entry.transactions.append(replace(first, id=first.id + "9"))
    entry.card = replace(entry.card, balance=entry.card.balance - first.amount)
    assert any("money moved twice" in p for p in invariants.check(sim, []))


def test_a_second_card_for_one_request(sim: SimWorld) -> None:
    gid, entry = next(iter(sim.shopify.cards.items()))
    sim.shopify.cards[gid + "0"] = replace(entry, card=replace(entry.card, id=gid + "0"))
    assert any("issued twice" in p for p in invariants.check(sim, []))


def test_a_receipt_written_twice(sim: SimWorld) -> None:
    row = sim.airtable.rows(Receipts.TABLE)[0]
    sim.airtable.insert(Receipts.TABLE, {k: v for k, v in row.items() if k != "id"})
    assert any("receipts for one reference" in p for p in invariants.check(sim, []))


def test_an_email_to_a_second_inbox(sim: SimWorld) -> None:
    event = sim.world.email.events[0]
    sim.world.email.events.append(
        EmailEvent(event.metric, "other@example.com", event.unique_id, {}, event.time)
    )
    assert any(p.startswith("emails for") for p in invariants.check(sim, []))


def test_a_mirror_out_of_step(sim: SimWorld) -> None:
    record_id = next(iter(sim.airtable.tables[GiftCards.TABLE]))
    sim.airtable._apply(GiftCards.TABLE, record_id, {GiftCards.BALANCE: usd("1.23")})
    found = invariants.check(sim, [])
    assert any("Balance 1.23 USD" in p for p in found)


def test_a_request_left_behind(sim: SimWorld) -> None:
    record_id = sim.airtable.insert(StoreRedemptions.TABLE, {StoreRedemptions.CODE: "x"})
    assert f"Store Redemptions {record_id} left new (None)" in invariants.check(sim, [])


def test_a_rejection_after_the_money_moved(sim: SimWorld) -> None:
    row = next(
        r for r in sim.airtable.rows(StoreRedemptions.TABLE) if r["Status"] == RequestStatus.DONE
    )
    sim.airtable._apply(StoreRedemptions.TABLE, row["id"], {"Status": RequestStatus.REJECTED})
    assert any("Rejected" in p and "after its effect" in p for p in invariants.check(sim, []))


@pytest.mark.parametrize("shape", [str.lower, lambda c: "-".join([c[:4], c[4:8], c[8:]])])
def test_a_plaintext_code_in_a_cell_a_log_line_or_an_email(sim: SimWorld, shape: Any) -> None:
    code = next(iter(sim.shopify.cards.values())).code
    record_id = next(iter(sim.airtable.tables[GiftCards.TABLE]))
    sim.airtable._apply(GiftCards.TABLE, record_id, {GiftCards.MESSAGE: f"code {shape(code)}!"})
    event = sim.world.email.events[0]
    sim.world.email.events.append(replace(event, unique_id="x", properties={"note": code}))
    found = invariants.check(sim, [f'{{"event": "oops {shape(code)}"}}'])
    where = [p.split(":")[0] for p in found if p.startswith("plaintext code")]
    assert len(where) == 3, found


def test_the_holders_own_email_may_carry_the_code(pristine: SimWorld) -> None:
    issued = [e for e in pristine.world.email.events if "code" in e.properties]
    assert issued and not list(invariants.no_plaintext_code_at_rest(pristine, []))


def test_money_the_receipts_do_not_account_for(sim: SimWorld) -> None:
    gid, entry = _card(sim)
    txn = CardTransaction(
        id="gid://shopify/GiftDebitTransaction/99999",
        kind=TransactionKind.DEBIT,
        amount=usd("1.00"),
        processed_at=sim.clock.now(),
    )
    entry.transactions.append(txn)
    entry.card = replace(entry.card, balance=entry.card.balance - usd("1.00"))
    for record_id, row in sim.airtable.tables[GiftCards.TABLE].items():
        if row.get(GiftCards.SHOPIFY_GIFT_CARD_ID) == gid:
            sim.airtable._apply(GiftCards.TABLE, record_id, {GiftCards.BALANCE: entry.card.balance})
    found = invariants.check(sim, [])
    assert any("receipts book" in p and gid in p for p in found), found


def test_money_moved_for_a_store_that_could_not_authorize_it(sim: SimWorld) -> None:
    assert not list(invariants.stores_authorized(sim))
    redeemed = [n for n in sim.stores_at_effect if n.startswith("giftbridge redeem:")]
    assert redeemed, "the calm world's till debits were watched"
    record_id = redeemed[0].rsplit(":", 1)[1]
    store = sim.request_stores[record_id][0]
    sim.stores_at_effect[redeemed[0]] = ({store: False}, {store: False})
    sim.stores_at_intent[f"redeem:{record_id}"] = ({store: False}, {store: False})
    assert any("which is not Active" in p for p in invariants.check(sim, []))
    sim.request_stores[record_id] = ()
    assert any("linking 0 stores" in p for p in invariants.check(sim, []))
