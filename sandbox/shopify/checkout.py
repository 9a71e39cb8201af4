"""Simulated shop activity: orders, fulfilment, checkouts paid by gift card, refunds to a card.

What the sandbox does, as Shopify does:
- fulfilling a native gift card line item (``is_gift_card``) issues one card per unit (source
  ``purchased``, ``notify`` true, the order and its customer set on the card, random 16-character
  code, value = the unit price);
- a checkout paid by gift card codes applies each card in turn for ``min(balance, remaining)``,
  debits it (a ``GiftCardDebitTransaction`` without a note appears in the card's transactions)
  and records a ``gift_card`` SALE on the order whose receipt is
  ``{"gift_card_id": <card number>, "gift_card_last_characters": "<last 4>"}``; the rest is paid
  on ``other_gateway`` (or left unpaid: PARTIALLY_PAID);
- a refund to a gift card records a ``gift_card`` REFUND (parent: the card's SALE, same receipt),
  credits the card, sets REFUNDED / PARTIALLY_REFUNDED and bumps the order's ``updatedAt``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal

from sandbox.shopify.giftcards import is_expired, issue_card, record_transaction
from sandbox.shopify.state import (
    Customer,
    Fulfillment,
    GiftCard,
    LineItem,
    Order,
    OrderTransaction,
    ShopState,
)

GIFT_CARD_GATEWAY = "gift_card"


class CheckoutError(ValueError):
    """The simulated checkout or refund cannot happen (unknown card, no balance, ...)."""


@dataclass
class LineItemSpec:
    name: str = "T-shirt"
    sku: str | None = None
    quantity: int = 1
    price: Decimal | str = Decimal("10.00")
    is_gift_card: bool = False
    custom_attributes: Mapping[str, str | None] | Sequence[tuple[str, str | None]] = ()


@dataclass
class CustomerSpec:
    email: str | None = None
    first_name: str | None = None
    last_name: str | None = None


@dataclass
class OrderSpec:
    line_items: Sequence[LineItemSpec] = field(default_factory=lambda: [LineItemSpec()])
    customer: CustomerSpec | None = None
    financial_status: str = "PAID"
    tags: Sequence[str] = ()
    test: bool = False
    gateway: str = "shopify_payments"
    source_name: str = "web"
    created_at: datetime | None = None


def _customer(state: ShopState, now: datetime, spec: CustomerSpec | None) -> Customer | None:
    if spec is None:
        return None
    if spec.email:
        for known in state.customers.values():
            if known.email and known.email.lower() == spec.email.lower():
                return known
    customer = Customer(state.new_id(), spec.email, spec.first_name, spec.last_name, now)
    state.customers[customer.number] = customer
    return customer


def _line_item(state: ShopState, spec: LineItemSpec) -> LineItem:
    attributes = spec.custom_attributes
    pairs = list(attributes.items()) if isinstance(attributes, Mapping) else list(attributes)
    return LineItem(state.new_id(), spec.name, spec.sku, spec.quantity, Decimal(spec.price),
                    spec.is_gift_card, [(k, v) for k, v in pairs])


def _sale(state: ShopState, gateway: str, amount: Decimal, at: datetime, kind: str = "SALE",
          card: GiftCard | None = None, parent: int | None = None) -> OrderTransaction:
    receipt = ({"gift_card_id": card.number, "gift_card_last_characters": card.code[-4:]}
               if card is not None else {"paid_amount": str(amount)})
    return OrderTransaction(state.new_id(), gateway, kind, "SUCCESS", amount, at, receipt,
                            parent, card.number if card else None)


def create_order(state: ShopState, now: datetime, currency: str, spec: OrderSpec) -> Order:
    """An order as a checkout would leave it, paid on ``spec.gateway`` per its status."""
    if spec.gateway == GIFT_CARD_GATEWAY:
        raise CheckoutError("use checkout_with_gift_cards for orders paid by gift card")
    at = spec.created_at or now
    customer = _customer(state, now, spec.customer)
    order = Order(number=state.new_id(), order_number=state.next_order_number, created_at=at,
                  updated_at=at, processed_at=at, currency=currency,
                  financial_status=spec.financial_status,
                  line_items=[_line_item(state, item) for item in spec.line_items],
                  tags=list(spec.tags), test=spec.test,
                  email=customer.email if customer else None,
                  customer_number=customer.number if customer else None,
                  source_name=spec.source_name)
    state.next_order_number += 1
    status, total = spec.financial_status, order.total
    if status in ("PAID", "PARTIALLY_PAID", "REFUNDED", "PARTIALLY_REFUNDED"):
        paid = total if status != "PARTIALLY_PAID" else (total / 2).quantize(Decimal("0.01"))
        sale = _sale(state, spec.gateway, paid, at)
        order.transactions.append(sale)
        if status in ("REFUNDED", "PARTIALLY_REFUNDED"):
            back = paid if status == "REFUNDED" else (paid / 2).quantize(Decimal("0.01"))
            order.transactions.append(_sale(state, spec.gateway, back, at, "REFUND",
                                            parent=sale.number))
    elif status == "AUTHORIZED":
        order.transactions.append(_sale(state, spec.gateway, total, at, "AUTHORIZATION"))
    state.orders[order.number] = order
    return order


def fulfill_order(state: ShopState, now: datetime, order: Order,
                  line_item_ids: Sequence[int] | None = None) -> list[GiftCard]:
    """Fulfil what is left of the chosen line items (all by default); returns the cards issued."""
    issued: list[GiftCard] = []
    lines: list[tuple[int, int]] = []
    for item in order.line_items:
        remaining = item.quantity - item.fulfilled_quantity
        if remaining <= 0 or (line_item_ids is not None and item.number not in line_item_ids):
            continue
        lines.append((item.number, remaining))
        item.fulfilled_quantity = item.quantity
        for _ in range(remaining if item.is_gift_card else 0):
            issued.append(issue_card(
                state, now, code=None, value=item.unit_price, currency=order.currency,
                source="purchased", notify=True, customer_number=order.customer_number,
                order_number=order.number, line_item_number=item.number))
    if lines:
        order.fulfillments.append(Fulfillment(state.new_id(), now, lines))
        order.updated_at = now
    return issued


def _usable_card(state: ShopState, now: datetime, code: str, currency: str) -> GiftCard:
    card = state.card_by_code(code)
    if card is None:
        raise CheckoutError("unknown gift card code")
    if not card.enabled or is_expired(card, now.date()):
        raise CheckoutError(f"gift card ...{card.code[-4:]} is disabled or expired")
    if card.currency != currency:
        raise CheckoutError(f"gift card ...{card.code[-4:]} is in {card.currency}")
    return card


def checkout_with_gift_cards(state: ShopState, now: datetime, currency: str, spec: OrderSpec,
                             codes: Sequence[str], *, pay_remainder: bool = True) -> Order:
    """An online checkout that redeems the given codes first, as Shopify's checkout does."""
    cards = [_usable_card(state, now, code, currency) for code in codes]
    if len({c.number for c in cards}) != len(cards):
        raise CheckoutError("the same gift card was given twice")
    order = create_order(state, now, currency, replace(spec, financial_status="PENDING"))
    remaining = order.total
    for card in cards:
        amount = min(card.balance, remaining)
        if amount <= 0:
            continue
        remaining -= amount
        record_transaction(state, card, "debit", amount, None, order.processed_at, now,
                           order_number=order.number)
        order.transactions.append(_sale(state, GIFT_CARD_GATEWAY, amount, order.processed_at,
                                        card=card))
    if remaining > 0 and pay_remainder:
        order.transactions.append(_sale(state, spec.gateway, remaining, order.processed_at))
        remaining = Decimal(0)
    order.financial_status = "PAID" if remaining == 0 else "PARTIALLY_PAID"
    return order


def refund_to_gift_card(state: ShopState, now: datetime, order: Order,
                        amount: Decimal | None = None, code: str | None = None,
                        ) -> OrderTransaction:
    """Refund (part of) a gift card payment back onto its card."""
    chosen = state.card_by_code(code) if code else None
    if code and chosen is None:
        raise CheckoutError("unknown gift card code")
    sales = [t for t in order.transactions if t.gateway == GIFT_CARD_GATEWAY and t.kind == "SALE"
             and (chosen is None or t.card_number == chosen.number)]
    sale = sales[0] if sales else None
    if sale is None or sale.card_number is None:
        raise CheckoutError("the order has no gift card payment to refund")
    refunded = sum((t.amount for t in order.transactions
                    if t.kind == "REFUND" and t.parent_number == sale.number), Decimal(0))
    amount = sale.amount - refunded if amount is None else Decimal(amount)
    if amount <= 0 or amount > sale.amount - refunded:
        raise CheckoutError(f"refund amount must be within 0..{sale.amount - refunded}")
    card = state.cards[sale.card_number]
    refund = _sale(state, GIFT_CARD_GATEWAY, amount, now, "REFUND", card=card,
                   parent=sale.number)
    order.transactions.append(refund)
    record_transaction(state, card, "credit", amount, None, now, now, order_number=order.number)
    received = sum((t.amount for t in order.transactions if t.kind == "SALE"), Decimal(0))
    back = sum((t.amount for t in order.transactions if t.kind == "REFUND"), Decimal(0))
    order.financial_status = "REFUNDED" if back >= received else "PARTIALLY_REFUNDED"
    order.updated_at = now
    return refund
