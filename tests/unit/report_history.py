"""A scripted history in two currencies, with every kind of money receipt, for the report tests.

USD (period 2025-01-01 .. 2025-03-05, today 2025-03-05):
- A: $100 at store S1 (Store) on Jan 5; redeemed $30 in store Jan 10, $20 online Feb 3, $5 of it
  refunded online Feb 4; a rehearsal's $1 redemption on it (left out). Active, $55.
- B: $50 Online (Shopify's own card: no Created receipt) Jan 20; voided Feb 10. Voided, $0.
- C: $25 Manual Feb 1; adjusted -$5 Feb 15 and +$10 Mar 1 (a positive Amount). Active, $30,
  expires Mar 20.
- D: $40 Portal Jan 2; expired Mar 2 ($40). Expired.
- E: $25 at S1 (Store) Jan 5; redeemed $25 Jan 6. Redeemed.
- R: a rehearsal's $10 card (Created receipt marked), redeemed $10 (left out, both).
- P: Pending, never issued; its zero void changes nothing.
EUR:
- F: EUR 80 at S2 (Store) Feb 10; redeemed 30 Feb 11; voided 50 Feb 20, reactivated 50 Feb 25.
  Active, 50.
- G: EUR 20 Online Jan 15; expired Jan 31, extended Feb 2 (the 20 comes back). Active, 20.

By hand, USD: issued 240 (5 cards), redeemed in store 55, online 20, refunded 5, voided 50,
expired 40, adjustments +5: liability 240 - 75 - 50 - 40 + 5 + 5 = 85 = A 55 + C 30. Month ends:
Jan 160, Feb 115, Mar 85. EUR: issued 100, redeemed 30, voided net 0, expired net 0: 70.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from cards.ledger import CardFacts, ReceiptFacts
from cards.money import Money
from cards.vocab import CardSource, CardStatus, ReceiptAction

A = ReceiptAction
TODAY = date(2025, 3, 5)


def at(month: int, day: int, hour: int = 12) -> datetime:
    return datetime(2025, month, day, hour, tzinfo=UTC)


def usd(value: str) -> Money:
    return Money.of(value, "USD")


def eur(value: str) -> Money:
    return Money.of(value, "EUR")


def card(
    rid: str,
    value: Money,
    balance: Money,
    status: CardStatus,
    source: CardSource,
    issued: datetime | None,
    *,
    store: str | None = None,
    expires: date | None = None,
    origin: str | None = None,
) -> CardFacts:
    return CardFacts(
        id=rid,
        currency=value.currency,
        status=status,
        initial_value=value,
        balance=balance,
        source=source,
        store_ids=(store,) if store else (),
        issued_at=issued,
        expires_on=expires,
        masked_code=f"••••••••{rid[-4:].upper()}",
        origin_key=origin or f"create:{rid}",
    )


S = CardStatus
CARDS = [
    card("recA", usd("100"), usd("55"), S.ACTIVE, CardSource.STORE, at(1, 5), store="recS1"),
    card("recB", usd("50"), usd("0"), S.VOIDED, CardSource.ONLINE, at(1, 20), origin="native:9"),
    card(
        "recC",
        usd("25"),
        usd("30"),
        S.ACTIVE,
        CardSource.MANUAL,
        at(2, 1),
        expires=date(2025, 3, 20),
    ),
    card("recD", usd("40"), usd("40"), S.EXPIRED, CardSource.PORTAL, at(1, 2)),
    card("recE", usd("25"), usd("0"), S.REDEEMED, CardSource.STORE, at(1, 5), store="recS1"),
    card("recR", usd("10"), usd("0"), S.REDEEMED, CardSource.STORE, at(2, 1)),
    card("recP", usd("60"), usd("0"), S.VOIDED, CardSource.MANUAL, None),
    card("recF", eur("80"), eur("50"), S.ACTIVE, CardSource.STORE, at(2, 10), store="recS2"),
    card("recG", eur("20"), eur("20"), S.ACTIVE, CardSource.ONLINE, at(1, 15), origin="native:7"),
]


def receipt(
    ref: str,
    action: ReceiptAction,
    when: datetime,
    card_id: str,
    amount: str | None,
    *,
    before: str | None = None,
    after: str | None = None,
    details: str | None = None,
    store: str | None = None,
) -> ReceiptFacts:
    def dec(value: str | None) -> Decimal | None:
        return None if value is None else Decimal(value)

    return ReceiptFacts(
        reference=ref,
        action=action,
        at=when,
        card_id=card_id,
        store_id=store,
        amount=dec(amount),
        balance_before=dec(before),
        balance_after=dec(after),
        details=details,
    )


RECEIPTS = [
    receipt("create:recA:created", A.CREATED, at(1, 5), "recA", "100", after="100"),
    receipt("create:recA:purchased", A.PURCHASED, at(1, 5), "recA", "100"),
    receipt("create:recA:sent:recipient", A.SENT, at(1, 5), "recA", None),
    receipt("redeem:rec1:redeemed", A.REDEEMED, at(1, 10), "recA", "30", store="recS1"),
    receipt("shopify-txn:1:redeemed-online", A.REDEEMED_ONLINE, at(2, 3), "recA", "20"),
    receipt("shopify-txn:2:refunded-online", A.REFUNDED_ONLINE, at(2, 4), "recA", "5"),
    receipt("redeem:rec9:redeemed", A.REDEEMED, at(2, 5), "recA", "1", details="rehearsal: till"),
    receipt("action:rec2:voided", A.VOIDED, at(2, 10), "recB", "50", before="50", after="0"),
    receipt("create:recC:created", A.CREATED, at(2, 1), "recC", "25", after="25"),
    receipt("action:rec3:adjusted", A.ADJUSTED, at(2, 15), "recC", "-5", before="25", after="20"),
    receipt("action:rec4:adjusted", A.ADJUSTED, at(3, 1), "recC", "10", before="20", after="30"),
    receipt("drift:recC:balance:x:repaired", A.DRIFT_REPAIRED, at(3, 2), "recC", None),
    receipt("create:recD:created", A.CREATED, at(1, 2), "recD", "40", after="40"),
    receipt("expire:recD:2025-03-01:expired", A.EXPIRED, at(3, 2), "recD", "40", before="40"),
    receipt("create:recE:created", A.CREATED, at(1, 5), "recE", "25", after="25"),
    receipt("redeem:rec5:redeemed", A.REDEEMED, at(1, 6), "recE", "25", store="recS1"),
    receipt("rehearsal:create:recR:created", A.CREATED, at(2, 1), "recR", "10"),
    receipt("redeem:rec6:redeemed", A.REDEEMED, at(2, 1, 13), "recR", "10"),
    receipt("action:rec7:voided", A.VOIDED, at(1, 3), "recP", "0"),
    receipt("create:recF:created", A.CREATED, at(2, 10), "recF", "80", after="80"),
    receipt("redeem:rec8:redeemed", A.REDEEMED, at(2, 11), "recF", "30", store="recS2"),
    receipt("action:rec10:voided", A.VOIDED, at(2, 20), "recF", "50"),
    receipt("action:rec11:reactivated", A.REACTIVATED, at(2, 25), "recF", "50"),
    receipt("expire:recG:2025-01-30:expired", A.EXPIRED, at(1, 31), "recG", "20", before="20"),
    receipt("action:rec12:expiry-changed", A.EXPIRY_CHANGED, at(2, 2), "recG", None),
]
