"""One card per creation request, and per online order unit, whatever staff delete: the code is
derived from the key, so a Gift Cards row deleted while its request is open is made again with
the same code, and Shopify's TAKEN leads to the card already issued."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from cards.codes import derive
from cards.vocab import CardStatus, CreationOutcome, RequestStatus
from config.layout import CreationRequests, GiftCards, Receipts, Stores
from prongs.issuance import code_for
from tests.fakes import SimulatedCrash, World
from tests.prongs.conftest import CODE_KEY, Harness, card_config
from tests.prongs.test_bulk_issuance import csv_rows, import_rows
from tests.prongs_shopify.conftest import SKU, purchases_config, run_purchases, usd


def delete_card_rows(at: Any) -> None:
    """Staff delete every Gift Cards row; Airtable unlinks them everywhere."""
    gone = set(at.tables[GiftCards.TABLE])
    at.tables[GiftCards.TABLE].clear()
    for rows in at.tables.values():
        for row in rows.values():
            for name, value in list(row.items()):
                if isinstance(value, tuple) and set(value) & gone:
                    row[name] = tuple(v for v in value if v not in gone)


@pytest.mark.parametrize(
    "crash_at",
    [
        "shopify.create_card",  # the card exists, its row still Pending
        "airtable.upload",  # the row is Active, the certificate not attached
        "klaviyo.send",  # Active with its certificate, the emails not sent
    ],
)
def test_a_row_deleted_while_its_request_is_open_never_makes_a_second_card(
    h: Harness, crash_at: str
) -> None:
    rec = h.creation()
    h.injector.arm(crash_at, "crash_after")
    with pytest.raises(SimulatedCrash):
        h.run()
    (first,) = h.shop.cards.values()
    delete_card_rows(h.at)
    h.run()
    assert len(h.shop.cards) == 1  # no second card in Shopify
    (row,) = h.at.rows(GiftCards.TABLE)
    assert row[GiftCards.SHOPIFY_GIFT_CARD_ID] == first.card.id
    assert row[GiftCards.STATUS] == CardStatus.ACTIVE
    assert h.code_of(row["id"]).reveal() == first.code
    request = h.at.row(CreationRequests.TABLE, rec)
    assert request[CreationRequests.OUTCOME] == CreationOutcome.CREATED
    assert request[CreationRequests.GIFT_CARD] == (row["id"],)
    assert len(h.events(f"create:{rec}:recipient")) == 1  # Klaviyo drops the repeat
    assert h.receipts()[f"create:{rec}:created"][Receipts.GIFT_CARD] == (row["id"],)


def test_a_pending_row_deleted_before_shopify_made_the_card_is_simply_made_again(
    h: Harness,
) -> None:
    rec = h.creation()
    h.injector.arm("shopify.create_card", "crash_before")
    with pytest.raises(SimulatedCrash):
        h.run()
    delete_card_rows(h.at)
    h.run()
    assert len(h.shop.cards) == 1
    assert h.at.row(CreationRequests.TABLE, rec)[CreationRequests.STATUS] == RequestStatus.DONE


def test_taken_but_not_found_yet_waits_for_shopifys_search(
    h: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    rec = h.creation()
    h.injector.arm("shopify.create_card", "crash_after")
    with pytest.raises(SimulatedCrash):
        h.run()
    delete_card_rows(h.at)
    original = h.shop.find_cards_by_code
    monkeypatch.setattr(h.shop, "find_cards_by_code", lambda code: [])  # the index lags
    report = h.run()
    assert report.errors  # left for the next run, nothing abandoned
    assert h.at.row(CreationRequests.TABLE, rec).get(CreationRequests.STATUS) is None
    monkeypatch.setattr(h.shop, "find_cards_by_code", original)
    h.run()
    assert len(h.shop.cards) == 1
    assert h.at.row(CreationRequests.TABLE, rec)[CreationRequests.OUTCOME] == "Created"


def test_the_code_is_the_keys_own() -> None:
    config = card_config()
    from cards.keys import ActionKey

    key = ActionKey.create("recA1b2C3d4E5f6G7")
    assert code_for(config, key) == derive(str(key), CODE_KEY, 12)
    assert code_for(config, ActionKey.create("recA1b2C3d4E5f6G8")) != code_for(config, key)


def test_an_order_unit_whose_row_was_deleted_is_not_issued_again() -> None:
    world = World.build("USD")
    shop = world.shopify
    gift = shop.line_item(usd("50.00"), sku=SKU, quantity=2)
    shop.place_order(gift)
    world.injector.arm("shopify.create_card", "crash_after")  # the first unit's card exists
    with pytest.raises(SimulatedCrash):
        run_purchases(world, purchases_config())
    assert len(shop.cards) == 1
    delete_card_rows(world.airtable)
    for _ in range(4):
        run_purchases(world, purchases_config())
    assert len(shop.cards) == 2  # one per unit, never three
    notes = sorted(c.card.note or "" for c in shop.cards.values())
    assert len(set(notes)) == 2 and all(n.startswith("giftbridge order:") for n in notes)
    rows = world.airtable.rows(GiftCards.TABLE)
    assert sorted(r[GiftCards.SHOPIFY_GIFT_CARD_ID] for r in rows) == sorted(shop.cards)


@pytest.mark.parametrize("amount", [None, Decimal("1e30")])
def test_a_request_edited_after_its_card_was_made_goes_on_with_the_recorded_amount(
    h: Harness, amount: Decimal | None
) -> None:
    """Never Rejected after its card exists: the row recorded the amount the card was made for."""
    rec = h.creation()
    h.injector.arm("shopify.create_card", "crash_after")
    with pytest.raises(SimulatedCrash):
        h.run()
    h.at._apply(CreationRequests.TABLE, rec, {CreationRequests.AMOUNT: amount})
    h.run()
    (card,) = h.shop.cards.values()
    assert card.card.initial_value == usd("50.00")
    request = h.at.row(CreationRequests.TABLE, rec)
    assert (request[CreationRequests.STATUS], request[CreationRequests.OUTCOME]) == (
        RequestStatus.DONE,
        CreationOutcome.CREATED,
    )


def test_a_request_spoiled_elsewhere_after_its_card_was_made_is_left_for_a_person(
    h: Harness,
) -> None:
    rec = h.creation()
    h.injector.arm("shopify.create_card", "crash_after")
    with pytest.raises(SimulatedCrash):
        h.run()
    h.at._apply(CreationRequests.TABLE, rec, {CreationRequests.RECIPIENT_EMAIL: "not an email"})
    h.run()
    request = h.at.row(CreationRequests.TABLE, rec)
    assert request[CreationRequests.STATUS] == RequestStatus.NEEDS_ATTENTION
    assert request[CreationRequests.OUTCOME] == CreationOutcome.ERROR
    assert "edited after its card" in request[CreationRequests.RESULT_MESSAGE]
    assert "email" in request[CreationRequests.RESULT_MESSAGE].lower()


def test_a_bulk_request_edited_after_its_card_was_made_goes_on_with_the_recorded_amount(
    h: Harness,
) -> None:
    first, *_ = import_rows(h, csv_rows(3))
    h.injector.arm("shopify.create_card", "crash_after")
    with pytest.raises(SimulatedCrash):
        h.run()
    h.at._apply(CreationRequests.TABLE, first, {CreationRequests.AMOUNT: None})
    report = h.run()
    assert report.outcomes == {"Created": 3}, report.outcomes
    values = sorted(str(c.card.initial_value.amount) for c in h.shop.cards.values())
    assert values == ["21.00", "22.00", "23.00"]


def test_a_code_typed_at_a_till_for_our_card_whose_row_was_deleted_restores_that_row(
    h: Harness,
) -> None:
    """The card's note carries its key: the row comes back under it (as the audit would restore
    it), not as a second, Imported identity of the same card."""
    card_id = h.issue("50.00")
    code = h.code_of(card_id).reveal()
    rec = h.at.row(GiftCards.TABLE, card_id)[GiftCards.ORIGIN_KEY]
    delete_card_rows(h.at)
    h.redemption(code, "10.00")
    h.run()
    (row,) = h.at.rows(GiftCards.TABLE)
    assert row[GiftCards.ORIGIN_KEY] == rec
    assert row[GiftCards.BALANCE] == usd("40.00")


def test_a_card_made_for_a_store_switched_off_since_and_whose_row_was_deleted_is_finished(
    h: Harness,
) -> None:
    """Authorised when its intent was recorded: the store switched off and the row deleted
    afterwards, the card in Shopify (found by the code its key derives) is still finished,
    not Rejected Not Allowed with a live card nobody holds (sim seed 4958)."""
    store = h.store()
    rec = h.creation(**{CreationRequests.STORE: (store,)})
    h.injector.arm("shopify.create_card", "crash_after")
    with pytest.raises(SimulatedCrash):
        h.run()
    delete_card_rows(h.at)
    h.at._apply(Stores.TABLE, store, {Stores.ACTIVE: False})
    h.run()
    (card,) = h.shop.cards.values()
    request = h.at.row(CreationRequests.TABLE, rec)
    assert request[CreationRequests.OUTCOME] == CreationOutcome.CREATED
    (row,) = h.at.rows(GiftCards.TABLE)
    assert row[GiftCards.SHOPIFY_GIFT_CARD_ID] == card.card.id
