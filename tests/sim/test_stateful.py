"""A Hypothesis state machine over the store prong: requests, runs, crashes and lost responses
in any order, with the money invariants checked after every step and at quiescence.

Rules add requests (creations, redemptions, balance adjustments, voids, reactivations) and run
the prong, sometimes arming a crash or a dropped response at a random outside call. Whatever the
interleaving, no key ever moves money twice, no balance goes negative, no reference has two
receipts, and once the faults stop, every request reaches a final status and every card's
Airtable balance equals Shopify's.
"""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
)

from cards.codes import unseal
from cards.keys import key_from_note
from cards.money import Money
from cards.vocab import CardActionType, RequestStatus
from config.layout import (
    CardActions,
    CreationRequests,
    GiftCards,
    Receipts,
    StoreRedemptions,
)
from tests.fakes import SimulatedCrash
from tests.prongs.conftest import CODE_KEY, Harness

MODES = ("crash_before", "crash_after", "drop_after")
FINAL = {
    RequestStatus.DONE.value,
    RequestStatus.REJECTED.value,
    RequestStatus.NEEDS_ATTENTION.value,
}
REQUEST_TABLES = (StoreRedemptions.TABLE, CreationRequests.TABLE, CardActions.TABLE)


class StoreMachine(RuleBasedStateMachine):
    cards = Bundle("cards")

    def __init__(self) -> None:
        super().__init__()
        self.h = Harness()
        self.store = self.h.store()

    @initialize(target=cards, amount=st.sampled_from(["20.00", "50.00", "100.00"]))
    def first_card(self, amount: str) -> str:
        return self.h.issue(amount)

    @rule(target=cards, amount=st.sampled_from(["10.00", "35.50", "75.00"]))
    def sell(self, amount: str) -> str:
        return self.h.issue(amount)

    @rule(card=cards, cents=st.integers(min_value=1, max_value=9000))
    def redeem(self, card: str, cents: int) -> None:
        code = unseal(self.h.card(card)[GiftCards.CODE_SEALED], CODE_KEY)
        self.h.redemption(code.reveal(), str(Decimal(cents).scaleb(-2)), self.store)

    @rule(card=cards, cents=st.integers(min_value=-3000, max_value=3000).filter(bool))
    def adjust(self, card: str, cents: int) -> None:
        self.h.card_action(
            card,
            CardActionType.ADJUST_BALANCE,
            amount=str(Decimal(cents).scaleb(-2)),
            reason="goodwill",
        )

    @rule(card=cards)
    def void(self, card: str) -> None:
        self.h.card_action(card, CardActionType.VOID, reason="lost")

    @rule(card=cards)
    def reactivate(self, card: str) -> None:
        self.h.card_action(card, CardActionType.REACTIVATE, reason="found")

    @rule(offset=st.integers(min_value=0, max_value=30), mode=st.sampled_from(MODES))
    def run_with_a_fault(self, offset: int, mode: str) -> None:
        injector = self.h.injector
        injector.arm_index(len(injector.calls) + offset, mode)
        try:
            self.h.run()
        except SimulatedCrash:
            pass  # the process died; the next run is a fresh start over the same world
        finally:
            injector.disarm()

    @rule()
    def run_cleanly(self) -> None:
        self.h.run()

    @rule(seconds=st.sampled_from([1, 30, 3600]))
    def time_passes(self, seconds: int) -> None:
        self.h.world.clock.advance(seconds)

    # --- invariants ----------------------------------------------------------------------
    @invariant()
    def no_key_moves_money_twice(self) -> None:
        for card_id in self.h.shop.cards:
            notes = [n for n in self.h.shop.notes(card_id) if key_from_note(n) is not None]
            repeated = [n for n, count in Counter(notes).items() if count > 1]
            assert not repeated, repeated

    @invariant()
    def balances_never_go_negative(self) -> None:
        for card_id in self.h.shop.cards:
            assert not self.h.shop.balance(card_id).is_negative

    @invariant()
    def one_receipt_per_reference(self) -> None:
        references = [r[Receipts.REFERENCE] for r in self.h.at.rows(Receipts.TABLE)]
        assert len(references) == len(set(references))

    @rule()
    def quiesce_and_balance_the_books(self) -> None:
        self.h.run_until_quiet(runs=10)
        for table in REQUEST_TABLES:
            for row in self.h.at.rows(table):
                assert row.get("Status") in FINAL, (table, row)
        for row in self.h.at.rows(GiftCards.TABLE):
            gid = row.get(GiftCards.SHOPIFY_GIFT_CARD_ID)
            if gid is None:
                continue
            mirrored = row.get(GiftCards.BALANCE)
            assert mirrored == self.h.shop.balance(gid), (row["id"], mirrored)
            assert isinstance(mirrored, Money)


TestStoreMachine = StoreMachine.TestCase
TestStoreMachine.settings = settings(
    max_examples=40,
    stateful_step_count=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
