"""The audit's read of Shopify's cards: ``giftCards`` in ascending id order, ``id:>`` a number.

A search on ``id:>N`` (rather than an opaque cursor) lets a pass resume exactly where it stopped,
in a later run or after a restart. ``updated_at:>=`` narrows an incremental run to the cards
Shopify changed. The document asks for no initial value and no order, so a page of 250 requests
502 points (2 + 250 x 2): half of a 1,000-point bucket.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from clients import shopify_parse as parse
from clients import shopify_search as search
from clients.records import CardState, CardStatePage

OPERATION = "GiftCardsAudit"
MAX_PAGE = 250  # Shopify's largest page


def cards_query(after_number: int, updated_since: datetime | None) -> str:
    terms = [f"id:>{max(0, int(after_number))}"]
    if updated_since is not None:
        terms.append(f"updated_at:>={search.quote(search.iso(updated_since))}")
    return " ".join(terms)


def variables(after_number: int, updated_since: datetime | None, limit: int) -> dict[str, Any]:
    return {
        "query": cards_query(after_number, updated_since),
        "first": max(1, min(limit, MAX_PAGE)),
    }


def _get(node: Any, key: str) -> Any:
    if not isinstance(node, Mapping):
        raise parse.ResponseShapeError(f"expected an object holding {key!r}")
    return node.get(key)


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def card_state(node: Any) -> CardState:
    return CardState(
        id=str(_get(node, "id")),
        last_characters=str(_get(node, "lastCharacters") or ""),
        balance=parse.money(_get(node, "balance")),
        enabled=bool(_get(node, "enabled")),
        updated_at=parse.required_timestamp(_get(node, "updatedAt")),
        expires_on=parse.day(_get(node, "expiresOn")),
        deactivated_at=parse.timestamp(_get(node, "deactivatedAt")),
        note=_text(_get(node, "note")),
        created_at=parse.timestamp(_get(node, "createdAt")),
    )


def page(data: dict[str, Any]) -> CardStatePage:
    """The page a ``GiftCardsAudit`` answer holds (``ResponseShapeError`` when malformed)."""
    connection = data.get("giftCards")
    cards = tuple(card_state(n) for n in parse.nodes(connection))
    return CardStatePage(cards, bool(_get(_get(connection, "pageInfo"), "hasNextPage")))
