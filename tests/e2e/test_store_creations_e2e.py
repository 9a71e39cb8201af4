"""Creation requests end to end (sandbox over HTTP, real prong), and what each run reported.

The tests read the ``desk`` scenario (``tests/e2e/store_desk.py``), built once per module.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from cards.vocab import Metric
from config.layout import CreationRequests, GiftCards, Receipts
from tests.e2e.store_desk import ACTION_CARDS, Desk
from tests.e2e.store_helpers import STORE_EMAIL, dec, masked

pytestmark = pytest.mark.slow

C, G = CreationRequests, GiftCards


def test_each_run_reports_the_outcomes_of_its_requests(desk: Desk) -> None:
    assert desk.reports["sell"].outcomes == {
        "Created": 2 + len(ACTION_CARDS),
        "Portal Disabled": 1,
        "Invalid Amount": 4,
        "Invalid Email": 2,
        "Missing Information": 2,
    }
    assert desk.reports["serve"].outcomes == {
        "Created": 1,
        "Sent": 1,
        "Not Found": 3,
        "Format Incorrect": 1,
        "Invalid Email": 1,
        "Rate Limited": 1,
        "Applied": 6,
        "Not Allowed": 1,
        "Card Not Found": 1,
        "Invalid Amount": 1,
    }
    assert desk.reports["reactivate"].outcomes == {"Applied": 1}
    assert desk.reports["unlucky"].outcomes == {"Created": 1}
    assert desk.reports["unlucky_check"].outcomes == {"Error": 1}
    assert not [r.errors for r in desk.reports.values() if r.errors]
    assert not desk.world.online.klaviyo.faults.pending()  # every injected fault was met


# --- Creation Requests -----------------------------------------------------------------------


def test_a_gift_sold_in_a_store_is_issued_announced_and_receipted(desk: Desk) -> None:
    w, rec, key = desk.world, desk.req["gift"], desk.key("create", "gift")
    row = desk.row("gift")
    (card_id,) = row[C.GIFT_CARD]
    card, code = w.row(card_id), w.code_for("rita@example.com")
    assert (row[C.STATUS], row[C.OUTCOME]) == ("Done", "Created")
    assert row[C.RESULT_MESSAGE] == f"Issued {masked(code)} for 25.00 USD."
    assert {k: card.get(k) for k in (G.STATUS, G.SOURCE, G.ORIGIN_KEY, G.MASKED_CODE, G.THEME)} == {
        G.STATUS: "Active",
        G.SOURCE: "Store",
        G.ORIGIN_KEY: key,
        G.MASKED_CODE: masked(code),
        G.THEME: "Birthday",
    }
    assert card[G.STORE] == [w.store_id] and card[G.ISSUED_AT] and G.EXPIRES_ON not in card
    assert card[G.CODE_DIGEST] and card[G.CODE_SEALED] and len(card[G.CERTIFICATE]) == 1
    w.assert_mirrored(card_id, "25.00")
    shopify = w.online.shop.card(str(card[G.SHOPIFY_GIFT_CARD_ID]))
    assert (shopify.code, shopify.note, shopify.notify) == (
        code.lower(),
        f"giftbridge {key}",
        False,
    )
    issued = w.event(f"{key}:recipient")
    assert (issued.metric, issued.email) == (Metric.ISSUED.value, "rita@example.com")
    assert issued.properties == {
        "code": code,
        "masked_code": masked(code),
        "amount": "25.00",
        "currency": "USD",
        "expires_on": None,
        "sender_name": "Pat Buyer",
        "recipient_name": "Rita Recipient",
        "message": "Happy birthday",
        "theme": "Birthday",
        "kind": "Gift Card",
        "business_name": "giftbridge",
    }
    confirmation = w.event(f"{key}:purchaser")
    assert (confirmation.metric, confirmation.email) == (
        Metric.PURCHASE_CONFIRMATION.value,
        "pat@example.com",
    )
    assert confirmation.properties == {
        "masked_code": masked(code),
        "amount": "25.00",
        "currency": "USD",
        "recipient_name": "Rita Recipient",
        "recipient_email": "rita@example.com",
    }
    notice = w.event(f"{key}:store")
    assert (notice.metric, notice.email) == (Metric.STORE_NOTICE.value, STORE_EMAIL)
    assert notice.properties == {
        "notice": "issue",
        "outcome": "Created",
        "masked_code": masked(code),
        "amount": "25.00",
        "currency": "USD",
        "balance_after": "25.00",
        "request_id": rec,
        "message": row[C.RESULT_MESSAGE],
    }
    assert w.references_of(key) == {
        f"{key}:{ref}" for ref in ("created", "purchased", "sent:recipient", "sent:purchaser")
    }
    created = w.receipts()[f"{key}:created"]
    assert created[Receipts.SHOPIFY_REFERENCE] == card[G.SHOPIFY_GIFT_CARD_ID]
    assert dec(created[Receipts.AMOUNT]) == dec(created[Receipts.BALANCE_AFTER]) == Decimal(25)
    assert created[Receipts.REQUEST] == rec and created[Receipts.GIFT_CARD] == [card_id]


@pytest.mark.parametrize(
    ("name", "email", "source", "receipts"),
    [
        ("phone", "phil@example.com", "Manual", ("purchased",)),
        (
            "portal",
            "paula@example.com",
            "Portal",
            ("purchased-from-portal", "activated-from-portal"),
        ),
    ],
)
def test_a_card_bought_for_oneself_goes_to_the_buyer_with_its_channel_receipts(
    desk: Desk, name: str, email: str, source: str, receipts: tuple[str, ...]
) -> None:
    w, key = desk.world, desk.key("create", name)
    (card_id,) = desk.row(name)[C.GIFT_CARD]
    card = w.row(card_id)
    assert (card[G.SOURCE], card[G.RECIPIENT_EMAIL], card[G.STATUS]) == (source, email, "Active")
    assert w.event(f"{key}:recipient").email == email
    assert w.events(f"{key}:purchaser") == [] and w.events(f"{key}:store") == []  # no store
    assert w.references_of(key) == {f"{key}:{r}" for r in ("created", *receipts, "sent:recipient")}
    assert {w.receipts()[f"{key}:{r}"][Receipts.SOURCE] for r in receipts} == {source}


CREATION_REFUSALS = {
    "portal_off": ("Portal Disabled", "Portal requests are turned off.", None),
    "blank": ("Invalid Amount", "The amount is missing.", None),
    "low": ("Invalid Amount", "The amount 4.99 USD is below the minimum 5.00 USD.", "4.99"),
    "fine": (
        "Invalid Amount",
        "The amount is not valid: 12.345 has more precision than USD allows (2 decimals).",
        None,
    ),
    "high": (
        "Invalid Amount",
        "The amount 1000.01 USD is above the maximum 1000.00 USD.",
        "1000.01",
    ),
    "bad_email": ("Invalid Email", "Not an email address: not-an-email.", "25.00"),
    "bad_gift_email": ("Invalid Email", "Not an email address: rita@nowhere.", "25.00"),
    "no_name": ("Missing Information", "Missing the purchaser's name.", "25.00"),
    "no_recipient_email": ("Missing Information", "Missing the recipient's email.", "25.00"),
}


@pytest.mark.parametrize("name", list(CREATION_REFUSALS))
def test_a_refused_creation_makes_no_card_and_tells_the_store(desk: Desk, name: str) -> None:
    w, key = desk.world, desk.key("create", name)
    outcome, message, amount = CREATION_REFUSALS[name]
    row = desk.row(name)
    assert (row[C.STATUS], row[C.OUTCOME], row[C.RESULT_MESSAGE]) == ("Rejected", outcome, message)
    assert C.GIFT_CARD not in row and row[C.PROCESSED_AT]
    assert not [c for c in w.online.rows(G.TABLE) if c.get(G.ORIGIN_KEY) == key]
    assert not [c for c in w.online.shop.state()["cards"] if c.get("note") == f"giftbridge {key}"]
    assert w.references_of(key) == set()
    assert w.event(f"{key}:store").properties == {
        "notice": "issue",
        "outcome": outcome,
        "masked_code": None,
        "amount": amount,
        "currency": "USD",
        "balance_after": None,
        "request_id": desk.req[name],
        "message": message,
    }
    assert [
        e.unique_id for e in w.online.klaviyo.events if (e.unique_id or "").startswith(key)
    ] == [f"{key}:store"]


def test_an_email_that_keeps_failing_leaves_a_created_card_needing_attention(desk: Desk) -> None:
    w, key = desk.world, desk.key("create", "unlucky")
    row = desk.row("unlucky")
    (card_id,) = row[C.GIFT_CARD]
    assert (row[C.STATUS], row[C.OUTCOME]) == ("Needs Attention", "Created")
    assert row[C.RESULT_MESSAGE].endswith(
        "The email to the recipient kept failing; see the Email Failed receipt."
    )
    w.assert_mirrored(card_id, "20.00")
    assert w.references_of(key) == {
        f"{key}:{r}" for r in ("created", "purchased", "sent:purchaser", "email-failed:recipient")
    }
    failed = w.receipts()[f"{key}:email-failed:recipient"]
    assert failed[Receipts.ACTION] == "Email Failed" and failed[Receipts.GIFT_CARD] == [card_id]
    assert failed[Receipts.DETAILS] == "Gift Card Issued to the recipient kept failing"
    assert w.events(f"{key}:recipient") == []
    assert w.event(f"{key}:purchaser").email == "fay@example.com"
    assert w.event(f"{key}:store").properties["outcome"] == "Created"
