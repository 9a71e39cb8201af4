"""What must hold once a seed's faults stop and every prong has run until quiet.

Each check reads the fakes' state (and the log lines captured) and returns one line per
violation, naming the record, key or card, so a failing seed says what broke. The checks are
the oracle: they use the fakes' records and the design's rules, never the product's helpers
(except the key and normalization vocabulary, which are the contract).
"""

from __future__ import annotations

import itertools
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from datetime import date
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from cards.codes import normalize
from cards.keys import key_from_note
from cards.money import Money
from cards.vocab import CardStatus, Metric, ReceiptAction, RequestStatus
from clients.records import CardTransaction, TransactionKind
from config.layout import (
    CardActions,
    CreationRequests,
    GiftCards,
    Receipts,
    StoreRedemptions,
)
from tests.sim.events import REQUEST_TABLES
from tests.sim.world import SimWorld

FINAL = frozenset(
    {RequestStatus.DONE.value, RequestStatus.REJECTED.value, RequestStatus.NEEDS_ATTENTION.value}
)
A = ReceiptAction
DEBITS = frozenset({A.REDEEMED.value, A.REDEEMED_ONLINE.value, A.VOIDED.value})
CREDITS = frozenset({A.REFUNDED_ONLINE.value, A.REACTIVATED.value})
NOT_SCANNED = frozenset({GiftCards.CODE_DIGEST, GiftCards.CODE_SEALED})  # one-way, or sealed
SEPARATORS = re.compile(r"[\s\-.]")


def check(sim: SimWorld, logs: list[str]) -> list[str]:
    return [
        *one_move_per_key(sim),
        *one_card_per_key(sim),
        *one_receipt_per_reference(sim),
        *one_email_per_audience(sim),
        *mirrors_match_shopify(sim),
        *statuses_match_balances(sim),
        *requests_final(sim),
        *rejected_changed_nothing(sim),
        *stores_authorized(sim),
        *no_plaintext_code_at_rest(sim, logs),
        *money_conserved(sim),
    ]


def _repeats(counter: Counter[str], what: str) -> Iterator[str]:
    for value, count in sorted(counter.items()):
        if count > 1:
            yield f"{what} {value} x{count}"


# --- exactly once -----------------------------------------------------------------------------


def one_move_per_key(sim: SimWorld) -> Iterator[str]:
    """Each key moves money once: one Shopify transaction per giftbridge note, on one card."""
    notes: Counter[str] = Counter()
    for entry in sim.shopify.cards.values():
        for txn in entry.transactions:
            if key_from_note(txn.note) is not None and txn.note is not None:
                notes[txn.note] += 1
    yield from _repeats(notes, "money moved twice under")


def one_card_per_key(sim: SimWorld) -> Iterator[str]:
    """One Shopify card per creation request and per order unit; one row per Origin Key."""
    notes = Counter(c.card.note for c in sim.shopify.cards.values() if c.card.note)
    yield from _repeats(notes, "Shopify cards issued twice under")
    origin = Counter(
        str(r[GiftCards.ORIGIN_KEY])
        for r in sim.airtable.rows(GiftCards.TABLE)
        if r.get(GiftCards.ORIGIN_KEY)
    )
    yield from _repeats(origin, "Gift Cards rows for one Origin Key:")
    gids = Counter(
        str(r[GiftCards.SHOPIFY_GIFT_CARD_ID])
        for r in sim.airtable.rows(GiftCards.TABLE)
        if r.get(GiftCards.SHOPIFY_GIFT_CARD_ID)
    )
    yield from _repeats(gids, "Gift Cards rows for one Shopify card:")


def one_receipt_per_reference(sim: SimWorld) -> Iterator[str]:
    references = Counter(str(r[Receipts.REFERENCE]) for r in sim.airtable.rows(Receipts.TABLE))
    yield from _repeats(references, "receipts for one reference:")


def one_email_per_audience(sim: SimWorld) -> Iterator[str]:
    """Klaviyo accepted one event per ``unique_id`` (the fake drops exact repeats; a repeat to
    another address, or under another metric, would reach a second inbox). One exception: a
    balance check whose Email staff corrected after its answer went out gets one answer per
    address it had (the edit is the later instruction; giftbridge records no intent for a
    balance check, whose only effect is that email)."""
    sent = Counter(e.unique_id for e in sim.world.email.events)
    for record_id in sim.readdressed:  # one email per address it had: not a repeat
        unique_id = f"balance:{record_id}:customer"
        addresses = {e.email for e in sim.world.email.events if e.unique_id == unique_id}
        if sent[unique_id] == len(addresses):
            sent[unique_id] = min(sent[unique_id], 1)
    yield from _repeats(sent, "emails for")


# --- the two records --------------------------------------------------------------------------


def _shop_today(sim: SimWorld) -> date:
    return sim.clock.now().astimezone(ZoneInfo(sim.shopify.timezone)).date()


def _card_rows(sim: SimWorld) -> Iterator[tuple[dict[str, Any], Any]]:
    """Every Gift Cards row with a Shopify card, and that card as Shopify holds it."""
    for row in sim.airtable.rows(GiftCards.TABLE):
        gid = row.get(GiftCards.SHOPIFY_GIFT_CARD_ID)
        if gid is None:
            continue
        entry = sim.shopify.cards.get(gid)
        yield row, (entry.card if entry is not None else None)


def mirrors_match_shopify(sim: SimWorld) -> Iterator[str]:
    for row, card in _card_rows(sim):
        if card is None:
            yield f"card row {row['id']} names a Shopify card that does not exist"
        elif row.get(GiftCards.BALANCE) != card.balance:
            mirrored = row.get(GiftCards.BALANCE)
            yield f"card row {row['id']}: Balance {mirrored}, Shopify {card.balance}"


def statuses_match_balances(sim: SimWorld) -> Iterator[str]:
    today = _shop_today(sim)
    for row, card in _card_rows(sim):
        if card is None:
            continue
        status, balance = row.get(GiftCards.STATUS), card.balance
        expires = row.get(GiftCards.EXPIRES_ON)
        where = f"card row {row['id']} ({status}, {balance}, expires {expires})"
        if status == CardStatus.PENDING:
            yield f"{where}: still Pending though Shopify has its card"
        elif status == CardStatus.ACTIVE and not balance.is_positive:
            yield f"{where}: Active with nothing left"
        elif status == CardStatus.ACTIVE and expires is not None and expires < today:
            yield f"{where}: Active past its expiry ({today} in the shop)"
        elif status == CardStatus.REDEEMED and not balance.is_zero:
            yield f"{where}: Redeemed with value left"
        elif status == CardStatus.EXPIRED and (expires is None or expires >= today):
            yield f"{where}: Expired before its date"
        if expires != card.expires_on:
            yield f"{where}: Shopify's expiry is {card.expires_on}"


# --- requests ---------------------------------------------------------------------------------


def requests_final(sim: SimWorld) -> Iterator[str]:
    for table in REQUEST_TABLES:
        for row in sim.airtable.rows(table):
            if row.get("Status") not in FINAL:
                status = row.get("Status") or "new"
                yield f"{table} {row['id']} left {status} ({row.get('Outcome')})"


def rejected_changed_nothing(sim: SimWorld) -> Iterator[str]:
    """A Rejected request moved no money and issued no card."""
    moved = {
        str(txn.note).removeprefix("giftbridge ")
        for entry in sim.shopify.cards.values()
        for txn in entry.transactions
        if txn.note
    }
    issued = {
        str(c.card.note).removeprefix("giftbridge ")
        for c in sim.shopify.cards.values()
        if c.card.note
    }
    kinds = (
        (StoreRedemptions.TABLE, "redeem", moved),
        (CardActions.TABLE, "action", moved),
        (CreationRequests.TABLE, "create", issued),
    )
    for table, kind, effects in kinds:
        for row in sim.airtable.rows(table):
            if row.get("Status") == RequestStatus.REJECTED and f"{kind}:{row['id']}" in effects:
                yield f"{table} {row['id']} Rejected ({row.get('Outcome')}) after its effect"


def stores_authorized(sim: SimWorld) -> Iterator[str]:
    """A store redemption debited, or a store creation issued, only for a request linking
    exactly one store that was Active (when the run began or at the effect itself: a store
    switched off during a run may or may not be seen by it; or when its intent was recorded:
    a request under way is finished as authorised then)."""
    for note, (at_start, at_effect) in sorted(sim.stores_at_effect.items()):
        key = note.removeprefix("giftbridge ")
        kind, _, record_id = key.partition(":")
        if kind not in ("redeem", "create") or record_id not in sim.request_stores:
            continue
        views = (at_start, at_effect, *_intent(sim, key))
        typed = sim.request_stores[record_id]
        seen = [typed, sim.relinked.get(record_id, typed)]  # before and after a store's delete
        if all(len(links) != 1 for links in seen):
            yield f"{key} went ahead for a request linking {len(typed)} stores"
        elif not any(len(ls) == 1 and any(v.get(ls[0]) for v in views) for ls in seen):
            yield f"{key} went ahead for store {typed[0]}, which is not Active"


def _intent(sim: SimWorld, key: str) -> tuple[dict[str, bool], ...]:
    """The request's views when its intent was recorded (authorised then: DESIGN.md's recipe
    finishes what it started)."""
    return sim.stores_at_intent.get(key, ())


# --- codes ------------------------------------------------------------------------------------


def _cell_texts(sim: SimWorld) -> Iterator[tuple[str, str]]:
    for table, rows in sim.airtable.tables.items():
        for record_id, row in rows.items():
            for name, value in row.items():
                if name not in NOT_SCANNED:
                    for text in _texts(value):
                        yield f"{table} {record_id} {name}", text


def _texts(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, tuple | list):
        for item in value:
            yield from _texts(item)


def _event_texts(sim: SimWorld) -> Iterator[tuple[str, str]]:
    for event in sim.world.email.events:
        for name, value in event.properties.items():
            if event.metric == Metric.ISSUED and name == "code":
                continue  # the holder's own email: the one place the code goes
            if isinstance(value, str):
                yield f"event {event.unique_id} {name}", value


def no_plaintext_code_at_rest(sim: SimWorld, logs: Iterable[str]) -> Iterator[str]:
    """No code ever issued or typed is in a cell, a receipt, a log line, or an email (but the
    holder's ``Gift Card Issued``), in any case or with separators."""
    codes = {normalize(c.code) for c in sim.shopify.cards.values()} | sim.typed
    if not codes:
        return
    pattern = re.compile("|".join(re.escape(c) for c in sorted(codes, key=len, reverse=True)))
    places = [*_cell_texts(sim), *_event_texts(sim), *(("log", line) for line in logs)]
    for where, text in places:
        upper = text.upper()
        found = pattern.search(upper) or pattern.search(SEPARATORS.sub("", upper))
        if found:
            shown = text if where != "log" else text[:300]
            yield f"plaintext code ...{found.group(0)[-4:]} in {where}: {shown!r}"


# --- money ------------------------------------------------------------------------------------


def _signed(receipt: dict[str, Any]) -> Money | None:
    """A money receipt's effect on its card's balance (None: not a Shopify movement)."""
    action, cell = receipt.get(Receipts.ACTION), receipt.get(Receipts.AMOUNT)
    if cell is None:
        return None
    amount = cell if isinstance(cell, Money) else Money.of(Decimal(cell), "USD")
    if action in DEBITS:
        return -abs(amount)
    if action in CREDITS:
        return abs(amount)
    if action == A.ADJUSTED:
        before, after = receipt.get(Receipts.BALANCE_BEFORE), receipt.get(Receipts.BALANCE_AFTER)
        if amount.is_positive and before is not None and after is not None and after < before:
            return -amount
        return amount
    return None


def money_conserved(sim: SimWorld) -> Iterator[str]:
    """Per card: initial value - debits + credits = Shopify's balance, and the card's receipts
    move its books by exactly what Shopify's transactions moved it. Cards whose row staff
    deleted are left out (Airtable took their receipts' links with the row); transactions made
    before giftbridge linked a row to the card may be left out of the books (DESIGN.md: a card
    giftbridge does not know needs no processing): what the receipts miss must be exactly some
    of those."""
    receipts: dict[str, list[dict[str, Any]]] = {}
    for receipt in sim.airtable.rows(Receipts.TABLE):
        for card_id in receipt.get(Receipts.GIFT_CARD, ()):
            receipts.setdefault(card_id, []).append(receipt)
    for gid, entry in sim.shopify.cards.items():
        card = entry.card
        moved = sum((_moved(t) for t in entry.transactions), Money.zero(card.balance.currency))
        if card.initial_value + moved != card.balance:
            yield f"Shopify card {gid}: {card.initial_value} + {moved} != {card.balance}"
    for row, card in _card_rows(sim):
        if card is None or card.id in sim.deleted_card_gids:
            continue
        signed = [s for r in receipts.get(row["id"], []) if (s := _signed(r)) is not None]
        booked = sum(signed, Money.zero(card.balance.currency))
        before = sim.shopify.cards[card.id].transactions[: sim.history.get(row["id"], 0)]
        missing = card.balance - card.initial_value - booked
        if not _some_of(before, missing):
            yield (
                f"card row {row['id']} ({card.id}): receipts book {booked} from "
                f"{card.initial_value}, Shopify holds {card.balance}"
            )


def _moved(txn: CardTransaction) -> Money:
    return txn.amount if txn.kind == TransactionKind.CREDIT else -txn.amount


def _some_of(txns: Sequence[CardTransaction], missing: Money) -> bool:
    """Whether ``missing`` is what some of ``txns`` moved (none of them: zero)."""
    moves = [_moved(t) for t in txns]
    zero = Money.zero(missing.currency)
    if len(moves) > 12:  # too many to try every subset: none or all
        return missing in (zero, sum(moves, zero))
    return any(
        sum(chosen, zero) == missing
        for size in range(len(moves) + 1)
        for chosen in itertools.combinations(moves, size)
    )
