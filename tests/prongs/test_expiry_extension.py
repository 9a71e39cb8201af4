"""Extending the expiry (Card Actions -> Extend Expiry, through the store prong) brings an
Expired card back to Active, and its reminders start over for the new date."""

from __future__ import annotations

from datetime import timedelta

from cards.policy import ExpiryPolicy
from cards.vocab import CardActionType, CardStatus, ReceiptAction, RequestStatus
from config.layout import CardActions, GiftCards, Receipts
from prongs.store_context import StoreConfig
from tests.prongs.conftest import Harness, card_config
from tests.prongs.expiry_kit import run

DAY = 86400


def test_an_extension_revives_an_expired_card_and_restarts_its_reminders() -> None:
    h = Harness(config=StoreConfig(card=card_config(expiry=ExpiryPolicy(10))))
    card = h.issue("40.00")
    first = h.card(card)[GiftCards.EXPIRES_ON]
    assert first == h.world.clock.now().date() + timedelta(days=10)

    run(h.world)  # 10 days left: the 30-day reminder (the nearest crossed)
    h.world.clock.advance(4 * DAY)
    run(h.world)  # 6 days left: the 7-day reminder
    h.world.clock.advance(7 * DAY)
    run(h.world)  # past the date: Expired
    assert h.card(card)[GiftCards.STATUS] == CardStatus.EXPIRED

    new = h.world.clock.now().date() + timedelta(days=20)
    action = h.card_action(card, CardActionType.EXTEND_EXPIRY, new_expiry=new)
    h.run()
    assert h.at.row(CardActions.TABLE, action)[CardActions.STATUS] == RequestStatus.DONE
    assert h.card(card)[GiftCards.STATUS] == CardStatus.ACTIVE
    assert h.world.shopify.cards[h.shopify_id(card)].card.expires_on == new

    run(h.world)  # the new date: reminders start over
    h.world.clock.advance(14 * DAY)
    run(h.world)

    reminders = [e.unique_id for e in h.world.email.events if e.unique_id.startswith("remind:")]
    assert reminders == [
        f"remind:{card}:{first}:30:recipient",
        f"remind:{card}:{first}:7:recipient",
        f"remind:{card}:{new}:30:recipient",
        f"remind:{card}:{new}:7:recipient",
    ]
    actions = [r[Receipts.ACTION] for r in h.receipts().values()]
    assert actions.count(ReceiptAction.EXPIRED) == 1
    assert actions.count(ReceiptAction.EXPIRY_CHANGED) == 1
    assert actions.count(ReceiptAction.REMINDER_SENT) == 4
