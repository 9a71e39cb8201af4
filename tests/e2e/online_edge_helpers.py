"""Helpers for ``test_online_edges_*_e2e.py``: orders, known cards, sandbox edits, checks.

Everything here drives or reads the stand-ins the harness in
``tests/prongs_shopify/online_sandbox.py`` starts; the prongs under test still talk to them only
over HTTP through the real adapters.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from cards.vocab import ReceiptAction
from config.layout import GiftCards, Receipts, ShopifyOrders
from prongs.report import RunReport
from sandbox.shopify import CustomerSpec, LineItemSpec, OrderSpec
from sandbox.shopify.state import Order, OrderTransaction, gid
from tests.prongs_shopify.online_sandbox import SKU, Online

PROCESSED_TAG = "giftbridge-processed"
REDEEMED_TAG = "giftbridge-redeemed"

_DEACTIVATE = """
mutation Deactivate($id: ID!) {
  giftCardDeactivate(id: $id) { giftCard { id enabled } userErrors { field message } }
}
"""


BEA = CustomerSpec(email="bea@example.com", first_name="Bea")


def sku_order(
    *, quantity: int = 1, recipient: str | None = None, customer: CustomerSpec | None = BEA
) -> OrderSpec:
    """An order of giftbridge's SKU at 25.00 a unit, by Bea unless ``customer`` says otherwise."""
    attributes = {"Recipient email": recipient} if recipient else {}
    line = LineItemSpec(
        name="Gift card", sku=SKU, quantity=quantity, price="25.00", custom_attributes=attributes
    )
    return OrderSpec(line_items=[line], customer=customer)


@dataclass(frozen=True, slots=True)
class KnownCard:
    """A card giftbridge issued (sold at a till), so it has a Gift Cards row."""

    code: str
    row_id: str
    gid: str


def sell_cards(online: Online, *amounts: str) -> list[KnownCard]:
    """Sell one card per amount at the till (the store prong, over HTTP) and find each one."""
    emails = [f"holder{n}@example.com" for n in range(len(amounts))]
    for amount, email in zip(amounts, emails, strict=True):
        online.sell_at_till(amount, email)
    report = online.store()
    assert not report.errors, report.errors
    rows = online.rows(GiftCards.TABLE)
    cards = []
    for email in emails:
        code = online.issued_code(email)
        card_gid = gid("GiftCard", online.shop.card(code).number)
        (row,) = [r for r in rows if r.get(GiftCards.SHOPIFY_GIFT_CARD_ID) == card_gid]
        cards.append(KnownCard(code, str(row["id"]), card_gid))
    return cards


def with_window(online: Online, days: int) -> Online:
    """The same stand-ins and adapters with ``ORDER_WINDOW_DAYS`` set to ``days``.

    The Shopify stand-in hides orders older than 60 days (no ``read_all_orders``), so a shorter
    window is what shows the prongs' own ``created_at`` filter at work."""
    return replace(online, settings=online.settings.model_copy(update={"order_window_days": days}))


def days_ago(days: int) -> datetime:
    return datetime.now(UTC).replace(microsecond=0) - timedelta(days=days)


def deactivate(online: Online, card_gid: str) -> None:
    """Switch a card off as the Shopify admin would (``giftCardDeactivate``)."""
    body = online.shop.graphql(_DEACTIVATE, {"id": card_gid})
    assert body["data"]["giftCardDeactivate"]["userErrors"] == [], body
    assert not online.shop.card(card_gid).enabled


def set_currency(online: Online, order: Order, currency: str) -> None:
    """The stand-in creates every order in the shop's currency; this edits its state directly.

    It then reports the order's ``currencyCode`` and every amount of it in ``currency``."""
    with online.shop.lock:
        online.shop.order(order).currency = currency


def card_sales(order: Order) -> list[OrderTransaction]:
    return [t for t in order.transactions if t.gateway == "gift_card" and t.kind == "SALE"]


def txn_reference(txn: OrderTransaction, action: ReceiptAction) -> str:
    return f"shopify-txn:{txn.number}:{action.slug}"


def unit_key(order: Order, line: int, unit: int) -> str:
    return f"order:{order.number}:{order.line_items[line].number}:{unit}"


def money(value: Any) -> Decimal:
    return Decimal(str(value))


def order_rows(online: Online, order: Order) -> dict[str, dict[str, Any]]:
    """The order's Shopify Orders rows by Kind."""
    order_gid = gid("Order", order.number)
    rows = online.rows(ShopifyOrders.TABLE)
    return {r[ShopifyOrders.KIND]: r for r in rows if r[ShopifyOrders.ORDER_ID] == order_gid}


def receipts(online: Online) -> dict[str, dict[str, Any]]:
    return {str(r[Receipts.REFERENCE]): r for r in online.rows(Receipts.TABLE)}


def online_receipts(online: Online) -> dict[str, dict[str, Any]]:
    """Receipts of money that moved at Shopify's checkout."""
    return {k: v for k, v in receipts(online).items() if k.startswith("shopify-txn:")}


def card_row(online: Online, row_id: str) -> dict[str, Any]:
    return online.record(row_id)


def tags(online: Online, order: Order) -> set[str]:
    return set(online.shop.order(order).tags)


def assert_balances_agree(online: Online, *row_ids: str) -> None:
    """Airtable's Balance of each card is Shopify's balance, to the cent."""
    for row_id in row_ids:
        row = online.record(row_id)
        shopify = online.shop.card(str(row[GiftCards.SHOPIFY_GIFT_CARD_ID])).balance
        assert money(row[GiftCards.BALANCE]) == shopify, (row_id, row[GiftCards.BALANCE], shopify)


def _state(online: Online) -> dict[str, Any]:
    shop = online.shop
    with shop.lock:
        cards = len(shop.data.cards)
        order_tags = {n: sorted(o.tags) for n, o in shop.data.orders.items()}
    return {
        "gift cards": online.rows(GiftCards.TABLE),
        "receipts": online.rows(Receipts.TABLE),
        "shopify orders": online.rows(ShopifyOrders.TABLE),
        "emails": len(online.klaviyo.events),
        "repeated emails": online.klaviyo.duplicates,
        "shopify cards": cards,
        "tags": order_tags,
    }


def assert_nothing_repeated(online: Online, *runs: Callable[[], RunReport]) -> None:
    """The prongs that handled the case, once more: no card, receipt, Shopify Orders row, email
    or tag is added or changed. (Not the purchases prong after a redemption-only order: it tags
    an order without gift cards, as defined, so that would be a first run, not a repeat.)"""
    before = _state(online)
    for run in runs:
        report = run()
        assert not report.errors, report.errors
    after = _state(online)
    for what, was in before.items():
        assert after[what] == was, (what, _difference(was, after[what]))
    assert after["repeated emails"] == 0  # giftbridge did not even try to send one again


def _difference(was: Any, now: Any) -> Any:
    """What changed, readably (this module is not rewritten by pytest's assertions)."""
    if isinstance(was, list) and isinstance(now, list):
        return {"gone": [r for r in was if r not in now], "new": [r for r in now if r not in was]}
    return {"was": was, "now": now}
