"""The audit's two Airtable reads, their formulas (``pyairtable.formulas`` only) and rows.

- Gift Cards rows by a range of Shopify card numbers: the number is the tail of the row's
  ``Shopify Gift Card ID`` (``gid://shopify/GiftCard/<n>``), compared as a number
  (``VALUE(SUBSTITUTE(...))``), so one formula selects the rows of a chunk of Shopify's cards
  listed in id order, read 100 a page with no request per card.
- Receipts of some actions whose At falls in time windows, a few windows per formula.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from pyairtable.formulas import AND, EQ, GT, GTE, LEFT, LTE, OR, SUBSTITUTE, VALUE, Field, Formula

from cards.vocab import ReceiptAction, ReceiptSource
from clients import airtable_codec as codec
from clients.records import Receipt
from config.layout import GiftCards, Receipts

GIFT_CARD_GID = "gid://shopify/GiftCard/"
WINDOWS_PER_FORMULA = 20


def range_formula(after_number: int, up_to: int | None) -> Formula:
    """Rows naming a Shopify gift card numbered above ``after_number``, at most ``up_to``."""
    gid = Field(GiftCards.SHOPIFY_GIFT_CARD_ID)
    number = VALUE(SUBSTITUTE(gid, GIFT_CARD_GID, ""))
    terms: list[Formula] = [
        EQ(LEFT(gid, len(GIFT_CARD_GID)), GIFT_CARD_GID),
        GT(number, int(after_number)),
    ]
    if up_to is not None:
        terms.append(LTE(number, int(up_to)))
    return AND(*terms)


def windows_formulas(
    actions: Sequence[ReceiptAction], windows: Sequence[tuple[datetime, datetime]]
) -> list[Formula]:
    """One formula per few windows: the actions, and At within one of them."""
    if not actions or not windows:
        return []
    action = Field(Receipts.ACTION)
    at = Field(Receipts.AT)
    kinds = [EQ(action, a.value) for a in actions]
    either = kinds[0] if len(kinds) == 1 else OR(*kinds)
    formulas: list[Formula] = []
    for start in range(0, len(windows), WINDOWS_PER_FORMULA):
        spans = [
            AND(GTE(at, begin.astimezone(UTC)), LTE(at, end.astimezone(UTC)))
            for begin, end in windows[start : start + WINDOWS_PER_FORMULA]
        ]
        formulas.append(AND(either, spans[0] if len(spans) == 1 else OR(*spans)))
    return formulas


def receipt(record: dict[str, Any], currency: str) -> Receipt | None:
    """A Receipts row (None without a Reference, a known Action or an At)."""
    f, r, rid = record.get("fields") or {}, Receipts, record["id"]
    reference = codec.text(f, r.REFERENCE)
    action = codec.option(f, r.ACTION, ReceiptAction)
    at = codec.timestamp(f, r.AT)
    if reference is None or action is None or at is None:
        return None
    cards, stores = codec.links(f, r.GIFT_CARD), codec.links(f, r.STORE)
    return Receipt(
        reference=reference,
        action=action,
        at=at,
        source=codec.option(f, r.SOURCE, ReceiptSource) or ReceiptSource.DAEMON,
        card_id=cards[0] if cards else None,
        store_id=stores[0] if stores else None,
        amount=codec.money(f, r.AMOUNT, currency, record_id=rid),
        balance_before=codec.money(f, r.BALANCE_BEFORE, currency, record_id=rid),
        balance_after=codec.money(f, r.BALANCE_AFTER, currency, record_id=rid),
        request=codec.text(f, r.REQUEST),
        shopify_reference=codec.text(f, r.SHOPIFY_REFERENCE),
        details=codec.text(f, r.DETAILS),
    )
