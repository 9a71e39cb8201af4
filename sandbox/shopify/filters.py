"""The ``query:`` filters and sort keys of ``giftCards`` and ``orders``.

Gift card free text matches the **full code exactly**, ignoring case and dashes (``ABCD-1234-...``
finds ``abcd1234...``); it never matches a part of a code, a note or a name. Unknown fields are
ignored with a search warning (see ``search.py``); a known field given a value it cannot read
(``created_at:>=yesterdayish``) matches nothing. Dates compare at second precision in UTC; a bare
date means midnight UTC, and ``field:<date>`` (equality) means "on that day".
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from sandbox.shopify.search import Filter, Matcher, parse_query
from sandbox.shopify.state import GiftCard, Order, ShopState


def _compare(left: Any, comparator: str, right: Any) -> bool:
    if comparator == "<":
        return bool(left < right)
    if comparator == ">":
        return bool(left > right)
    if comparator == "<=":
        return bool(left <= right)
    if comparator == ">=":
        return bool(left >= right)
    return bool(left == right)


def _parse_time(value: str, now: datetime) -> tuple[datetime, datetime] | None:
    """The [start, end) interval a date or date-time names; None when unreadable."""
    text = value.strip()
    if text.lower() == "now":
        return now, now + timedelta(seconds=1)
    try:
        if len(text) == 10:
            day = datetime.combine(date.fromisoformat(text), datetime.min.time(), UTC)
            return day, day + timedelta(days=1)
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return moment, moment + timedelta(seconds=1)


def time_matcher(get: Callable[[Any], datetime | date | None], now: Callable[[], datetime],
                 ) -> Matcher[Any]:
    def match(item: Any, comparator: str, value: str) -> bool:
        interval = _parse_time(value, now())
        moment = get(item)
        if interval is None or moment is None:
            return False
        if not isinstance(moment, datetime):
            moment = datetime.combine(moment, datetime.min.time(), UTC)
        start, end = interval
        if comparator == ":":
            return start <= moment < end
        if comparator in ("<", ">="):
            return _compare(moment, comparator, start)
        return _compare(moment, "<" if comparator == "<=" else ">=", end)

    return match


def number_matcher(get: Callable[[Any], Decimal | int]) -> Matcher[Any]:
    def match(item: Any, comparator: str, value: str) -> bool:
        text = value.strip().rsplit("/", 1)[-1]  # id:gid://shopify/Order/12 works too
        try:
            wanted = Decimal(text)
        except InvalidOperation:
            return False
        return _compare(Decimal(get(item)), comparator, wanted)

    return match


def text_matcher(get: Callable[[Any], list[str]]) -> Matcher[Any]:
    """Case-insensitive equality with any of the item's values; a trailing ``*`` is a prefix."""
    def match(item: Any, comparator: str, value: str) -> bool:
        wanted = value.strip().lower()
        values = [v.lower() for v in get(item)]
        if wanted.endswith("*"):
            return any(v.startswith(wanted[:-1]) for v in values)
        return wanted in values

    return match


def normalize_code(text: str) -> str:
    return text.strip().lower().replace("-", "")


# --- gift cards ---------------------------------------------------------------------------------

def card_status(card: GiftCard, today: date) -> str:
    if not card.enabled:
        return "disabled"
    if card.expires_on is not None and card.expires_on < today:
        return "expired"
    return "enabled"


def _balance_statuses(card: GiftCard) -> list[str]:
    if card.balance <= 0:
        return ["empty"]
    return ["full" if card.balance >= card.initial_value else "partial", "full_or_partial"]


def _card_statuses(card: GiftCard, today: date) -> list[str]:
    status = card_status(card, today)
    # "expiring": enabled cards that have an expiry date that has not passed yet
    return [status, "expiring"] if status == "enabled" and card.expires_on else [status]


def gift_card_filter(query: str | None, now: Callable[[], datetime]) -> Filter[GiftCard]:
    fields: dict[str, Matcher[GiftCard]] = {
        "id": number_matcher(lambda c: c.number),
        "status": text_matcher(lambda c: _card_statuses(c, now().date())),
        "balance_status": text_matcher(_balance_statuses),
        "created_at": time_matcher(lambda c: c.created_at, now),
        "updated_at": time_matcher(lambda c: c.updated_at, now),
        "expires_on": time_matcher(lambda c: c.expires_on, now),
        "initial_value": number_matcher(lambda c: c.initial_value),
        "source": text_matcher(lambda c: [c.source]),
        "last_characters": text_matcher(lambda c: [c.code[-4:]]),
    }
    return Filter(parse_query(query), fields,
                  lambda card, text: card.code == normalize_code(text))


GIFT_CARD_SORT: dict[str, Callable[[GiftCard], Any]] = {
    "ID": lambda c: c.number,
    "CREATED_AT": lambda c: c.created_at.isoformat(),
    "UPDATED_AT": lambda c: c.updated_at.isoformat(),
    "BALANCE": lambda c: float(c.balance),
    "INITIAL_VALUE": lambda c: float(c.initial_value),
    "AMOUNT_SPENT": lambda c: float(c.initial_value - c.balance),
    "EXPIRES_ON": lambda c: c.expires_on.isoformat() if c.expires_on else "9999-12-31",
    "DISABLED_AT": lambda c: c.deactivated_at.isoformat() if c.deactivated_at else "9999",
    "CODE": lambda c: c.code,
}


# --- orders -------------------------------------------------------------------------------------

def _order_status(order: Order) -> list[str]:
    if order.cancelled_at is not None:
        return ["cancelled", "closed"]
    return ["open", "not_closed"]


def _order_free_text(state: ShopState) -> Callable[[Order, str], bool]:
    def match(order: Order, text: str) -> bool:
        wanted = text.strip().lower()
        words = [order.name.lower(), str(order.order_number), (order.email or "").lower()]
        customer = state.customers.get(order.customer_number or 0)
        if customer is not None:
            words += [(customer.first_name or "").lower(), (customer.last_name or "").lower()]
        return wanted in words

    return match


def order_filter(query: str | None, state: ShopState,
                 now: Callable[[], datetime]) -> Filter[Order]:
    fields: dict[str, Matcher[Order]] = {
        "id": number_matcher(lambda o: o.number),
        "name": text_matcher(lambda o: [o.name, str(o.order_number)]),
        "tag": text_matcher(lambda o: o.tags),
        "financial_status": text_matcher(lambda o: [o.financial_status.lower()]),
        "gateway": text_matcher(lambda o: gateway_names(o)),
        "sku": text_matcher(lambda o: [li.sku for li in o.line_items if li.sku]),
        "status": text_matcher(_order_status),
        "test": text_matcher(lambda o: [str(o.test).lower()]),
        "source_name": text_matcher(lambda o: [o.source_name]),
        "email": text_matcher(lambda o: [o.email] if o.email else []),
        "customer_id": number_matcher(lambda o: o.customer_number or 0),
        "created_at": time_matcher(lambda o: o.created_at, now),
        "updated_at": time_matcher(lambda o: o.updated_at, now),
        "processed_at": time_matcher(lambda o: o.processed_at, now),
    }
    return Filter(parse_query(query), fields, _order_free_text(state))


def gateway_names(order: Order) -> list[str]:
    names: list[str] = []
    for txn in order.transactions:
        if txn.kind in ("SALE", "CAPTURE", "AUTHORIZATION") and txn.gateway not in names:
            names.append(txn.gateway)
    return names


ORDER_SORT: dict[str, Callable[[Order], Any]] = {
    "ID": lambda o: o.number,
    "ORDER_NUMBER": lambda o: o.order_number,
    "CREATED_AT": lambda o: o.created_at.isoformat(),
    "UPDATED_AT": lambda o: o.updated_at.isoformat(),
    "PROCESSED_AT": lambda o: o.processed_at.isoformat(),
    "TOTAL_PRICE": lambda o: float(o.total),
    "CURRENT_TOTAL_PRICE": lambda o: float(o.total),
    "FINANCIAL_STATUS": lambda o: o.financial_status,
    "TOTAL_ITEMS_QUANTITY": lambda o: sum(li.quantity for li in o.line_items),
}
