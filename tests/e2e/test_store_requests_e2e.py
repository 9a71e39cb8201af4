"""Creation requests, balance checks and card actions end to end (sandbox over HTTP, real prong).

One sandbox for the module, built up in phases, each one run of the store-transactions prong:
``sell`` (Portal turned off: every creation outcome but a Portal card), ``serve`` (a Portal card,
every balance-check outcome at two checks an hour, every card action), ``reactivate`` (the voided
card comes back), then one creation and one balance check while Klaviyo keeps failing. The
tests read what the phases left (and the snapshots taken between them).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from cards.codes import generate
from cards.vocab import CardActionType, Channel, Metric
from config.layout import BalanceChecks, CardActions, CreationRequests, GiftCards, Receipts
from prongs.report import RunReport
from tests.e2e.store_helpers import EMAIL_TRIES, STORE_EMAIL, StoreWorld, dec, masked, store_online

pytestmark = pytest.mark.slow

C, B, A, G = CreationRequests, BalanceChecks, CardActions, GiftCards
ACTION_CARDS = {  # name -> value; bought by <name>@example.com for themselves
    "void": "50.00",
    "resend": "30.00",
    "regen": "20.00",
    "up": "25.00",
    "down": "25.00",
    "extend": "15.00",
    "other": "35.00",
    "balance": "45.00",
}


@dataclass
class Desk:
    world: StoreWorld
    req: dict[str, str] = field(default_factory=dict)  # request name -> record id
    cards: dict[str, str] = field(default_factory=dict)  # card name -> Gift Cards record id
    codes: dict[str, str] = field(default_factory=dict)
    reports: dict[str, RunReport] = field(default_factory=dict)
    seen: dict[str, Any] = field(default_factory=dict)  # snapshots between phases
    today: date = field(default_factory=lambda: datetime.now(UTC).date())

    def row(self, name: str) -> dict[str, Any]:
        return self.world.row(self.req[name])

    def key(self, kind: str, name: str) -> str:
        return f"{kind}:{self.req[name]}"


def _sell(d: Desk) -> None:
    w, gift = d.world, ("Rita Recipient", "rita@example.com")
    greeting = {C.MESSAGE: "Happy birthday", C.THEME: "Birthday"}
    d.req["gift"] = w.creation("25.00", email="pat@example.com", gift_to=gift, extra=greeting)
    d.req["phone"] = w.creation(
        "40.00", email="phil@example.com", channel=Channel.PHONE, store=False
    )
    d.req["portal_off"] = w.creation("30.00", email="po@example.com", channel=Channel.PORTAL)
    for name, amount in [("blank", None), ("low", "4.99"), ("fine", "12.345"), ("high", "1000.01")]:
        d.req[name] = w.creation(amount, email=f"{name}@example.com")
    d.req["bad_email"] = w.creation("25.00", email="not-an-email")
    d.req["bad_gift_email"] = w.creation("25.00", gift_to=("Rita", "rita@nowhere"))
    d.req["no_name"] = w.creation("25.00", purchaser=None, email="anon@example.com")
    d.req["no_recipient_email"] = w.creation(
        "25.00", email="pat@example.com", extra={C.IS_GIFT: True, C.RECIPIENT_NAME: "Rita"}
    )
    bought = {n: w.creation(v, email=f"{n}@example.com") for n, v in ACTION_CARDS.items()}
    d.reports["sell"] = w.run(portal_enabled=False)
    for name, request in bought.items():
        d.cards[name], d.codes[name] = w.card_of(request), w.code_for(f"{name}@example.com")


def _serve(d: Desk) -> None:
    w, cards = d.world, d.cards
    d.req["portal"] = w.creation(
        "60.00",
        purchaser="Paula Portal",
        email="paula@example.com",
        channel=Channel.PORTAL,
        store=False,
    )
    d.req["sent"] = w.balance_check(d.codes["balance"], "asker@example.com")
    d.seen["unknown"] = generate(12).reveal()
    d.req["not_found"] = w.balance_check(d.seen["unknown"], "asker2@example.com")
    d.req["format"] = w.balance_check("ABC", "asker3@example.com")
    d.req["check_bad_email"] = w.balance_check(d.codes["balance"], "nope")
    for n in (1, 2, 3):
        d.req[f"often{n}"] = w.balance_check(generate(12).reveal(), "often@example.com")
    yesterday, d.seen["new_expiry"] = d.today - timedelta(days=1), d.today + timedelta(days=365)
    w.expire(cards["extend"], yesterday)
    d.seen["regen_before"] = w.row(cards["regen"])[G.CERTIFICATE]
    t = CardActionType
    d.req["void"] = w.card_action(t.VOID, cards["void"], reason="Lost in the post")
    d.req["resend"] = w.card_action(t.RESEND, cards["resend"])
    d.req["regen"] = w.card_action(t.REGENERATE_PDF, cards["regen"])
    d.req["up"] = w.card_action(t.ADJUST_BALANCE, cards["up"], amount="10.00", reason="Goodwill")
    d.req["down"] = w.card_action(t.ADJUST_BALANCE, cards["down"], amount="-5.50")
    new_expiry = d.seen["new_expiry"]
    d.req["extend"] = w.card_action(t.EXTEND_EXPIRY, cards["extend"], new_expiry=new_expiry)
    d.req["not_allowed"] = w.card_action(t.REACTIVATE, cards["other"])
    d.req["no_card"] = w.card_action(t.VOID, None, reason="Which one?")
    d.req["no_amount"] = w.card_action(t.ADJUST_BALANCE, cards["other"])
    d.reports["serve"] = w.run(checks_per_hour=2)
    d.seen["voided_card"] = w.row(cards["void"])
    d.seen["voided_balance"] = w.shopify_balance(cards["void"])


def _reactivate_then_fail(d: Desk) -> None:
    w = d.world
    d.req["reactivate"] = w.card_action(CardActionType.REACTIVATE, d.cards["void"])
    d.reports["reactivate"] = w.run()
    d.req["unlucky"] = w.creation(
        "20.00", email="fay@example.com", gift_to=("Finn", "finn@example.com")
    )
    w.online.klaviyo.faults.add("klaviyo.create_event", "fail_before", times=EMAIL_TRIES)
    d.reports["unlucky"] = w.run()
    d.req["unlucky_check"] = w.balance_check(generate(12).reveal(), "unlucky@example.com")
    w.online.klaviyo.faults.add("klaviyo.create_event", "fail_before", times=EMAIL_TRIES)
    d.reports["unlucky_check"] = w.run()


@pytest.fixture(scope="module")
def desk() -> Iterator[Desk]:
    with store_online() as world:
        d = Desk(world)
        _sell(d)
        _serve(d)
        _reactivate_then_fail(d)
        yield d


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
    "fine": ("Invalid Amount", "The amount 12.345 has more decimals than USD allows.", None),
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


# --- Balance Checks --------------------------------------------------------------------------


def _balance_email(desk: Desk, name: str) -> dict[str, Any]:
    event = desk.world.event(f"{desk.key('balance', name)}:customer")
    assert event.metric == Metric.BALANCE.value and event.email == desk.row(name)[B.EMAIL]
    return dict(event.properties)


def test_a_found_card_sends_its_balance_to_the_email_given_and_nowhere_else(desk: Desk) -> None:
    w, key, card = desk.world, desk.key("balance", "sent"), desk.cards["balance"]
    code = desk.codes["balance"]
    row = desk.row("sent")
    assert (row[B.STATUS], row[B.OUTCOME], row[B.CODE]) == ("Done", "Sent", masked(code))
    assert _balance_email(desk, "sent") == {
        "found": True,
        "masked_code": masked(code),
        "balance": "45.00",
        "currency": "USD",
        "expires_on": None,
    }
    assert w.references_of(key) == {f"{key}:balance-checked"}
    receipt = w.receipts()[f"{key}:balance-checked"]
    assert receipt[Receipts.GIFT_CARD] == [card] and receipt[Receipts.DETAILS] == "card found"
    assert Receipts.AMOUNT not in receipt and Receipts.BALANCE_AFTER not in receipt


def test_an_unknown_card_gets_the_same_email_shape_saying_not_found(desk: Desk) -> None:
    w, key = desk.world, desk.key("balance", "not_found")
    row = desk.row("not_found")
    assert (row[B.STATUS], row[B.OUTCOME]) == ("Done", "Not Found")
    not_found, found = _balance_email(desk, "not_found"), _balance_email(desk, "sent")
    assert not_found.keys() == found.keys()
    assert not_found == {
        "found": False,
        "masked_code": masked(desk.seen["unknown"]),
        "balance": None,
        "currency": "USD",
        "expires_on": None,
    }
    receipt = w.receipts()[f"{key}:balance-checked"]
    assert Receipts.GIFT_CARD not in receipt and receipt[Receipts.DETAILS] == "card not found"


@pytest.mark.parametrize(
    ("name", "outcome"),
    [
        ("format", "Format Incorrect"),
        ("check_bad_email", "Invalid Email"),
        ("often3", "Rate Limited"),  # the third check from one email at two an hour
    ],
)
def test_a_refused_balance_check_sends_nothing(desk: Desk, name: str, outcome: str) -> None:
    w, key = desk.world, desk.key("balance", name)
    row = desk.row(name)
    assert (row[B.STATUS], row[B.OUTCOME]) == ("Rejected", outcome)
    assert str(row[B.CODE]).startswith("\u2022" * 8) and row[B.PROCESSED_AT]
    assert w.events(f"{key}:customer") == [] and w.references_of(key) == set()


def test_checks_within_the_hourly_limit_are_answered(desk: Desk) -> None:
    for name in ("often1", "often2"):
        assert desk.row(name)[B.OUTCOME] == "Not Found"
        assert _balance_email(desk, name)["found"] is False


def test_a_balance_email_that_keeps_failing_is_an_error_needing_attention(desk: Desk) -> None:
    w, key = desk.world, desk.key("balance", "unlucky_check")
    row = desk.row("unlucky_check")
    assert (row[B.STATUS], row[B.OUTCOME]) == ("Needs Attention", "Error")
    assert w.references_of(key) == {f"{key}:balance-checked", f"{key}:email-failed:customer"}
    assert w.events(f"{key}:customer") == []


# --- Card Actions ----------------------------------------------------------------------------


def _applied(desk: Desk, name: str, message: str) -> str:
    row = desk.row(name)
    assert (row[A.STATUS], row[A.OUTCOME], row[A.RESULT_MESSAGE]) == ("Done", "Applied", message)
    return desk.key("action", name)


def _money_receipt(
    desk: Desk, ref: str, card: str, kind: str, amounts: tuple[str, str, str]
) -> dict[str, Any]:
    """A money action's receipt (amount, before, after), tied to the Shopify transaction that
    carries the action's note."""
    receipt = desk.world.receipts()[ref]
    assert receipt[Receipts.GIFT_CARD] == [card] and receipt[Receipts.SOURCE] == "Manual"
    fields = (Receipts.AMOUNT, Receipts.BALANCE_BEFORE, Receipts.BALANCE_AFTER)
    assert tuple(dec(receipt[f]) for f in fields) == tuple(Decimal(a) for a in amounts)
    txn = desk.world.transaction(card, ref.rsplit(":", 1)[0])
    assert (txn.kind, txn.amount) == (kind, abs(Decimal(amounts[0])))
    assert str(receipt[Receipts.SHOPIFY_REFERENCE]).endswith(f"Transaction/{txn.number}")
    return receipt


def test_void_debits_everything_remembers_it_and_tells_the_holder(desk: Desk) -> None:
    w, card, code = desk.world, desk.cards["void"], desk.codes["void"]
    key = _applied(desk, "void", f"Voided {masked(code)}: 50.00 USD debited.")
    then = desk.seen["voided_card"]
    assert (then[G.STATUS], dec(then[G.BALANCE]), desk.seen["voided_balance"]) == (
        "Voided",
        Decimal(0),
        Decimal(0),
    )
    assert then[G.VOID_REASON] == f"Lost in the post\ngiftbridge voided 50.00 USD ({key})"
    receipt = _money_receipt(desk, f"{key}:voided", card, "debit", ("50.00", "50.00", "0.00"))
    assert receipt[Receipts.DETAILS] == "Lost in the post"
    assert w.references_of(key) == {f"{key}:voided", f"{key}:sent:recipient"}
    voided = w.event(f"{key}:recipient")
    assert (voided.metric, voided.email) == (Metric.VOIDED.value, "void@example.com")
    assert voided.properties == {
        "masked_code": masked(code),
        "balance": "50.00",
        "reason": "Lost in the post",
    }


def test_reactivate_credits_the_voided_amount_back(desk: Desk) -> None:
    w, card = desk.world, desk.cards["void"]
    key = _applied(
        desk, "reactivate", f"Reactivated {masked(desk.codes['void'])}: 50.00 USD credited back."
    )
    _money_receipt(desk, f"{key}:reactivated", card, "credit", ("50.00", "0.00", "50.00"))
    assert w.row(card)[G.STATUS] == "Active" and G.VOID_REASON not in w.row(card)
    w.assert_mirrored(card, "50.00")


@pytest.mark.parametrize(
    ("name", "kind", "amounts", "signed"),
    [
        ("up", "credit", ("10.00", "25.00", "35.00"), "10.00"),
        ("down", "debit", ("-5.50", "25.00", "19.50"), "-5.50"),
    ],
)
def test_adjust_balance_moves_the_signed_amount_in_shopify_first(
    desk: Desk, name: str, kind: str, amounts: tuple[str, str, str], signed: str
) -> None:
    w, card = desk.world, desk.cards[name]
    message = f"Adjusted {masked(desk.codes[name])} by {signed} USD; {amounts[2]} USD now."
    key = _applied(desk, name, message)
    _money_receipt(desk, f"{key}:adjusted", card, kind, amounts)
    assert w.references_of(key) == {f"{key}:adjusted"}
    w.assert_mirrored(card, amounts[2])


def test_resend_sends_the_sealed_code_to_the_holder_again(desk: Desk) -> None:
    w, code = desk.world, desk.codes["resend"]
    key = _applied(desk, "resend", f"Sent {masked(code)} to resend@example.com again.")
    again = w.event(f"{key}:recipient")
    assert (again.metric, again.email, again.properties["code"]) == (
        Metric.ISSUED.value,
        "resend@example.com",
        code,
    )
    assert len(w.online.klaviyo.events_for(Metric.ISSUED.value, "resend@example.com")) == 2
    assert w.references_of(key) == {f"{key}:sent:recipient"}


def test_regenerate_pdf_replaces_the_record_copy(desk: Desk) -> None:
    w, card = desk.world, desk.cards["regen"]
    key = _applied(desk, "regen", "The certificate was regenerated.")
    (before,), (after,) = desk.seen["regen_before"], w.row(card)[G.CERTIFICATE]
    assert after["id"] != before["id"] and after["filename"] == before["filename"]
    assert w.references_of(key) == {f"{key}:certificate-regenerated"}
    w.assert_mirrored(card, "20.00")


def test_extend_expiry_brings_an_expired_card_back_in_both_places(desk: Desk) -> None:
    w, card, new = desk.world, desk.cards["extend"], desk.seen["new_expiry"]
    old = desk.today - timedelta(days=1)
    key = _applied(desk, "extend", f"Expiry changed: {old} -> {new}.")
    row = w.row(card)
    assert (row[G.STATUS], row[G.EXPIRES_ON]) == ("Active", new.isoformat())
    assert w.online.shop.card(str(row[G.SHOPIFY_GIFT_CARD_ID])).expires_on == new
    assert w.receipts()[f"{key}:expiry-changed"][Receipts.DETAILS] == f"{old} -> {new}"


@pytest.mark.parametrize(
    ("name", "outcome", "message"),
    [
        (
            "not_allowed",
            "Not Allowed",
            "Only a voided card can be reactivated; this one is Active.",
        ),
        ("no_card", "Card Not Found", "No gift card is linked."),
        (
            "no_amount",
            "Invalid Amount",
            "Give a non-zero Amount: positive credits, negative debits.",
        ),
    ],
)
def test_a_refused_card_action_changes_nothing(
    desk: Desk, name: str, outcome: str, message: str
) -> None:
    row = desk.row(name)
    assert (row[A.STATUS], row[A.OUTCOME], row[A.RESULT_MESSAGE]) == ("Rejected", outcome, message)
    assert desk.world.references_of(desk.key("action", name)) == set()
    assert not [n for n in desk.world.notes(desk.cards["other"]) if n[2] and "action:" in n[2]]
    desk.world.assert_mirrored(desk.cards["other"], "35.00")
