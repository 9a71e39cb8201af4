"""Resolvers: the root fields giftbridge uses, a default field resolver and a type resolver.

``resolve_field`` reads ``fooBar`` from a dict key ``fooBar`` or a view attribute ``foo_bar``
(calling methods with snake_case keyword arguments). A field no view provides resolves to null
when nullable, ``[]`` / an empty connection for non-null lists and connections, and otherwise to
a clear GraphQL error naming the field, never a crash.

Scopes: each root field needs the scope Shopify documents (``read_gift_cards`` for card reads,
``write_gift_cards`` for create/update/deactivate, ``write_gift_card_transactions`` for
credit/debit, ``read_orders``/``write_orders`` for orders and tags). Orders older than 60 days
are hidden unless the app has ``read_all_orders``.
"""

from __future__ import annotations

import re
from datetime import timedelta
from functools import cache
from typing import Any, TypeAlias
from zoneinfo import ZoneInfo

from graphql import (
    GraphQLError,
    GraphQLResolveInfo,
    get_named_type,
    is_list_type,
    is_non_null_type,
)

from sandbox.shopify import giftcards
from sandbox.shopify.filters import GIFT_CARD_SORT, ORDER_SORT, gift_card_filter, order_filter
from sandbox.shopify.order_views import OrderView
from sandbox.shopify.pagination import connection, empty_connection
from sandbox.shopify.search import Filter, SearchSyntaxError
from sandbox.shopify.state import GiftCard, Order, parse_gid
from sandbox.shopify.view_context import Context, customer_view, require_scope
from sandbox.shopify.views import GiftCardView, TransactionView

Info: TypeAlias = "GraphQLResolveInfo[Any]"
_MISSING = object()
ORDER_WINDOW = timedelta(days=60)


@cache
def snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def resolve_field(source: Any, info: Info, **args: Any) -> Any:
    name = info.field_name
    if isinstance(source, dict):
        value = source.get(name, _MISSING)
    else:
        value = getattr(source, snake(name), _MISSING)
        if callable(value):
            value = value(info, **{snake(k): v for k, v in args.items()})
    return _fallback(info) if value is _MISSING else value


def _fallback(info: Info) -> Any:
    if not is_non_null_type(info.return_type):
        return None
    inner = info.return_type.of_type
    if is_list_type(inner):
        return []
    if get_named_type(inner).name.endswith("Connection"):
        return empty_connection()
    raise GraphQLError(f"{info.parent_type.name}.{info.field_name} is not simulated by the "
                       "giftbridge Shopify sandbox")


def resolve_type(value: Any, info: Info, abstract_type: Any) -> str | None:
    return getattr(value, "typename", None)


def _search(ctx: Context, info: Info, query: str | None, build: Any) -> Filter[Any]:
    try:
        search: Filter[Any] = build(query)
    except SearchSyntaxError as exc:
        raise GraphQLError(f"Invalid search query {query!r}: {exc}") from exc
    if search.warnings:
        ctx.search_warnings.append({"path": [info.path.key], "query": query,
                                    "warnings": search.warnings})
    return search


class Root:
    """Root value: one method per root field (query and mutation)."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    # --- queries ---------------------------------------------------------------------------

    def shop(self, info: Info) -> dict[str, Any]:
        ctx = self.ctx
        local = ctx.now.astimezone(ZoneInfo(ctx.timezone))
        minutes = int((local.utcoffset() or timedelta(0)).total_seconds() // 60)
        sign, (hours, mins) = ("-" if minutes < 0 else "+"), divmod(abs(minutes), 60)
        return {"id": "gid://shopify/Shop/1", "name": ctx.shop_name,
                "myshopifyDomain": ctx.shop_domain, "currencyCode": ctx.rules.currency,
                "email": f"owner@{ctx.shop_domain}", "contactEmail": f"owner@{ctx.shop_domain}",
                "url": f"https://{ctx.shop_domain}", "ianaTimezone": ctx.timezone,
                "timezoneAbbreviation": local.tzname() or "UTC",
                "timezoneOffset": f"{sign}{hours:02d}{mins:02d}",
                "timezoneOffsetMinutes": minutes,
                "enabledPresentmentCurrencies": [ctx.rules.currency]}

    def current_app_installation(self, info: Info) -> dict[str, Any]:
        scopes = [{"handle": s, "description": s} for s in sorted(self.ctx.scopes)]
        return {"id": "gid://shopify/AppInstallation/1", "accessScopes": scopes,
                "launchUrl": f"https://{self.ctx.shop_domain}/admin/apps/giftbridge"}

    def gift_card_configuration(self, info: Info) -> dict[str, Any]:
        require_scope(self.ctx, "read_gift_cards", "giftCardConfiguration")
        limit = {"amount": str(self.ctx.rules.issue_limit), "currencyCode": self.ctx.rules.currency}
        return {"issueLimit": limit, "purchaseLimit": limit}

    def gift_card(self, info: Info, id: str) -> GiftCardView | None:
        require_scope(self.ctx, "read_gift_cards", "giftCard")
        card = giftcards.find_card(self.ctx.state, id)
        return GiftCardView(self.ctx, card) if card is not None else None

    def _cards(self, info: Info, query: str | None) -> list[GiftCard]:
        search = _search(self.ctx, info, query,
                         lambda q: gift_card_filter(q, lambda: self.ctx.now))
        return [c for c in self.ctx.state.cards.values() if search.matches(c)]

    def gift_cards(self, info: Info, query: str | None = None,
                   sort_key: str = "ID", saved_search_id: str | None = None,
                   **page: Any) -> dict[str, Any]:
        require_scope(self.ctx, "read_gift_cards", "giftCards")
        key = GIFT_CARD_SORT.get(sort_key, GIFT_CARD_SORT["ID"])
        return connection(self._cards(info, query), lambda c: (key(c), c.number),
                          lambda c: GiftCardView(self.ctx, c), **page)

    def gift_cards_count(self, info: Info, query: str | None = None,
                         saved_search_id: str | None = None, limit: int | None = 10000,
                         ) -> dict[str, Any]:
        require_scope(self.ctx, "read_gift_cards", "giftCardsCount")
        count = len(self._cards(info, query))
        if limit is not None and count > limit:
            return {"count": limit, "precision": "AT_LEAST"}
        return {"count": count, "precision": "EXACT"}

    def _visible(self, order: Order) -> bool:
        return ("read_all_orders" in self.ctx.scopes
                or order.created_at >= self.ctx.now - ORDER_WINDOW)

    def orders(self, info: Info, query: str | None = None,
               sort_key: str = "PROCESSED_AT", saved_search_id: str | None = None,
               **page: Any) -> dict[str, Any]:
        require_scope(self.ctx, "read_orders", "orders")
        search = _search(self.ctx, info, query,
                         lambda q: order_filter(q, self.ctx.state, lambda: self.ctx.now))
        found = [o for o in self.ctx.state.orders.values() if self._visible(o)
                 and search.matches(o)]
        key = ORDER_SORT.get(sort_key, ORDER_SORT["ID"])
        return connection(found, lambda o: (key(o), o.number),
                          lambda o: OrderView(self.ctx, o), **page)

    def _order(self, id_value: str) -> Order | None:
        order = self.ctx.state.orders.get(parse_gid(id_value, "Order") or 0)
        return order if order is not None and self._visible(order) else None

    def order(self, info: Info, id: str) -> OrderView | None:
        require_scope(self.ctx, "read_orders", "order")
        order = self._order(id)
        return OrderView(self.ctx, order) if order is not None else None

    def node(self, info: Info, id: str) -> Any:
        state = self.ctx.state
        if (number := parse_gid(id, "GiftCard")) is not None and number in state.cards:
            return GiftCardView(self.ctx, state.cards[number])
        if parse_gid(id, "Order") is not None:
            return self.order(info, id)
        if (number := parse_gid(id, "Customer")) is not None:
            return customer_view(self.ctx, number)
        for kind in ("GiftCardCreditTransaction", "GiftCardDebitTransaction"):
            number = parse_gid(id, kind)
            txn = next((t for t in state.card_transactions if t.number == number), None)
            if txn is not None:
                return TransactionView(self.ctx, txn)
        return None

    def nodes(self, info: Info, ids: list[str]) -> list[Any]:
        return [self.node(info, each) for each in ids]

    # --- mutations: gift cards -------------------------------------------------------------

    def gift_card_create(self, info: Info, input: dict[str, Any],
                         ) -> dict[str, Any]:
        require_scope(self.ctx, "write_gift_cards", "giftCardCreate")
        card, errors = giftcards.create_card(self.ctx.state, self.ctx.rules, self.ctx.now, input)
        self.ctx.changed |= card is not None
        return {"giftCard": GiftCardView(self.ctx, card) if card else None,
                "giftCardCode": card.code if card else None, "userErrors": errors}

    def _transaction(self, kind: str, id_value: str, data: dict[str, Any]) -> dict[str, Any]:
        require_scope(self.ctx, "write_gift_card_transactions",
                      "giftCardCredit" if kind == "credit" else "giftCardDebit")
        txn, errors = giftcards.apply_transaction(self.ctx.state, self.ctx.rules, self.ctx.now,
                                                  id_value, data, kind)
        self.ctx.changed |= txn is not None
        view = TransactionView(self.ctx, txn) if txn is not None else None
        name = "giftCardCreditTransaction" if kind == "credit" else "giftCardDebitTransaction"
        return {name: view, "userErrors": errors}

    def gift_card_credit(self, info: Info, id: str,
                         credit_input: dict[str, Any]) -> dict[str, Any]:
        return self._transaction("credit", id, credit_input)

    def gift_card_debit(self, info: Info, id: str,
                        debit_input: dict[str, Any]) -> dict[str, Any]:
        return self._transaction("debit", id, debit_input)

    def gift_card_deactivate(self, info: Info, id: str,
                             ) -> dict[str, Any]:
        require_scope(self.ctx, "write_gift_cards", "giftCardDeactivate")
        card, errors = giftcards.deactivate(self.ctx.state, self.ctx.now, id)
        self.ctx.changed |= card is not None
        return {"giftCard": GiftCardView(self.ctx, card) if card else None,
                "userErrors": errors}

    def gift_card_update(self, info: Info, id: str,
                         input: dict[str, Any]) -> dict[str, Any]:
        require_scope(self.ctx, "write_gift_cards", "giftCardUpdate")
        card, errors = giftcards.update(self.ctx.state, self.ctx.now, id, input)
        self.ctx.changed |= card is not None
        return {"giftCard": GiftCardView(self.ctx, card) if card else None,
                "userErrors": errors}

    # --- mutations: tags -------------------------------------------------------------------

    def _tags(self, name: str, id_value: str, tags: list[str], add: bool) -> dict[str, Any]:
        require_scope(self.ctx, "write_orders", name)
        order = self._order(id_value)
        if order is None:
            return {"node": None, "userErrors": [{"field": ["id"], "message": "Order not found"}]}
        # each element may itself be a comma-separated list; tags compare without case
        wanted = [t.strip() for each in tags for t in each.split(",") if t.strip()]
        if add:
            known = {t.lower() for t in order.tags}
            for tag in wanted:
                if tag.lower() not in known:
                    order.tags.append(tag)
                    known.add(tag.lower())
        else:
            gone = {t.lower() for t in wanted}
            order.tags = [t for t in order.tags if t.lower() not in gone]
        order.updated_at = self.ctx.now
        self.ctx.changed = True
        return {"node": OrderView(self.ctx, order), "userErrors": []}

    def tags_add(self, info: Info, id: str, tags: list[str],
                 ) -> dict[str, Any]:
        return self._tags("tagsAdd", id, tags, add=True)

    def tags_remove(self, info: Info, id: str, tags: list[str],
                    ) -> dict[str, Any]:
        return self._tags("tagsRemove", id, tags, add=False)
