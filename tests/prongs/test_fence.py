"""The lease's fence in the store prong: no money moves while ownership is not proven, and
while another owner may have acted lately every debit and credit reads its key back first."""

from __future__ import annotations

from cards.money import Money
from cards.vocab import CardActionType, RedemptionOutcome, RequestStatus
from config.layout import CardActions, GiftCards
from config.layout import StoreRedemptions as S
from prongs.report import LeaseNotProven, OpenGate
from tests.prongs.conftest import Harness, usd


class FencedGate(OpenGate):
    def __init__(self, *, open_: bool = True, contested: bool = False) -> None:
        super().__init__()
        self.open, self.is_contested = open_, contested

    def fence(self) -> None:
        if not self.open:
            raise LeaseNotProven("the lease ran out before a renewal")

    def contested(self) -> bool:
        return self.is_contested


def test_no_debit_while_the_lease_is_not_proven(h: Harness) -> None:
    card = h.issue("50.00")
    rec = h.redemption(h.code_of(card).reveal(), "10.00")
    report = h.run(FencedGate(open_=False))
    assert h.at.row(S.TABLE, rec)[S.STATUS] == RequestStatus.PROCESSING  # left to resume
    assert h.shop.notes(h.shopify_id(card)) == [] and "lease" in report.errors[0]
    h.run(FencedGate())
    assert h.at.row(S.TABLE, rec)[S.OUTCOME] == RedemptionOutcome.SUCCESS
    assert len(h.shop.notes(h.shopify_id(card))) == 1


def test_a_contested_lease_reads_back_a_fresh_requests_debit_made_by_another_owner(
    h: Harness,
) -> None:
    card = h.issue("50.00")
    rec = h.redemption(h.code_of(card).reveal(), "10.00")
    gid = h.shopify_id(card)
    h.shop.debit(gid, usd("10.00"), f"giftbridge redeem:{rec}")  # the other owner's, unclosed
    h.run(FencedGate(contested=True))
    assert h.at.row(S.TABLE, rec)[S.OUTCOME] == RedemptionOutcome.SUCCESS
    assert len(h.shop.notes(gid)) == 1
    assert h.shop.balance(gid) == usd("40.00") == h.card(card)[GiftCards.BALANCE]


def test_a_contested_lease_reads_back_a_card_action_too(h: Harness) -> None:
    card = h.issue("50.00")
    rec = h.card_action(card, CardActionType.ADJUST_BALANCE, reason="Goodwill", amount="5.00")
    gid = h.shopify_id(card)
    h.shop.credit(gid, Money.of("5.00", "USD"), f"giftbridge action:{rec}")
    h.run(FencedGate(contested=True))
    assert h.at.row(CardActions.TABLE, rec)[CardActions.OUTCOME] == "Applied"
    assert len(h.shop.notes(gid)) == 1 and h.shop.balance(gid) == usd("55.00")


def test_without_contest_a_fresh_request_costs_no_read_back(h: Harness) -> None:
    card = h.issue("50.00")
    h.redemption(h.code_of(card).reveal(), "10.00")
    before = h.injector.count("shopify.find_transaction_by_note")
    h.run(FencedGate())
    assert h.injector.count("shopify.find_transaction_by_note") == before
