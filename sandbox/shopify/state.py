"""The sandbox shop's data: gift cards and their transactions, customers and orders.

Plain dataclasses with one id counter for every kind of object (as Shopify's ids are unique
across resources, a card id can never be mistaken for an order id). Money is ``Decimal`` in the
shop currency; times are aware UTC datetimes truncated to the second, as Shopify reports them.
:func:`dump_state` and :func:`load_state` give the JSON form used for snapshots.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

GID_PREFIX = "gid://shopify/"


def gid(kind: str, number: int) -> str:
    return f"{GID_PREFIX}{kind}/{number}"


def parse_gid(value: str, kind: str) -> int | None:
    """The number of ``gid://shopify/<kind>/<n>``; None for another kind or a malformed id."""
    prefix = f"{GID_PREFIX}{kind}/"
    if not value.startswith(prefix):
        return None
    tail = value[len(prefix):].split("?", 1)[0]
    return int(tail) if tail.isdigit() else None


@dataclass
class GiftCard:
    number: int
    code: str  # lower case; kept only by the sandbox (Shopify never reveals it after creation)
    initial_value: Decimal
    balance: Decimal
    currency: str
    created_at: datetime
    updated_at: datetime
    source: str = "api_client"  # api_client | manual | purchased
    expires_on: date | None = None
    note: str | None = None
    notify: bool = True
    enabled: bool = True
    deactivated_at: datetime | None = None
    customer_number: int | None = None
    order_number: int | None = None
    line_item_number: int | None = None
    template_suffix: str | None = None


@dataclass
class CardTransaction:
    number: int
    card_number: int
    kind: str  # "credit" | "debit"
    amount: Decimal  # magnitude, always positive; debits are reported negative on the wire
    note: str | None
    processed_at: datetime
    order_number: int | None = None  # set for checkout debits and refunds


@dataclass
class Customer:
    number: int
    email: str | None
    first_name: str | None
    last_name: str | None
    created_at: datetime


@dataclass
class LineItem:
    number: int
    name: str
    sku: str | None
    quantity: int
    unit_price: Decimal
    is_gift_card: bool = False
    custom_attributes: list[tuple[str, str | None]] = field(default_factory=list)
    fulfilled_quantity: int = 0


@dataclass
class OrderTransaction:
    number: int
    gateway: str
    kind: str  # OrderTransactionKind
    status: str  # OrderTransactionStatus
    amount: Decimal
    processed_at: datetime
    receipt: dict[str, Any] | None = None
    parent_number: int | None = None
    card_number: int | None = None  # the gift card a gift_card transaction used


@dataclass
class Fulfillment:
    number: int
    created_at: datetime
    lines: list[tuple[int, int]]  # (line item number, quantity)


@dataclass
class Order:
    number: int
    order_number: int  # the 1001 in "#1001"
    created_at: datetime
    updated_at: datetime
    processed_at: datetime
    currency: str
    financial_status: str  # OrderDisplayFinancialStatus
    line_items: list[LineItem]
    tags: list[str] = field(default_factory=list)
    test: bool = False
    email: str | None = None
    customer_number: int | None = None
    source_name: str = "web"
    transactions: list[OrderTransaction] = field(default_factory=list)
    fulfillments: list[Fulfillment] = field(default_factory=list)
    cancelled_at: datetime | None = None

    @property
    def name(self) -> str:
        return f"#{self.order_number}"

    @property
    def total(self) -> Decimal:
        return sum((li.unit_price * li.quantity for li in self.line_items), Decimal(0))


@dataclass
class ShopState:
    next_id: int = 1_000_001
    next_order_number: int = 1001
    cards: dict[int, GiftCard] = field(default_factory=dict)
    card_transactions: list[CardTransaction] = field(default_factory=list)
    customers: dict[int, Customer] = field(default_factory=dict)
    orders: dict[int, Order] = field(default_factory=dict)

    def new_id(self) -> int:
        self.next_id += 1
        return self.next_id - 1

    def card_by_code(self, code: str) -> GiftCard | None:
        wanted = code.strip().lower()
        return next((c for c in self.cards.values() if c.code == wanted), None)

    def transactions_of(self, card_number: int) -> list[CardTransaction]:
        return [t for t in self.card_transactions if t.card_number == card_number]


# --- JSON snapshot form -------------------------------------------------------------------------

def _encode(value: Any) -> Any:
    if isinstance(value, Decimal):
        return {"$decimal": str(value)}
    if isinstance(value, datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, date):
        return {"$date": value.isoformat()}
    if isinstance(value, dict):
        return {str(k): _encode(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_encode(v) for v in value]
    return value


def _decode(value: Any) -> Any:
    if isinstance(value, dict):
        if "$decimal" in value:
            return Decimal(value["$decimal"])
        if "$datetime" in value:
            return datetime.fromisoformat(value["$datetime"])
        if "$date" in value:
            return date.fromisoformat(value["$date"])
        return {k: _decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode(v) for v in value]
    return value


def dump_state(state: ShopState) -> dict[str, Any]:
    return {
        "next_id": state.next_id,
        "next_order_number": state.next_order_number,
        "cards": [_encode(dataclasses.asdict(c)) for c in state.cards.values()],
        "card_transactions": [_encode(dataclasses.asdict(t)) for t in state.card_transactions],
        "customers": [_encode(dataclasses.asdict(c)) for c in state.customers.values()],
        "orders": [_encode(dataclasses.asdict(o)) for o in state.orders.values()],
    }


def _order_from(raw: dict[str, Any]) -> Order:
    items = [LineItem(**{**li, "custom_attributes": [tuple(a) for a in li["custom_attributes"]]})
             for li in raw.pop("line_items")]
    txns = [OrderTransaction(**t) for t in raw.pop("transactions")]
    fulfillments = [Fulfillment(f["number"], f["created_at"], [(a, b) for a, b in f["lines"]])
                    for f in raw.pop("fulfillments")]
    return Order(**raw, line_items=items, transactions=txns, fulfillments=fulfillments)


def load_state(data: dict[str, Any]) -> ShopState:
    raw = _decode(data)
    state = ShopState(next_id=raw["next_id"], next_order_number=raw["next_order_number"])
    state.cards = {c["number"]: GiftCard(**c) for c in raw["cards"]}
    state.card_transactions = [CardTransaction(**t) for t in raw["card_transactions"]]
    state.customers = {c["number"]: Customer(**c) for c in raw["customers"]}
    state.orders = {o["number"]: _order_from(o) for o in raw["orders"]}
    return state
