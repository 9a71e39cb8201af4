"""The status page's headline figures, per currency. Pure, no I/O.

- **Owed now** (liability): the Balance of every Active card, as last read (an Expired card's
  balance is breakage, as in the report).
- **Issued** today and this month: cards whose Issued At falls then, at their Initial Value, as
  the report counts them (:mod:`cards.ledger`).
- **Redeemed** today and this month: Redeemed (in store) and Redeemed Online receipts whose At
  falls then. A receipt's currency is its card's; a card that is neither Active nor issued this
  month (say, spent down to zero) is taken to be in the shop's currency.

Days and months are UTC. Rehearsal cards and receipts (:func:`cards.ledger.is_rehearsal`) are
left out.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from cards.ledger import ISSUING_ACTIONS, CardFacts, ReceiptFacts
from cards.money import Money, MoneyError
from cards.report_figures import Tally, day_of
from cards.vocab import ReceiptAction

REDEMPTIONS = frozenset({ReceiptAction.REDEEMED, ReceiptAction.REDEEMED_ONLINE})


@dataclass(frozen=True, slots=True)
class Headline:
    currency: str
    owed: Money
    issued_today: Tally
    issued_month: Tally
    redeemed_today: Tally
    redeemed_month: Tally


@dataclass
class _Sums:
    currency: str

    def __post_init__(self) -> None:
        zero = Tally.zero(self.currency)
        self.owed = Money.zero(self.currency)
        self.issued_today = self.issued_month = zero
        self.redeemed_today = self.redeemed_month = zero

    def issue(self, card: CardFacts, today: date) -> None:
        if card.initial_value is None or card.issued_at is None:
            return
        self.issued_month = self.issued_month.plus(card.initial_value)
        if day_of(card.issued_at) == today:
            self.issued_today = self.issued_today.plus(card.initial_value)

    def redeem(self, amount: Money, today: bool) -> None:
        self.redeemed_month = self.redeemed_month.plus(amount)
        if today:
            self.redeemed_today = self.redeemed_today.plus(amount)

    def headline(self) -> Headline:
        return Headline(
            self.currency,
            self.owed,
            self.issued_today,
            self.issued_month,
            self.redeemed_today,
            self.redeemed_month,
        )


def _rehearsal_ids(cards: list[CardFacts], receipts: list[ReceiptFacts]) -> set[str]:
    found = {c.id for c in cards if c.rehearsal}
    return found | {
        r.card_id for r in receipts if r.rehearsal and r.action in ISSUING_ACTIONS and r.card_id
    }


def _redeemed(receipt: ReceiptFacts, currency: str, rehearsal: set[str]) -> Money | None:
    """What a redemption receipt took, or None when it is no redemption to count."""
    if receipt.action not in REDEMPTIONS or receipt.rehearsal or receipt.amount is None:
        return None
    if receipt.card_id in rehearsal:
        return None
    try:
        return abs(Money.of(receipt.amount, currency))
    except MoneyError:
        return None  # the report lists such a receipt; a headline cannot


def headline(
    issued_this_month: Iterable[CardFacts],
    receipts_this_month: Iterable[ReceiptFacts],
    active_cards: Iterable[CardFacts],
    today: date,
    shop_currency: str,
) -> dict[str, Headline]:
    """Headline figures per currency: the shop's first (always present), then any other."""
    issued, active = list(issued_this_month), list(active_cards)
    receipts = list(receipts_this_month)
    rehearsal = _rehearsal_ids([*issued, *active], receipts)
    currency_of = {c.id: c.currency for c in [*issued, *active]}
    sums: dict[str, _Sums] = {shop_currency: _Sums(shop_currency)}

    def of(currency: str) -> _Sums:
        return sums.setdefault(currency, _Sums(currency))

    for card in active:
        if card.id not in rehearsal:
            of(card.currency).owed = of(card.currency).owed + card.outstanding
    for card in issued:
        if card.id not in rehearsal and card.issued:
            of(card.currency).issue(card, today)
    for receipt in receipts:
        currency = currency_of.get(receipt.card_id or "", shop_currency)
        amount = _redeemed(receipt, currency, rehearsal)
        if amount is not None:
            of(currency).redeem(amount, day_of(receipt.at) == today)
    order = sorted(sums, key=lambda cur: (cur != shop_currency, cur))
    return {cur: sums[cur].headline() for cur in order}
