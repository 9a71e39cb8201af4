"""Reading an order's gift-card line items: SKU units, native units, and who gets each card.

Custom attributes (line item properties) name the recipient: ``Recipient email``, ``Recipient
name``, ``Message`` and, optionally, ``Theme``. Keys match without regard to case, spaces,
underscores or dashes (``recipient_email``, ``RecipientEmail``, ``_Recipient email`` all work;
themes often prefix private properties with ``_``).

A line item Shopify marks ``isGiftCard`` is native even when its SKU is in the configured set:
Shopify issues that card itself, and ``giftCardCreate`` for it would make a second card.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from cards.addresses import is_email
from cards.vocab import Theme
from clients.records import LineItem, ShopifyOrder

_KEY_NOISE = re.compile(r"[\s_\-]+")
RECIPIENT_EMAIL = "recipientemail"
RECIPIENT_NAME = "recipientname"
MESSAGE = "message"
THEME = "theme"


def attribute_key(key: str) -> str:
    return _KEY_NOISE.sub("", key).lower()


def attributes(line: LineItem) -> dict[str, str]:
    """The line's custom attributes by normalized key; blank values count as absent."""
    found: dict[str, str] = {}
    for key, value in line.attributes.items():
        text = (value or "").strip()
        if text:
            found.setdefault(attribute_key(key), text)
    return found


@dataclass(frozen=True, slots=True)
class Holder:
    """Who receives one SKU card's code, and whether it is a gift."""

    is_gift: bool
    recipient_name: str | None
    recipient_email: str | None
    message: str | None
    theme: Theme
    recipient_problem: str | None  # a named recipient that could not be used (card goes to buyer)


def holder_for(line: LineItem, order: ShopifyOrder) -> Holder:
    """The named recipient when there is a usable one, else the order's customer (not a gift).

    A recipient email equal to the customer's is not a gift: one email, with the code. A
    malformed recipient email sends the card to the buyer instead and is reported, so the buyer
    can forward it and an operator can see why.
    """
    attrs = attributes(line)
    email = attrs.get(RECIPIENT_EMAIL)
    name = attrs.get(RECIPIENT_NAME)
    message = attrs.get(MESSAGE)
    theme = _theme(attrs.get(THEME))
    problem = None
    if email is not None and not is_email(email):
        problem = "the recipient email in the line item is not an email address"
        email = None
    buyer = (order.customer_email or "").strip().lower()
    if email is None or email.lower() == buyer:
        return Holder(False, None, None, message, theme, problem)
    return Holder(True, name, email, message, theme, problem)


def _theme(text: str | None) -> Theme:
    for theme in Theme:
        if text is not None and attribute_key(theme.value) == attribute_key(text):
            return theme
    return Theme.STANDARD


def sku_lines(order: ShopifyOrder, skus: frozenset[str]) -> list[LineItem]:
    return [li for li in order.line_items if not li.is_gift_card and li.sku in skus]


def native_lines(order: ShopifyOrder) -> list[LineItem]:
    return [li for li in order.line_items if li.is_gift_card]


def native_units(order: ShopifyOrder) -> int:
    return sum(max(li.quantity, 0) for li in native_lines(order))


def units(line: LineItem) -> Iterator[int]:
    """Unit numbers from 1: one card each."""
    return iter(range(1, max(line.quantity, 0) + 1))


def shared_native_holder(order: ShopifyOrder) -> Mapping[str, str]:
    """Recipient attributes for native cards, only when one native line item holds them all
    (Shopify does not say which line item a card came from before API 2026-07)."""
    lines = native_lines(order)
    return attributes(lines[0]) if len(lines) == 1 else {}
