"""Plain JSON summaries of the shop's objects for ``/_sandbox/`` answers and ``state()``."""

from __future__ import annotations

from typing import Any

from sandbox.shopify.state import (
    CardTransaction,
    GiftCard,
    Order,
    OrderTransaction,
    ShopState,
    gid,
)


def card_json(card: GiftCard) -> dict[str, Any]:
    return {"id": gid("GiftCard", card.number), "code": card.code, "balance": str(card.balance),
            "initial_value": str(card.initial_value), "currency": card.currency,
            "enabled": card.enabled, "source": card.source, "note": card.note,
            "expires_on": card.expires_on.isoformat() if card.expires_on else None,
            "order_id": gid("Order", card.order_number) if card.order_number else None}


def transaction_json(txn: OrderTransaction) -> dict[str, Any]:
    return {"id": gid("OrderTransaction", txn.number), "gateway": txn.gateway, "kind": txn.kind,
            "status": txn.status, "amount": str(txn.amount), "receipt": txn.receipt}


def order_json(order: Order) -> dict[str, Any]:
    return {"id": gid("Order", order.number), "name": order.name,
            "financial_status": order.financial_status, "tags": order.tags,
            "total": str(order.total), "updated_at": order.updated_at.isoformat(),
            "line_items": [{"id": gid("LineItem", li.number), "sku": li.sku,
                            "quantity": li.quantity, "is_gift_card": li.is_gift_card}
                           for li in order.line_items],
            "transactions": [transaction_json(t) for t in order.transactions]}


def card_transaction_json(txn: CardTransaction) -> dict[str, Any]:
    kind = "GiftCardCreditTransaction" if txn.kind == "credit" else "GiftCardDebitTransaction"
    return {"id": gid(kind, txn.number), "gift_card_id": gid("GiftCard", txn.card_number),
            "kind": txn.kind, "amount": str(txn.amount), "note": txn.note,
            "processed_at": txn.processed_at.isoformat(),
            "order_id": gid("Order", txn.order_number) if txn.order_number else None}


def state_json(state: ShopState) -> dict[str, Any]:
    return {"cards": [card_json(c) for c in state.cards.values()],
            "card_transactions": [card_transaction_json(t) for t in state.card_transactions],
            "orders": [order_json(o) for o in state.orders.values()]}
