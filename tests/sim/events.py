"""What people do in Airtable: clerks redeem and sell cards, customers ask for balances,
operators act on cards, staff edit and delete rows and pause prongs.

Each event is ``event(sim, rng) -> str`` (what it did, for the verbose replay). It writes the
fakes' tables directly, as a form or Airtable's grid would: no injected fault, no giftbridge call.
About one record in five carries a hostile value (see :mod:`tests.sim.hostile`).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any

from cards.vocab import CardActionType, Channel, Kind, ProngState, RequestStatus, Theme
from clients.airtable_bulk import creation_request_cells
from clients.commands import NewCreationRequest
from config.layout import (
    BalanceChecks,
    CardActions,
    CreationRequests,
    GiftCards,
    Status,
    StoreRedemptions,
    Stores,
)
from tests.sim import hostile
from tests.sim.world import SimWorld, usd

Event = Callable[[SimWorld, random.Random], str]
REQUEST_TABLES = (
    StoreRedemptions.TABLE,
    CreationRequests.TABLE,
    BalanceChecks.TABLE,
    CardActions.TABLE,
)
HOSTILE = 0.2


def insert(sim: SimWorld, table: str, fields: dict[str, Any]) -> str:
    return sim.airtable.insert(table, {k: v for k, v in fields.items() if v is not None})


def typed(sim: SimWorld, text: str | None) -> str | None:
    """Remember a typed code-like text (it must never be found at rest)."""
    found = hostile.code_like(text)
    if found is not None and text not in hostile.HOSTILE_TEXTS:  # those are typed elsewhere too
        sim.typed.add(found)
    return text


def store_link(sim: SimWorld, rng: random.Random) -> tuple[str, ...] | None:
    """Usually one live store; sometimes none, or two."""
    stores = [s for s in sim.stores if s in sim.airtable.tables[Stores.TABLE]]
    roll = rng.random()
    if not stores or roll < 0.05:
        return None
    if roll < 0.08 and len(stores) > 1:
        return tuple(rng.sample(stores, 2))
    return (rng.choice(stores),)


def a_code(sim: SimWorld, rng: random.Random) -> str | None:
    """A code as typed at a till: a real card's (any shape), a typo of one, or junk."""
    cards = list(sim.shopify.cards.values())
    roll = rng.random()
    if cards and roll < 0.75:
        code = rng.choice(cards).code
        return hostile.shaped(hostile.typo(code, rng) if roll < 0.08 else code, rng)
    return hostile.junk_code(rng)


# --- clerks and customers ---------------------------------------------------------------------


def redeem(sim: SimWorld, rng: random.Random) -> str:
    code = typed(sim, a_code(sim, rng))
    stores = store_link(sim, rng)
    hostile_value = rng.random() < HOSTILE
    amount = hostile.hostile_amount(rng) if hostile_value else hostile.amount(rng, 1, 8000)
    order_total = hostile.amount(rng, 100, 20000) if rng.random() < 0.3 else None
    record = insert(
        sim,
        StoreRedemptions.TABLE,
        {
            StoreRedemptions.CODE: code,
            StoreRedemptions.AMOUNT: amount,
            StoreRedemptions.ORDER_TOTAL: order_total,
            StoreRedemptions.STORE: stores,
            StoreRedemptions.STAFF_NAME: hostile.name(rng, rng.random() < HOSTILE),
        },
    )
    sim.request_stores[record] = stores or ()
    return f"redemption {record}: amount {amount}, order total {order_total}"


def sell(sim: SimWorld, rng: random.Random) -> str:
    bad = rng.random() < HOSTILE
    channel = rng.choice(
        (Channel.STORE, Channel.STORE, Channel.PHONE, Channel.EMAIL, Channel.PORTAL)
    )
    is_gift = rng.random() < 0.6
    fields: dict[str, Any] = {
        CreationRequests.PURCHASER_NAME: hostile.name(rng, bad and rng.random() < 0.3),
        CreationRequests.PURCHASER_EMAIL: hostile.email(rng, bad and rng.random() < 0.3, "buyer"),
        CreationRequests.RECIPIENT_NAME: hostile.name(rng, bad and rng.random() < 0.3),
        CreationRequests.RECIPIENT_EMAIL: hostile.email(rng, bad and rng.random() < 0.3),
        CreationRequests.IS_GIFT: is_gift,
        CreationRequests.MESSAGE: hostile.hostile_text(rng) if bad else "Enjoy",
        CreationRequests.AMOUNT: (
            hostile.hostile_amount(rng)
            if bad and rng.random() < 0.5
            else hostile.amount(rng, 300, 30000)
        ),
        CreationRequests.KIND: rng.choice((Kind.GIFT_CARD, Kind.GIFT_CARD, Kind.CERTIFICATE, None)),
        CreationRequests.THEME: rng.choice((*Theme, None)),
        CreationRequests.CHANNEL: channel,
        CreationRequests.STORE: store_link(sim, rng) if channel == Channel.STORE else None,
    }
    record = insert(sim, CreationRequests.TABLE, fields)
    if channel == Channel.STORE:
        sim.request_stores[record] = fields[CreationRequests.STORE] or ()
    return f"creation {record}: {channel.value} {fields[CreationRequests.AMOUNT]}"


def bulk(sim: SimWorld, rng: random.Random) -> str:
    """A company's order imported with ``giftbridge cards import`` (rows already validated)."""
    sim.batches += 1
    batch = f"{sim.seed:06x}{sim.batches:06x}"[-12:]
    count = rng.randint(2, 14)
    for line in range(2, count + 2):
        row = NewCreationRequest(
            import_key=f"import:{batch}:{line}",
            batch=batch,
            amount=usd(str(hostile.amount(rng, 500, 20000))),
            purchaser_name="Acme Corp",
            purchaser_email="hr@acme.example",
            recipient_name=f"Employee {line}",
            recipient_email=f"employee{line}@acme.example",
            is_gift=True,
            message="Thanks for a great year" if rng.random() < 0.5 else None,
            kind=Kind.GIFT_CARD,
        )
        insert(sim, CreationRequests.TABLE, dict(creation_request_cells(row)))
    return f"bulk batch {batch}: {count} rows"


def check_balance(sim: SimWorld, rng: random.Random) -> str:
    code = typed(sim, a_code(sim, rng))
    who = hostile.email(rng, rng.random() < HOSTILE, "customer")
    record = insert(sim, BalanceChecks.TABLE, {BalanceChecks.CODE: code, BalanceChecks.EMAIL: who})
    return f"balance check {record}"


# --- operators --------------------------------------------------------------------------------


def act_on_card(sim: SimWorld, rng: random.Random) -> str:
    rows = list(sim.airtable.tables[GiftCards.TABLE])
    action = rng.choice(list(CardActionType))
    bad = rng.random() < HOSTILE
    card = rng.choice(rows) if rows and not (bad and rng.random() < 0.3) else None
    amount: Decimal | None = None
    if action == CardActionType.ADJUST_BALANCE:
        cents = rng.choice((1, -1)) * rng.randint(1, 6000)
        amount = hostile.hostile_amount(rng) if bad else Decimal(cents).scaleb(-2)
    new_expiry = None
    if action == CardActionType.EXTEND_EXPIRY and rng.random() < 0.8:
        new_expiry = sim.clock.now().date() + timedelta(days=rng.randint(-3, 500))
    reason = hostile.hostile_text(rng) if bad else rng.choice(("lost", "goodwill", None))
    record = insert(
        sim,
        CardActions.TABLE,
        {
            CardActions.ACTION: action,
            CardActions.REQUESTED_BY: "Ops",
            CardActions.GIFT_CARD: (card,) if card else None,
            CardActions.REASON: reason,
            CardActions.AMOUNT: amount,
            CardActions.NEW_EXPIRY: new_expiry,
        },
    )
    return f"card action {record}: {action.value} on {card} amount {amount}"


# --- staff edits and deletes ------------------------------------------------------------------


def open_requests(sim: SimWorld) -> list[tuple[str, str]]:
    """(table, record id) of every request not yet final."""
    open_statuses = (None, RequestStatus.PROCESSING, RequestStatus.PROCESSING.value)
    return [
        (table, record_id)
        for table in REQUEST_TABLES
        for record_id, row in sim.airtable.tables[table].items()
        if row.get("Status") in open_statuses
    ]


def edit_request(sim: SimWorld, rng: random.Random) -> str:
    """Staff change an open request (maybe one giftbridge is working on)."""
    found = open_requests(sim)
    if not found:
        return "edit: nothing open"
    table, record_id = rng.choice(found)
    changes: dict[str, Any]
    if table in (StoreRedemptions.TABLE, BalanceChecks.TABLE) and rng.random() < 0.5:
        changes = {"Code": typed(sim, a_code(sim, rng))}
    elif table in (StoreRedemptions.TABLE, CreationRequests.TABLE, CardActions.TABLE):
        changes = {"Amount": hostile.amount(rng, 1, 9000) if rng.random() < 0.7 else None}
    else:
        changes = {BalanceChecks.EMAIL: hostile.email(rng, rng.random() < 0.5, "customer")}
        sim.readdressed.add(record_id)
    sim.airtable._apply(table, record_id, changes)
    return f"edit {table} {record_id}: {sorted(changes)}"


def delete_request(sim: SimWorld, rng: random.Random) -> str:
    found = open_requests(sim)
    if not found:
        return "delete request: nothing open"
    table, record_id = rng.choice(found)
    sim.airtable.delete_row(table, record_id)
    return f"delete {table} {record_id}"


def delete_card_row(sim: SimWorld, rng: random.Random) -> str:
    rows = sim.airtable.tables[GiftCards.TABLE]
    if not rows:
        return "delete card: none"
    record_id = rng.choice(list(rows))
    gid = rows[record_id].get(GiftCards.SHOPIFY_GIFT_CARD_ID)
    if gid:
        sim.deleted_card_gids.add(gid)
    sim.airtable.delete_row(GiftCards.TABLE, record_id)
    return f"delete Gift Cards {record_id} ({gid})"


def toggle_store(sim: SimWorld, rng: random.Random) -> str:
    live = [s for s in sim.stores if s in sim.airtable.tables[Stores.TABLE]]
    if not live:
        return "store: none"
    store = rng.choice(live)
    if rng.random() < 0.15:
        sim.airtable.delete_row(Stores.TABLE, store)
        sim.unlink_store(store)
        return f"store {store} deleted"
    active = not sim.airtable.tables[Stores.TABLE][store].get(Stores.ACTIVE, False)
    sim.airtable._apply(Stores.TABLE, store, {Stores.ACTIVE: active})
    return f"store {store} active={active}"


def pause_prong(sim: SimWorld, rng: random.Random) -> str:
    rows = sim.airtable.tables[Status.TABLE]
    if not rows:
        return "pause: no Status rows yet"
    record_id = rng.choice(list(rows))
    row = rows[record_id]
    paused = row.get(Status.STATE) in (ProngState.PAUSED, ProngState.PAUSED.value)
    state = ProngState.OFFLINE if paused else ProngState.PAUSED
    sim.airtable._apply(Status.TABLE, record_id, {Status.STATE: state})
    return f"{row.get(Status.PRONG)} set {state.value}"
