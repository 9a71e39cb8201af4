"""GraphQL views of orders, their line items, transactions and fulfillments.

``receiptJson`` of a ``gift_card`` transaction names the card:
``{"gift_card_id": <card number>, "gift_card_last_characters": "<last 4>"}``; it is a JSON-encoded
**string** by default (as Shopify serves it), or an object with ``receipt_json_as_string=False``.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from sandbox.shopify.filters import gateway_names
from sandbox.shopify.pagination import connection
from sandbox.shopify.schema import format_datetime
from sandbox.shopify.state import Fulfillment, LineItem, Order, OrderTransaction, gid
from sandbox.shopify.view_context import Context, customer_view, money_bag


class LineItemView:
    typename = "LineItem"

    def __init__(self, order: Order, item: LineItem) -> None:
        cur = order.currency
        self.id = gid("LineItem", item.number)
        self.name = self.title = item.name
        self.sku = item.sku
        self.is_gift_card = item.is_gift_card
        self.quantity = self.current_quantity = self.refundable_quantity = item.quantity
        self.unfulfilled_quantity = self.fulfillable_quantity = (
            item.quantity - item.fulfilled_quantity)
        self.non_fulfillable_quantity = 0
        self.fulfillment_status = "fulfilled" if self.unfulfilled_quantity == 0 else "unfulfilled"
        self.requires_shipping = not item.is_gift_card
        self.taxable = self.restockable = self.merchant_editable = not item.is_gift_card
        self.custom_attributes = [{"key": k, "value": v} for k, v in item.custom_attributes]
        self.original_unit_price_set = self.discounted_unit_price_set = money_bag(
            item.unit_price, cur)
        self.discounted_unit_price_after_all_discounts_set = self.original_unit_price_set
        self.original_total_set = money_bag(item.unit_price * item.quantity, cur)
        self.unfulfilled_original_total_set = money_bag(
            item.unit_price * self.unfulfilled_quantity, cur)
        self.unfulfilled_discounted_total_set = self.unfulfilled_original_total_set
        self.total_discount_set = money_bag(Decimal(0), cur)
        self.discount_allocations: list[Any] = []
        self.duties: list[Any] = []
        self.variant_title = self.vendor = None

    def discounted_total_set(self, info: Any, **_: Any) -> dict[str, Any]:
        return self.original_total_set

    def tax_lines(self, info: Any, **_: Any) -> list[Any]:
        return []


class OrderTransactionView:
    typename = "OrderTransaction"

    def __init__(self, ctx: Context, order: Order, txn: OrderTransaction) -> None:
        self.ctx, self.order_record, self.txn = ctx, order, txn
        self.id = gid("OrderTransaction", txn.number)
        self.gateway = txn.gateway
        self.formatted_gateway = txn.gateway.replace("_", " ").capitalize()
        self.kind, self.status, self.test = txn.kind, txn.status, order.test
        self.processed_at = self.created_at = format_datetime(txn.processed_at)
        self.amount_set = money_bag(txn.amount, order.currency)
        self.manual_payment_gateway = self.manually_capturable = self.multi_capturable = False
        self.fees: list[Any] = []
        self.payment_id = f"c{order.number}.{txn.number}"

    @property
    def receipt_json(self) -> Any:
        receipt = self.txn.receipt or {}
        return json.dumps(receipt) if self.ctx.receipt_as_string else receipt

    @property
    def order(self) -> OrderView:
        return OrderView(self.ctx, self.order_record)

    @property
    def parent_transaction(self) -> OrderTransactionView | None:
        parent = next((t for t in self.order_record.transactions
                       if t.number == self.txn.parent_number), None)
        return OrderTransactionView(self.ctx, self.order_record, parent) if parent else None


class FulfillmentView:
    typename = "Fulfillment"

    def __init__(self, ctx: Context, order: Order, fulfillment: Fulfillment) -> None:
        self.ctx, self.order_record, self.f = ctx, order, fulfillment
        self.id = gid("Fulfillment", fulfillment.number)
        self.legacy_resource_id = str(fulfillment.number)
        index = order.fulfillments.index(fulfillment) + 1
        self.name = f"{order.name}.{index}"
        self.created_at = self.updated_at = format_datetime(fulfillment.created_at)
        self.status, self.display_status = "SUCCESS", "FULFILLED"
        self.total_quantity = sum(qty for _, qty in fulfillment.lines)
        self.requires_shipping = False

    @property
    def order(self) -> OrderView:
        return OrderView(self.ctx, self.order_record)

    def tracking_info(self, info: Any, **_: Any) -> list[Any]:
        return []

    def fulfillment_line_items(self, info: Any, **page: Any) -> dict[str, Any]:
        items = {li.number: li for li in self.order_record.line_items}
        lines = [(n, qty) for n, (item, qty) in enumerate(self.f.lines) if item in items]

        def wrap(line: tuple[int, int]) -> dict[str, Any]:
            item = items[self.f.lines[line[0]][0]]
            total = money_bag(item.unit_price * line[1], self.order_record.currency)
            return {"id": gid("FulfillmentLineItem", self.f.number * 1000 + line[0]),
                    "lineItem": LineItemView(self.order_record, item), "quantity": line[1],
                    "originalTotalSet": total, "discountedTotalSet": total}

        return connection(lines, lambda line: (line[0],), wrap, **page)



def _refunded(order: Order) -> Decimal:
    return sum((t.amount for t in order.transactions
                if t.kind == "REFUND" and t.status == "SUCCESS"), Decimal(0))


def _received(order: Order) -> Decimal:
    return sum((t.amount for t in order.transactions
                if t.kind in ("SALE", "CAPTURE") and t.status == "SUCCESS"), Decimal(0))


def _fulfillment_status(order: Order) -> str:
    done = sum(li.fulfilled_quantity for li in order.line_items)
    if done == 0:
        return "UNFULFILLED"
    return "FULFILLED" if done == sum(li.quantity for li in order.line_items) else (
        "PARTIALLY_FULFILLED")


class OrderView:
    typename = "Order"

    def __init__(self, ctx: Context, order: Order) -> None:
        self.ctx, self.o = ctx, order
        cur = order.currency
        self.id = gid("Order", order.number)
        self.legacy_resource_id = str(order.number)
        self.name, self.number = order.name, order.order_number
        self.tags = sorted(order.tags, key=str.lower)
        self.test, self.email, self.source_name = order.test, order.email, order.source_name
        self.note = None
        self.created_at = format_datetime(order.created_at)
        self.updated_at = format_datetime(order.updated_at)
        self.processed_at = format_datetime(order.processed_at)
        self.cancelled_at = format_datetime(order.cancelled_at) if order.cancelled_at else None
        self.closed = order.cancelled_at is not None
        self.confirmed = True
        self.display_financial_status = order.financial_status
        self.display_fulfillment_status = _fulfillment_status(order)
        self.payment_gateway_names = gateway_names(order)
        self.currency_code = self.presentment_currency_code = cur
        self.custom_attributes: list[Any] = []
        self.discount_codes: list[str] = []
        quantity = sum(li.quantity for li in order.line_items)
        self.subtotal_line_items_quantity = self.current_subtotal_line_items_quantity = quantity
        total, received, refunded = order.total, _received(order), _refunded(order)
        self.total_price_set = self.original_total_price_set = money_bag(total, cur)
        self.subtotal_price_set = self.current_subtotal_price_set = money_bag(total, cur)
        self.current_total_price_set = money_bag(total - refunded, cur)
        self.total_received_set = money_bag(received, cur)
        self.total_refunded_set = money_bag(refunded, cur)
        self.net_payment_set = money_bag(received - refunded, cur)
        self.total_outstanding_set = money_bag(max(total - received, Decimal(0)), cur)
        self.fully_paid = received >= total
        self.unpaid = received == 0
        self.capturable = False
        self.refundable = received > refunded

    @property
    def customer(self) -> Any:
        return customer_view(self.ctx, self.o.customer_number)

    def line_items(self, info: Any, **page: Any) -> dict[str, Any]:
        return connection(self.o.line_items, lambda li: (li.number,),
                          lambda li: LineItemView(self.o, li), **page)

    def transactions(self, info: Any, first: int | None = None, capturable: bool | None = None,
                     manually_resolvable: bool | None = None) -> list[OrderTransactionView]:
        txns = [t for t in self.o.transactions if not capturable]  # nothing is ever capturable
        return [OrderTransactionView(self.ctx, self.o, t) for t in txns[:first]]

    def fulfillments(self, info: Any, first: int | None = None,
                     query: str | None = None) -> list[FulfillmentView]:
        return [FulfillmentView(self.ctx, self.o, f) for f in self.o.fulfillments[:first]]
