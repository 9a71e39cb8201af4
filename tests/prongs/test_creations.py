"""Creation requests: the card, its emails and receipts; every refusal."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from cards.codes import Code, digest
from cards.policy import ExpiryPolicy
from cards.vocab import (
    CardSource,
    CardStatus,
    Channel,
    CreationOutcome,
    Kind,
    Metric,
    RequestStatus,
    Theme,
)
from config.layout import CreationRequests, GiftCards, Receipts
from prongs import issuance
from prongs.store_context import StoreConfig
from tests.prongs.conftest import PEPPER, Harness, card_config, usd

C = CreationRequests


def request(h: Harness, rec: str) -> dict[str, Any]:
    return h.at.row(C.TABLE, rec)


def test_a_gift_from_a_store_is_issued_mailed_and_receipted(h: Harness) -> None:
    store = h.store()
    rec = h.creation(**{C.STORE: (store,), C.THEME: Theme.BIRTHDAY})
    report = h.run()
    assert report.outcomes == {"Created": 1} and not report.errors
    row = request(h, rec)
    assert row[C.STATUS] == RequestStatus.DONE and row[C.OUTCOME] == CreationOutcome.CREATED
    card_id = row[C.GIFT_CARD][0]
    card = h.card(card_id)
    code = h.code_of(card_id)
    assert code.has_valid_check and len(code.reveal()) == 12
    assert card[GiftCards.STATUS] == CardStatus.ACTIVE
    assert card[GiftCards.SOURCE] == CardSource.STORE
    assert card[GiftCards.ORIGIN_KEY] == f"create:{rec}"
    assert card[GiftCards.CODE_DIGEST] == digest(code, PEPPER)
    assert (
        card[GiftCards.MASKED_CODE] == code.masked and card[GiftCards.LAST_CHARACTERS] == code.last4
    )
    assert card[GiftCards.INITIAL_VALUE] == card[GiftCards.BALANCE] == usd("50.00")
    assert card[GiftCards.ISSUED_AT] == h.world.clock.now()
    assert GiftCards.EXPIRES_ON not in card  # EXPIRY_DAYS 0: never
    assert card[GiftCards.STORE] == (store,)
    gid = card[GiftCards.SHOPIFY_GIFT_CARD_ID]
    shopify = h.shop.cards[gid]
    assert shopify.card.note == f"giftbridge create:{rec}" and shopify.code == code.reveal()
    assert h.world.certificates.rendered[-1].code_display == code.masked
    assert card[GiftCards.CERTIFICATE]
    issued = h.event(f"create:{rec}:recipient")
    assert issued.metric == Metric.ISSUED and issued.email == "rae@example.com"
    assert dict(issued.properties) == {
        "code": code.reveal(),
        "masked_code": code.masked,
        "amount": "50.00",
        "currency": "USD",
        "expires_on": None,
        "sender_name": "Pat Buyer",
        "recipient_name": "Rae Friend",
        "message": "Happy birthday",
        "theme": "Birthday",
        "kind": "Gift Card",
        "business_name": "Bridge Books",
    }
    confirmation = h.event(f"create:{rec}:purchaser")
    assert confirmation.metric == Metric.PURCHASE_CONFIRMATION
    assert confirmation.email == "pat@example.com"
    assert dict(confirmation.properties) == {
        "masked_code": code.masked,
        "amount": "50.00",
        "currency": "USD",
        "recipient_name": "Rae Friend",
        "recipient_email": "rae@example.com",
    }
    notice = h.event(f"create:{rec}:store")
    assert notice.properties["notice"] == "issue" and notice.properties["outcome"] == "Created"
    assert code.reveal() not in str(dict(notice.properties))
    receipts = h.receipts()
    assert set(receipts) == {
        f"create:{rec}:created",
        f"create:{rec}:purchased",
        f"create:{rec}:sent:recipient",
        f"create:{rec}:sent:purchaser",
    }
    created = receipts[f"create:{rec}:created"]
    assert created[Receipts.SOURCE] == "Store" and created[Receipts.REQUEST] == rec
    assert created[Receipts.SHOPIFY_REFERENCE] == gid and created[Receipts.AMOUNT] == usd("50.00")


def test_a_card_bought_for_oneself_goes_to_the_purchaser_without_confirmation(h: Harness) -> None:
    rec = h.creation(**{C.IS_GIFT: False, C.RECIPIENT_EMAIL: None, C.RECIPIENT_NAME: None})
    h.run()
    card = h.card(request(h, rec)[C.GIFT_CARD][0])
    assert h.event(f"create:{rec}:recipient").email == "pat@example.com"
    assert h.events(f"create:{rec}:purchaser") == []
    assert card[GiftCards.RECIPIENT_EMAIL] == "pat@example.com"  # the holder, for later emails
    assert set(h.receipts()) == {
        f"create:{rec}:created",
        f"create:{rec}:purchased",
        f"create:{rec}:sent:recipient",
    }


@pytest.mark.parametrize(
    ("channel", "source"),
    [(Channel.PHONE, CardSource.MANUAL), (Channel.EMAIL, CardSource.MANUAL)],
)
def test_phone_and_email_requests_are_manual(h: Harness, channel: Channel, source: str) -> None:
    rec = h.creation(**{C.CHANNEL: channel})
    h.run()
    card = h.card(request(h, rec)[C.GIFT_CARD][0])
    assert card[GiftCards.SOURCE] == source
    assert h.receipts()[f"create:{rec}:purchased"][Receipts.SOURCE] == "Manual"


def test_a_portal_request_has_portal_receipts(h: Harness) -> None:
    rec = h.creation(**{C.CHANNEL: Channel.PORTAL, C.KIND: Kind.CERTIFICATE})
    h.run()
    card = h.card(request(h, rec)[C.GIFT_CARD][0])
    assert card[GiftCards.SOURCE] == CardSource.PORTAL and card[GiftCards.KIND] == Kind.CERTIFICATE
    assert h.event(f"create:{rec}:recipient").properties["kind"] == "Certificate"
    assert {f"create:{rec}:purchased-from-portal", f"create:{rec}:activated-from-portal"} <= set(
        h.receipts()
    )
    assert f"create:{rec}:purchased" not in h.receipts()


def test_expiry_days_set_expires_on_in_shopify_and_airtable() -> None:
    h = Harness(config=StoreConfig(card=card_config(expiry=ExpiryPolicy(1825))))
    rec = h.creation()
    h.run()
    card = h.card(request(h, rec)[C.GIFT_CARD][0])
    assert card[GiftCards.EXPIRES_ON] == date(2031, 11, 21)
    assert h.shop.cards[card[GiftCards.SHOPIFY_GIFT_CARD_ID]].card.expires_on == date(2031, 11, 21)
    assert h.event(f"create:{rec}:recipient").properties["expires_on"] == "2031-11-21"


def _refused(h: Harness, rec: str, outcome: CreationOutcome) -> None:
    row = request(h, rec)
    assert row[C.OUTCOME] == outcome, row.get(C.RESULT_MESSAGE)
    assert row[C.STATUS] == RequestStatus.REJECTED and row[C.RESULT_MESSAGE]
    assert h.at.rows(GiftCards.TABLE) == [] and h.shop.cards == {}
    assert h.event(f"create:{rec}:store").properties["outcome"] == outcome.value
    assert h.receipts() == {}


@pytest.mark.parametrize("amount", [None, "4.99", "1000.01", "10.001", "0", "-10"])
def test_invalid_amounts(h: Harness, amount: str | None) -> None:
    store = h.store()
    rec = h.creation(**{C.STORE: (store,), C.AMOUNT: Decimal(amount) if amount else None})
    h.run()
    _refused(h, rec, CreationOutcome.INVALID_AMOUNT)


@pytest.mark.parametrize("blank", [C.PURCHASER_NAME, C.RECIPIENT_NAME, C.RECIPIENT_EMAIL])
def test_missing_information(h: Harness, blank: str) -> None:
    store = h.store()
    rec = h.creation(**{C.STORE: (store,), blank: None})
    h.run()
    _refused(h, rec, CreationOutcome.MISSING_INFORMATION)


def test_a_card_for_oneself_needs_the_purchasers_email(h: Harness) -> None:
    store = h.store()
    rec = h.creation(**{C.STORE: (store,), C.IS_GIFT: False, C.PURCHASER_EMAIL: None})
    h.run()
    _refused(h, rec, CreationOutcome.MISSING_INFORMATION)


@pytest.mark.parametrize("field", [C.PURCHASER_EMAIL, C.RECIPIENT_EMAIL])
def test_invalid_email(h: Harness, field: str) -> None:
    store = h.store()
    rec = h.creation(**{C.STORE: (store,), field: "not-an-address"})
    h.run()
    _refused(h, rec, CreationOutcome.INVALID_EMAIL)


def test_portal_requests_are_refused_while_the_portal_is_disabled() -> None:
    h = Harness(config=StoreConfig(card=card_config(), portal_enabled=False))
    store = h.store()
    rec = h.creation(**{C.STORE: (store,), C.CHANNEL: Channel.PORTAL})
    h.run()
    _refused(h, rec, CreationOutcome.PORTAL_DISABLED)


def test_a_failing_recipient_email_needs_attention_with_the_card_created(h: Harness) -> None:
    rec = h.creation()
    first_send = None

    def fail_issued(op: str) -> None:
        nonlocal first_send
        if op == "klaviyo.send" and first_send is None:
            first_send = len(h.injector.calls)
            for i in range(3):
                h.injector.arm_index(first_send + i, "fail_before")

    h.injector.hook = fail_issued
    h.run()
    row = request(h, rec)
    assert row[C.STATUS] == RequestStatus.NEEDS_ATTENTION
    assert row[C.OUTCOME] == CreationOutcome.CREATED and "kept failing" in row[C.RESULT_MESSAGE]
    receipts = h.receipts()
    assert f"create:{rec}:email-failed:recipient" in receipts
    assert f"create:{rec}:sent:recipient" not in receipts
    assert f"create:{rec}:sent:purchaser" in receipts


def test_a_code_taken_by_someone_elses_card_abandons_the_pending_row(
    h: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    taken = Code.parse("TAKEN1234567")
    h.shop.issue_native(taken.reveal(), usd("5.00"))
    monkeypatch.setattr(issuance, "code_for", lambda config, key: taken)
    rec = h.creation()
    report = h.run()
    row = request(h, rec)
    assert row[C.OUTCOME] == CreationOutcome.ERROR
    assert row[C.STATUS] == RequestStatus.NEEDS_ATTENTION
    assert len(report.errors) == 1
    (card,) = h.at.rows(GiftCards.TABLE)
    assert card[GiftCards.STATUS] == CardStatus.VOIDED and GiftCards.CODE_DIGEST not in card
    assert len(h.shop.cards) == 1  # only the other card


def test_a_card_shopify_refuses_is_abandoned(h: Harness) -> None:
    rec = h.creation()
    h.injector.hook = None
    from clients.errors import Permanent

    original = h.shop.create_card

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise Permanent("shopify", "giftCardCreate", "too much", code="GREATER_THAN")

    h.shop.create_card = refuse  # type: ignore[method-assign]
    h.run()
    h.shop.create_card = original  # type: ignore[method-assign]
    assert request(h, rec)[C.OUTCOME] == CreationOutcome.ERROR
    assert h.at.rows(GiftCards.TABLE)[0][GiftCards.STATUS] == CardStatus.VOIDED
