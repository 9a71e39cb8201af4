"""Store authority: a store redemption or store creation must link exactly one Active store."""

from __future__ import annotations

from decimal import Decimal

import pytest

from cards.authority import store_refusal
from cards.vocab import Channel, CreationOutcome, RedemptionOutcome, RequestStatus
from clients.records import Store
from config.layout import CreationRequests, GiftCards, Stores
from config.layout import StoreRedemptions as S
from tests.fakes import SimulatedCrash
from tests.prongs.conftest import Harness, usd

STORES = {
    "recActive": Store("recActive", "Main St", active=True),
    "recClosed": Store("recClosed", "Old Town", active=False),
}


@pytest.mark.parametrize(
    ("linked", "required", "allowed", "says"),
    [
        ((), True, False, "No store is linked"),
        ((), False, True, None),
        (("recActive",), True, True, None),
        (("recActive",), False, True, None),
        (("recClosed",), True, False, "Old Town is not Active"),
        (("recClosed",), False, False, "Old Town is not Active"),
        (("recActive", "recClosed"), True, False, "2 stores are linked"),
        (("recGone",), True, False, "not in Stores"),
    ],
)
def test_the_rule(
    linked: tuple[str, ...], required: bool, allowed: bool, says: str | None
) -> None:
    why = store_refusal(linked, STORES, required=required)
    assert (why is None) is allowed
    if says is not None:
        assert why is not None and says in why


def closed_store(h: Harness, email: str | None = "old@example.com") -> str:
    store = h.store(email=email, name="Old Town")
    h.at.edit(Stores.TABLE, store, {Stores.ACTIVE: False})
    return store


def test_a_redemption_from_an_inactive_store_debits_nothing_and_tells_the_store(
    h: Harness,
) -> None:
    card = h.issue("50.00")
    rec = h.redemption(h.code_of(card).reveal(), "10.00", store=closed_store(h))
    h.run()
    row = h.at.row(S.TABLE, rec)
    assert row[S.STATUS] == RequestStatus.REJECTED
    assert row[S.OUTCOME] == RedemptionOutcome.NOT_ALLOWED
    assert "not Active" in row[S.RESULT_MESSAGE]
    assert row[S.CODE].startswith("\u2022")  # masked all the same
    assert h.shop.notes(h.shopify_id(card)) == []
    assert h.card(card)[GiftCards.BALANCE] == usd("50.00")
    notice = h.event(f"redeem:{rec}:store")
    assert notice.email == "old@example.com" and notice.properties["outcome"] == "Not Allowed"
    assert f"redeem:{rec}:redemption-rejected" in h.receipts()


@pytest.mark.parametrize("stores", ["none", "two"])
def test_a_redemption_without_exactly_one_store_is_not_allowed(h: Harness, stores: str) -> None:
    card = h.issue("50.00")
    good = h.redemption(h.code_of(card).reveal(), "5.00")
    rec = h.redemption(h.code_of(card).reveal(), "10.00", store=None)
    if stores == "two":
        h.at.edit(S.TABLE, rec, {S.STORE: (h.default_store(), h.store(name="Second"))})
    h.run()
    assert h.at.row(S.TABLE, rec)[S.OUTCOME] == RedemptionOutcome.NOT_ALLOWED
    assert h.at.row(S.TABLE, good)[S.OUTCOME] == RedemptionOutcome.SUCCESS  # the group goes on
    assert len(h.shop.notes(h.shopify_id(card))) == 1
    assert h.card(card)[GiftCards.BALANCE] == usd("45.00")


def test_a_resumed_redemption_goes_on_when_its_store_was_closed_meanwhile(h: Harness) -> None:
    card = h.issue("50.00")
    store = h.store(name="Old Town")
    rec = h.redemption(h.code_of(card).reveal(), "10.00", store=store)
    h.injector.arm("shopify.debit", "crash_after")  # debited, then the process died
    with pytest.raises(SimulatedCrash):
        h.run()
    h.at.edit(Stores.TABLE, store, {Stores.ACTIVE: False})
    h.run()
    assert h.at.row(S.TABLE, rec)[S.OUTCOME] == RedemptionOutcome.SUCCESS
    assert len(h.shop.notes(h.shopify_id(card))) == 1


@pytest.mark.parametrize(
    ("channel", "store", "outcome"),
    [
        (Channel.STORE, "none", CreationOutcome.NOT_ALLOWED),
        (Channel.STORE, "closed", CreationOutcome.NOT_ALLOWED),
        (Channel.STORE, "open", CreationOutcome.CREATED),
        (None, "closed", CreationOutcome.NOT_ALLOWED),  # a blank Channel with a store is Store
        (Channel.PHONE, "none", CreationOutcome.CREATED),
        (Channel.PHONE, "closed", CreationOutcome.NOT_ALLOWED),
        (Channel.EMAIL, "open", CreationOutcome.CREATED),
        (Channel.PORTAL, "none", CreationOutcome.CREATED),
    ],
)
def test_which_creations_need_a_store(
    h: Harness, channel: Channel | None, store: str, outcome: CreationOutcome
) -> None:
    linked = {"none": None, "closed": (closed_store(h),), "open": (h.store(),)}[store]
    rec = h.creation(**{CreationRequests.CHANNEL: channel, CreationRequests.STORE: linked})
    h.run()
    row = h.at.row(CreationRequests.TABLE, rec)
    assert row[CreationRequests.OUTCOME] == outcome
    issued = h.shop.cards
    assert len(issued) == (1 if outcome == CreationOutcome.CREATED else 0)
    if outcome == CreationOutcome.NOT_ALLOWED:
        assert row[CreationRequests.STATUS] == RequestStatus.REJECTED
        assert h.at.rows(GiftCards.TABLE) == []
    if store == "closed":
        assert h.event(f"create:{rec}:store").properties["outcome"] == outcome.value


def test_a_creation_already_issuing_goes_on_when_its_store_was_closed(h: Harness) -> None:
    store = h.store(name="Old Town")
    rec = h.creation(**{CreationRequests.STORE: (store,), CreationRequests.AMOUNT: Decimal(20)})
    h.injector.arm("shopify.create_card", "crash_after")
    with pytest.raises(SimulatedCrash):
        h.run()
    h.at.edit(Stores.TABLE, store, {Stores.ACTIVE: False})
    h.run()
    row = h.at.row(CreationRequests.TABLE, rec)
    assert row[CreationRequests.OUTCOME] == CreationOutcome.CREATED
    assert len(h.shop.cards) == 1
