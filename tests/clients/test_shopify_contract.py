"""The Shopify adapter against the Shopify sandbox over real HTTP (gql + aiohttp)."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from cards.codes import Code, generate
from cards.money import Money
from clients.errors import AmbiguousOutcome, CodeTaken, Permanent, RateLimited, Retryable
from clients.factory import Limiters
from clients.ratelimit import CostBucket
from clients.records import TransactionKind
from sandbox.shopify import CustomerSpec, LineItemSpec, OrderSpec
from tests.clients.conftest import ShopifyRig, fast_policy

pytestmark = pytest.mark.slow
USD = "USD"


def usd(amount: str) -> Money:
    return Money.of(amount, USD)


def test_create_find_debit_credit_and_read_back(shopify: ShopifyRig) -> None:
    adapter = shopify.adapter()
    code = generate()
    card = adapter.create_card(
        code,
        usd("50.00"),
        "giftbridge create:recAAAAAAAAAAAAAA",
        datetime.now(UTC).date() + timedelta(days=3650),
    )
    assert card.balance == usd("50.00") and card.note == "giftbridge create:recAAAAAAAAAAAAAA"
    stored = shopify.shop.card(card.id)
    assert stored.notify is False and stored.code == code.reveal().lower()

    lower = Code.parse(code.reveal().lower())
    assert [c.id for c in adapter.find_cards_by_code(lower)] == [card.id]
    assert adapter.find_cards_by_code(generate()) == []

    debit = adapter.debit(card.id, usd("12.50"), "giftbridge redeem:recAAAAAAAAAAAAAA")
    assert debit.transaction.kind is TransactionKind.DEBIT
    assert debit.transaction.amount == usd("12.50")  # the sandbox answers -12.5
    assert debit.balance_after == usd("37.50")
    credit = adapter.credit(card.id, usd("2.50"), "giftbridge action:recBBBBBBBBBBBBBB")
    assert credit.balance_after == usd("40.00")

    newest = adapter.transactions(card.id, limit=1)
    assert [t.kind for t in newest] == [TransactionKind.CREDIT]
    found = adapter.find_transaction_by_note(card.id, "giftbridge redeem:recAAAAAAAAAAAAAA")
    assert found is not None and found.id == debit.transaction.id
    later = datetime.now(UTC) + timedelta(minutes=1)
    assert (
        adapter.find_transaction_by_note(
            card.id, "giftbridge redeem:recAAAAAAAAAAAAAA", since=later
        )
        is None
    )

    updated = adapter.set_expiry(card.id, None)
    assert updated.expires_on is None
    fetched = adapter.get_card(card.id)
    assert fetched is not None and fetched.balance == usd("40.00")
    assert adapter.get_card("gid://shopify/GiftCard/999999999") is None


def test_taken_means_code_taken(shopify: ShopifyRig) -> None:
    adapter = shopify.adapter()
    code = generate()
    adapter.create_card(code, usd("10.00"), "giftbridge create:recAAAAAAAAAAAAAA", None)
    with pytest.raises(CodeTaken):
        adapter.create_card(code, usd("10.00"), "giftbridge create:recAAAAAAAAAAAAAA", None)


@pytest.mark.parametrize(
    ("amount", "currency", "prepare", "code"),
    [
        ("100.00", USD, None, "INSUFFICIENT_FUNDS"),
        ("5.00", "EUR", None, "MISMATCHING_CURRENCY"),
        ("0.00", USD, None, "NEGATIVE_OR_ZERO_AMOUNT"),
        ("5.00", USD, "deactivate", "INVALID"),
        ("5.00", USD, "missing", "GIFT_CARD_NOT_FOUND"),
    ],
)
def test_debit_user_errors_are_permanent_with_their_code(
    shopify: ShopifyRig, amount: str, currency: str, prepare: str | None, code: str
) -> None:
    adapter = shopify.adapter()
    card = shopify.shop.issue_card("20.00")
    card_id = f"gid://shopify/GiftCard/{card.number}"
    if prepare == "deactivate":
        card.enabled = False
    if prepare == "missing":
        card_id = "gid://shopify/GiftCard/999999999"
    with pytest.raises(Permanent) as caught:
        adapter.debit(card_id, Money.of(amount, currency), "giftbridge redeem:recAAAAAAAAAAAAAA")
    assert caught.value.code == code
    assert shopify.shop.card(card.number).balance == 20  # nothing moved


def test_a_credit_past_the_issue_limit_is_refused(
    shopify_factory: Callable[..., ShopifyRig],
) -> None:
    rig = shopify_factory(issue_limit="100.00")
    card = rig.shop.issue_card("90.00")
    with pytest.raises(Permanent) as caught:
        rig.adapter().credit(
            f"gid://shopify/GiftCard/{card.number}",
            usd("20.00"),
            "giftbridge action:recAAAAAAAAAAAAAA",
        )
    assert caught.value.code == "GIFT_CARD_LIMIT_EXCEEDED"


def test_a_dropped_debit_is_ambiguous_and_the_note_finds_it(shopify: ShopifyRig) -> None:
    adapter = shopify.adapter()
    card = adapter.create_card(
        generate(), usd("30.00"), "giftbridge create:recAAAAAAAAAAAAAA", None
    )
    before = datetime.now(UTC) - timedelta(seconds=5)
    note = "giftbridge redeem:recCCCCCCCCCCCCCC"
    shopify.shop.faults.add("shopify.giftCardDebit", "drop_after")
    with pytest.raises(AmbiguousOutcome):
        adapter.debit(card.id, usd("10.00"), note)
    assert len(shopify.shop.card_transactions(card.id)) == 1  # applied once, never re-sent
    found = adapter.find_transaction_by_note(card.id, note, since=before)
    assert found is not None and found.amount == usd("10.00")


def test_a_hung_mutation_is_ambiguous_and_a_hung_query_retryable(shopify: ShopifyRig) -> None:
    adapter = shopify.adapter(retry=fast_policy(attempts=1), call_timeout_seconds=0.3)
    card = shopify.shop.issue_card("20.00")
    gid = f"gid://shopify/GiftCard/{card.number}"
    shopify.shop.faults.add("shopify.giftCardDebit", "delay", seconds=1.0)
    with pytest.raises(AmbiguousOutcome):
        adapter.debit(gid, usd("1.00"), "giftbridge redeem:recAAAAAAAAAAAAAA")
    shopify.shop.faults.add("shopify.giftCard", "delay", seconds=1.0)
    with pytest.raises(Retryable):
        adapter.get_card(gid)


def test_a_502_on_a_mutation_is_ambiguous_and_on_a_query_retried(shopify: ShopifyRig) -> None:
    adapter = shopify.adapter()
    card = shopify.shop.issue_card("20.00")
    gid = f"gid://shopify/GiftCard/{card.number}"
    shopify.shop.faults.add("shopify.giftCard", "fail_before")
    assert adapter.get_card(gid) is not None
    shopify.shop.faults.add("shopify.giftCardCredit", "fail_before")
    with pytest.raises(AmbiguousOutcome):
        adapter.credit(gid, usd("1.00"), "giftbridge action:recAAAAAAAAAAAAAA")


def test_a_throttled_mutation_did_not_run_and_is_retried(shopify: ShopifyRig) -> None:
    adapter = shopify.adapter()
    card = shopify.shop.issue_card("20.00")
    gid = f"gid://shopify/GiftCard/{card.number}"
    shopify.shop.faults.add("shopify.giftCardDebit", "throttle")
    result = adapter.debit(gid, usd("5.00"), "giftbridge redeem:recAAAAAAAAAAAAAA")
    assert result.balance_after == usd("15.00")
    assert len(shopify.shop.card_transactions(gid)) == 1


def test_throttling_paces_calls_by_the_restore_rate(
    shopify_factory: Callable[..., ShopifyRig],
) -> None:
    rig = shopify_factory(bucket_size=60, restore_rate=60)  # a code search requests 22 points
    limiters = Limiters(shopify=CostBucket("shopify", maximum=1000, restore_rate=1000))
    adapter = rig.adapter(limiters=limiters, retry=fast_policy(attempts=1))
    code = generate()
    adapter.find_cards_by_code(code)  # learns what the search costs
    assert rig.shop.bucket.try_take(rig.shop.bucket.status()["currentlyAvailable"])  # drain it
    with pytest.raises(RateLimited) as caught:
        adapter.find_cards_by_code(code)
    # (requested - available) / restoreRate, from the THROTTLED answer's extensions
    assert 0.2 < (caught.value.retry_after or 0) <= 22 / 60
    assert limiters.shopify.maximum == 60  # the shared bucket learned Shopify's real size

    started = time.monotonic()
    adapter.find_cards_by_code(code)  # waits at our bucket instead of being throttled again
    assert time.monotonic() - started > 0.2
    for _ in range(5):
        adapter.find_cards_by_code(code)
    outcomes = [o.outcome for o in rig.shop.operations]
    assert outcomes.count("throttled") == 1 and outcomes.count("ok") == 7


def test_orders_search_parses_and_tags_are_added_without_replacing(shopify: ShopifyRig) -> None:
    adapter = shopify.adapter()
    spec = OrderSpec(
        line_items=[
            LineItemSpec(
                sku="GC-50",
                price="50.00",
                quantity=2,
                custom_attributes={"Recipient email": "r@example.com"},
            ),
            *[LineItemSpec(name=f"Item {i}", price="1.00") for i in range(12)],
            LineItemSpec(name="Native card", is_gift_card=True, price="25.00"),
        ],
        customer=CustomerSpec("buyer@example.com", "Ann", "Lee"),
        tags=["vip"],
    )
    order = shopify.shop.create_order(spec)
    gid = f"gid://shopify/Order/{order.number}"
    since = datetime.now(UTC) - timedelta(days=1)
    page = adapter.search_orders(
        created_since=since, without_tag="giftbridge-processed", financial_status="paid"
    )
    (found,) = page.orders
    assert found.id == gid and found.customer_email == "buyer@example.com"
    assert len(found.line_items) == 14  # the first 10, then the rest paged in
    assert found.line_items[0].attributes == {"Recipient email": "r@example.com"}

    shopify.shop.fulfill_order(order)
    (native,) = adapter.cards_for_order(gid)
    assert native.order_id == gid and native.balance == usd("25.00")

    adapter.add_tags(gid, ["giftbridge-processed"])
    adapter.add_tags(gid, ["giftbridge-processed"])  # safe to repeat
    fetched = adapter.get_order(gid)
    assert fetched is not None and fetched.tags == {"vip", "giftbridge-processed"}
    assert adapter.search_orders(without_tag="giftbridge-processed").orders == ()
    assert adapter.get_order("gid://shopify/Order/999999999") is None


def test_gift_card_payments_name_their_card(shopify: ShopifyRig) -> None:
    adapter = shopify.adapter()
    code = generate()
    card = adapter.create_card(code, usd("40.00"), "giftbridge create:recAAAAAAAAAAAAAA", None)
    shopify.shop.checkout_with_gift_cards([code.reveal()])
    (order,) = adapter.search_orders(paid_by_gift_card=True).orders
    gift = [t for t in order.transactions if t.gateway == "gift_card"]
    assert [t.gift_card_id for t in gift] == [card.id]


def test_access_scopes_and_a_wrong_token(shopify: ShopifyRig) -> None:
    assert "write_gift_card_transactions" in shopify.adapter().access_scopes()
    shopify.shop.access_token = "shpat_other"
    with pytest.raises(Permanent) as caught:
        shopify.adapter().access_scopes()
    assert caught.value.status == 401
