"""Shopify GraphQL JSON -> the typed values of clients.records.

Amounts are ``Decimal`` strings on the wire and become exact ``Money``; a transaction's amount
is always returned positive with its :class:`TransactionKind` (debits may come back negative).
``receiptJson`` may be an object, a JSON-encoded string, or missing; the card it names is read
when it can be and ignored otherwise.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from cards.money import Money, MoneyError
from clients.records import (
    CardTransaction,
    LineItem,
    OrderTransaction,
    ShopifyCard,
    ShopifyOrder,
    TransactionKind,
)

Node = Mapping[str, Any]


class ResponseShapeError(ValueError):
    """A response that does not have the shape our documents ask for."""


def _get(node: Any, key: str) -> Any:
    if not isinstance(node, Mapping):
        raise ResponseShapeError(f"expected an object holding {key!r}")
    return node.get(key)


def money(node: Any) -> Money:
    amount, currency = _get(node, "amount"), _get(node, "currencyCode")
    try:
        return Money.of(Decimal(str(amount)), str(currency))
    except (InvalidOperation, MoneyError) as exc:
        raise ResponseShapeError(f"not an amount: {exc}") from None


def shop_money(node: Any) -> Money:
    return money(_get(node, "shopMoney"))


def timestamp(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ResponseShapeError("not a date-time") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def required_timestamp(value: Any) -> datetime:
    parsed = timestamp(value)
    if parsed is None:
        raise ResponseShapeError("missing date-time")
    return parsed


def day(value: Any) -> date | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        raise ResponseShapeError("not a date") from None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def card(node: Any) -> ShopifyCard:
    order = _get(node, "order")
    return ShopifyCard(
        id=str(_get(node, "id")),
        last_characters=str(_get(node, "lastCharacters") or ""),
        balance=money(_get(node, "balance")),
        initial_value=money(_get(node, "initialValue")),
        enabled=bool(_get(node, "enabled")),
        expires_on=day(_get(node, "expiresOn")),
        deactivated_at=timestamp(_get(node, "deactivatedAt")),
        note=_text(_get(node, "note")),
        created_at=timestamp(_get(node, "createdAt")),
        order_id=_text(order.get("id")) if isinstance(order, Mapping) else None,
        order_name=_text(order.get("name")) if isinstance(order, Mapping) else None,
    )


def transaction(node: Any) -> CardTransaction:
    amount = money(_get(node, "amount"))
    typename = _get(node, "__typename")
    if typename == "GiftCardDebitTransaction":
        kind = TransactionKind.DEBIT
    elif typename == "GiftCardCreditTransaction":
        kind = TransactionKind.CREDIT
    else:
        kind = TransactionKind.DEBIT if amount.is_negative else TransactionKind.CREDIT
    return CardTransaction(
        id=str(_get(node, "id")),
        kind=kind,
        amount=abs(amount),
        processed_at=required_timestamp(_get(node, "processedAt")),
        note=_text(_get(node, "note")),
    )


def nodes(connection: Any) -> list[Any]:
    found = _get(connection, "nodes")
    if not isinstance(found, list):
        raise ResponseShapeError("expected a list of nodes")
    return found


def page_info(connection: Any) -> tuple[bool, str | None]:
    info = _get(connection, "pageInfo")
    return bool(_get(info, "hasNextPage")), _text(_get(info, "endCursor"))


# --- orders -----------------------------------------------------------------------------------


def receipt_card_id(receipt: Any) -> str | None:
    """The GID of the gift card a ``gift_card`` transaction's receipt names, if readable."""
    if isinstance(receipt, str):
        try:
            receipt = json.loads(receipt)
        except ValueError:
            return None
    if not isinstance(receipt, Mapping):
        return None
    number = receipt.get("gift_card_id")
    if isinstance(number, bool):
        return None
    text = str(number) if isinstance(number, int | str) else ""
    if text.startswith("gid://shopify/GiftCard/"):
        return text
    return f"gid://shopify/GiftCard/{text}" if text.isdigit() and text != "0" else None


def line_item(node: Any) -> LineItem:
    attributes: dict[str, str] = {}
    for pair in _get(node, "customAttributes") or []:
        key, value = _get(pair, "key"), _get(pair, "value")
        if isinstance(key, str):
            attributes[key] = value if isinstance(value, str) else ""
    # Units still on the order: an order edit or a refund lowers currentQuantity, and no card
    # is owed (or will be issued by Shopify) for a removed unit.
    current = _get(node, "currentQuantity")
    return LineItem(
        id=str(_get(node, "id")),
        quantity=int(current if current is not None else _get(node, "quantity") or 0),
        is_gift_card=bool(_get(node, "isGiftCard")),
        unit_price=shop_money(_get(node, "originalUnitPriceSet")),
        sku=_text(_get(node, "sku")),
        name=_text(_get(node, "name")),
        attributes=attributes,
    )


def order_transaction(node: Any) -> OrderTransaction:
    gateway = str(_get(node, "gateway") or "")
    return OrderTransaction(
        id=str(_get(node, "id")),
        gateway=gateway,
        kind=str(_get(node, "kind") or ""),
        status=str(_get(node, "status") or ""),
        amount=shop_money(_get(node, "amountSet")),
        processed_at=timestamp(_get(node, "processedAt")),
        gift_card_id=receipt_card_id(_get(node, "receiptJson")) if gateway == "gift_card" else None,
    )


def _customer(node: Any) -> tuple[str | None, str | None]:
    customer = _get(node, "customer")
    email = _text(_get(node, "email"))
    if not isinstance(customer, Mapping):
        return email, None
    address = customer.get("defaultEmailAddress")
    if email is None and isinstance(address, Mapping):
        email = _text(address.get("emailAddress"))
    parts = [p for p in (_text(customer.get("firstName")), _text(customer.get("lastName"))) if p]
    name = " ".join(parts) if parts else _text(customer.get("displayName"))
    return email, name


def order(node: Any, extra_line_items: tuple[LineItem, ...] = ()) -> ShopifyOrder:
    email, name = _customer(node)
    status = _text(_get(node, "displayFinancialStatus"))
    transactions = _get(node, "transactions") or []
    return ShopifyOrder(
        id=str(_get(node, "id")),
        name=str(_get(node, "name")),
        created_at=required_timestamp(_get(node, "createdAt")),
        currency=str(_get(node, "currencyCode")),
        tags=frozenset(t for t in _get(node, "tags") or [] if isinstance(t, str)),
        financial_status=status.lower() if status else None,
        customer_email=email,
        customer_name=name,
        line_items=tuple(line_item(n) for n in nodes(_get(node, "lineItems"))) + extra_line_items,
        transactions=tuple(order_transaction(t) for t in transactions),
        updated_at=timestamp(_get(node, "updatedAt")),
        test=bool(_get(node, "test")),
    )
