"""The Shopify adapter: :class:`clients.ports.ShopifyPort` over the Admin GraphQL API.

Built by :func:`clients.factory.build_shopify`. Queries are retried while they are Retryable;
mutations only when Shopify certainly did not run them (connect refused, THROTTLED), except
``tagsAdd`` and expiry updates, which are safe to repeat. userErrors become ``Permanent`` with
their code (``TAKEN`` -> ``CodeTaken``; ``INTERNAL_ERROR`` -> ``AmbiguousOutcome``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, TypeVar

from cards.codes import Code
from cards.money import Money
from clients import shopify_audit
from clients import shopify_parse as parse
from clients import shopify_search as search
from clients.errors import AmbiguousOutcome, CodeTaken, Permanent
from clients.records import (
    CardStatePage,
    CardTransaction,
    LineItem,
    OrderPage,
    ShopifyCard,
    ShopifyOrder,
    TransactionResult,
)
from clients.retry import RetryPolicy
from clients.shopify_auth import TokenSource
from clients.shopify_errors import SERVICE
from clients.shopify_transport import GraphQLRunner

T = TypeVar("T")
#: Orders per search page: ten orders with their line items and transactions would request
#: more than Shopify's 1,000-point limit for one query.
MAX_ORDER_PAGE = 8
MAX_TRANSACTION_PAGES = 20
MAX_CARD_PAGES = 20
#: Cards per ``nodes(ids:)`` request: 50 cards with their fields request about 250 points.
CARDS_BY_ID = 50


@dataclass(frozen=True, slots=True)
class ShopFacts:
    """What ``check`` and the start checks read of the shop."""

    name: str
    domain: str
    currency: str  # the shop's currencyCode: CURRENCY must equal it
    scopes: frozenset[str]  # the access token's


class ShopifyAdapter:
    def __init__(self, runner: GraphQLRunner, *, retry: RetryPolicy) -> None:
        self._runner = runner
        self._retry = retry

    def close(self) -> None:
        self._runner.close()

    @property
    def tokens(self) -> TokenSource:
        """Where this adapter's access tokens come from (its ``stopped()`` says when calls
        cannot go on for want of one)."""
        return self._runner.tokens

    # --- plumbing -----------------------------------------------------------------------
    def _query(
        self, operation: str, variables: dict[str, Any], *, sensitive: bool = False
    ) -> dict[str, Any]:
        return self._retry.call(
            lambda: self._runner.execute(operation, variables, mutation=False, sensitive=sensitive),
            service=SERVICE,
            operation=operation,
            idempotent=True,
        )

    def _mutate(
        self,
        operation: str,
        field: str,
        variables: dict[str, Any],
        *,
        idempotent: bool = False,
        sensitive: bool = False,
    ) -> Any:
        """The mutation's payload (``data[field]``); its userErrors raise, and are not retried."""
        data = self._retry.call(
            lambda: self._runner.execute(operation, variables, mutation=True, sensitive=sensitive),
            service=SERVICE,
            operation=operation,
            idempotent=idempotent,
            check=lambda answer: self._user_errors(field, answer.get(field), sensitive=sensitive),
        )
        return data.get(field)

    @staticmethod
    def _parsed(operation: str, build: Callable[..., T], *args: Any, mutation: bool = False) -> T:
        """Parse a response; a malformed answer to a mutation leaves its outcome unknown."""
        try:
            return build(*args)
        except (parse.ResponseShapeError, KeyError, TypeError) as exc:
            if mutation:
                raise AmbiguousOutcome(SERVICE, operation, f"unreadable answer: {exc}") from None
            raise Permanent(
                SERVICE, operation, f"unreadable answer: {exc}", code="UNEXPECTED_RESPONSE"
            ) from None

    @staticmethod
    def _user_errors(operation: str, payload: Any, *, sensitive: bool = False) -> None:
        errors = payload.get("userErrors") if isinstance(payload, dict) else None
        if not errors:
            return
        first = errors[0] if isinstance(errors[0], dict) else {}
        code = first.get("code") if isinstance(first.get("code"), str) else "USER_ERROR"
        if code == "TAKEN":
            raise CodeTaken(operation)
        if code == "INTERNAL_ERROR":
            raise AmbiguousOutcome(SERVICE, operation, "Shopify reported an internal error")
        message = "" if sensitive else str(first.get("message", ""))[:200]
        raise Permanent(SERVICE, operation, message, code=code)

    # --- cards --------------------------------------------------------------------------
    def get_card(self, card_id: str) -> ShopifyCard | None:
        data = self._query("GiftCardById", {"id": card_id})
        node = data.get("giftCard")
        return self._parsed("GiftCardById", parse.card, node) if node else None

    def get_cards(self, card_ids: Sequence[str]) -> dict[str, ShopifyCard]:
        """``nodes(ids:)`` in chunks of :data:`CARDS_BY_ID`; ids that are not cards are absent."""
        found: dict[str, ShopifyCard] = {}
        unique = list(dict.fromkeys(card_ids))
        for start in range(0, len(unique), CARDS_BY_ID):
            chunk = unique[start : start + CARDS_BY_ID]
            data = self._query("GiftCardsByIds", {"ids": chunk})
            nodes = data.get("nodes")
            if not isinstance(nodes, list):
                raise Permanent(
                    SERVICE, "GiftCardsByIds", "unreadable answer", code="UNEXPECTED_RESPONSE"
                )
            for node in nodes:
                if isinstance(node, dict) and node.get("__typename") == "GiftCard":
                    card = self._parsed("GiftCardsByIds", parse.card, node)
                    found[card.id] = card
        return found

    def shop_timezone(self) -> str:
        data = self._query("ShopTimezone", {})

        def build() -> str:
            zone = data["shop"]["ianaTimezone"]
            if not isinstance(zone, str) or not zone:
                raise parse.ResponseShapeError("shop.ianaTimezone is empty")
            return zone

        return self._parsed("ShopTimezone", build)

    def find_cards_by_code(self, code: Code) -> list[ShopifyCard]:
        """Hits of the free-text search whose last characters match the code's (a search may
        also match other fields)."""
        data = self._query("GiftCardsByCode", {"query": code.reveal()}, sensitive=True)
        cards = self._parsed("GiftCardsByCode", _all, parse.card, data.get("giftCards"))
        return [c for c in cards if c.last_characters.upper() == code.last4.upper()]

    def create_card(
        self, code: Code, initial_value: Money, note: str, expires_on: date | None
    ) -> ShopifyCard:
        card_input: dict[str, Any] = {
            "code": code.reveal(),
            "initialValue": initial_value.as_string(),
            "note": note,
            "notify": False,
        }
        if expires_on is not None:
            card_input["expiresOn"] = expires_on.isoformat()
        payload = self._mutate(
            "GiftCardCreate", "giftCardCreate", {"input": card_input}, sensitive=True
        )
        return self._parsed("GiftCardCreate", parse.card, payload["giftCard"], mutation=True)

    def _move(
        self, operation: str, field: str, card_id: str, amount: Money, note: str
    ) -> TransactionResult:
        amount_name = "debitAmount" if operation == "GiftCardDebit" else "creditAmount"
        variables = {
            "id": card_id,
            "input": {
                amount_name: {"amount": amount.as_string(), "currencyCode": amount.currency},
                "note": note,
            },
        }
        payload = self._mutate(operation, field, variables)

        def build() -> TransactionResult:
            node = payload[f"{field}Transaction"]
            balance = parse.money(node["giftCard"]["balance"])
            return TransactionResult(parse.transaction(node), balance)

        return self._parsed(operation, build, mutation=True)

    def debit(self, card_id: str, amount: Money, note: str) -> TransactionResult:
        return self._move("GiftCardDebit", "giftCardDebit", card_id, amount, note)

    def credit(self, card_id: str, amount: Money, note: str) -> TransactionResult:
        return self._move("GiftCardCredit", "giftCardCredit", card_id, amount, note)

    def _transaction_pages(self, card_id: str, page_size: int) -> Iterator[CardTransaction]:
        """Yield the card's transactions newest first, page by page (bounded)."""
        after: str | None = None
        for _ in range(MAX_TRANSACTION_PAGES):
            data = self._query(
                "GiftCardTransactions", {"id": card_id, "first": page_size, "after": after}
            )
            card = data.get("giftCard")
            if not card or not card.get("transactions"):
                return
            connection = card["transactions"]
            yield from self._parsed("GiftCardTransactions", _all, parse.transaction, connection)
            more, after = self._parsed("GiftCardTransactions", parse.page_info, connection)
            if not more or after is None:
                return

    def find_transaction_by_note(
        self, card_id: str, note: str, since: datetime | None = None
    ) -> CardTransaction | None:
        for txn in self._transaction_pages(card_id, 50):
            if since is not None and txn.processed_at < since:
                return None
            if txn.note == note:
                return txn
        return None

    def transactions(self, card_id: str, limit: int = 50) -> list[CardTransaction]:
        found: list[CardTransaction] = []
        for txn in self._transaction_pages(card_id, max(1, min(limit, 100))):
            found.append(txn)
            if len(found) >= limit:
                break
        return found

    def list_cards(
        self, *, after_number: int = 0, updated_since: datetime | None = None, limit: int = 250
    ) -> CardStatePage:
        operation = shopify_audit.OPERATION
        data = self._query(operation, shopify_audit.variables(after_number, updated_since, limit))
        return self._parsed(operation, shopify_audit.page, data)

    def set_expiry(self, card_id: str, expires_on: date | None) -> ShopifyCard:
        variables = {
            "id": card_id,
            "input": {"expiresOn": expires_on.isoformat() if expires_on else None},
        }
        payload = self._mutate("GiftCardUpdateExpiry", "giftCardUpdate", variables, idempotent=True)
        return self._parsed("GiftCardUpdateExpiry", parse.card, payload["giftCard"], mutation=True)

    # --- orders -------------------------------------------------------------------------
    def search_orders(
        self,
        *,
        created_since: datetime | None = None,
        updated_since: datetime | None = None,
        without_tag: str | None = None,
        paid_by_gift_card: bool = False,
        financial_status: str | None = None,
        after: str | None = None,
        page_size: int = 10,
    ) -> OrderPage:
        query = search.order_query(
            created_since=created_since,
            updated_since=updated_since,
            without_tag=without_tag,
            paid_by_gift_card=paid_by_gift_card,
            financial_status=financial_status,
        )
        first = max(1, min(page_size, MAX_ORDER_PAGE))
        data = self._query("OrdersSearch", {"query": query, "first": first, "after": after})
        connection = data.get("orders")
        nodes = self._parsed("OrdersSearch", parse.nodes, connection)
        more, cursor = self._parsed("OrdersSearch", parse.page_info, connection)
        orders = tuple(self._order(n) for n in nodes)
        return OrderPage(orders, cursor, more)

    def get_order(self, order_id: str) -> ShopifyOrder | None:
        node = self._query("OrderById", {"id": order_id}).get("order")
        return self._order(node) if node else None

    def _order(self, node: Any) -> ShopifyOrder:
        more, after = self._parsed("OrderById", parse.page_info, node["lineItems"])
        extra: list[LineItem] = []
        while more and after is not None:
            data = self._query("OrderLineItems", {"id": node["id"], "after": after})
            connection = (data.get("order") or {}).get("lineItems")
            extra += self._parsed("OrderLineItems", _all, parse.line_item, connection)
            more, after = self._parsed("OrderLineItems", parse.page_info, connection)
        return self._parsed("OrderById", parse.order, node, tuple(extra))

    def cards_for_order(self, order_id: str) -> list[ShopifyCard]:
        """Cards Shopify issued for the order: cards bought online since the order was created
        whose ``order`` is this one (the schema has no gift-card-by-order lookup)."""
        node = self._query("OrderCreatedAt", {"id": order_id}).get("order")
        if not node:
            return []
        created = self._parsed("OrderCreatedAt", parse.required_timestamp, node.get("createdAt"))
        query = search.cards_created_since(created)
        found: list[ShopifyCard] = []
        after: str | None = None
        for _ in range(MAX_CARD_PAGES):
            data = self._query("GiftCardsSince", {"query": query, "after": after})
            connection = data.get("giftCards")
            cards = self._parsed("GiftCardsSince", _all, parse.card, connection)
            found += [c for c in cards if c.order_id == order_id]
            more, after = self._parsed("GiftCardsSince", parse.page_info, connection)
            if not more or after is None:
                break
        return found

    def add_tags(self, order_id: str, tags: Sequence[str]) -> None:
        variables = {"id": order_id, "tags": list(tags)}
        self._mutate("TagsAdd", "tagsAdd", variables, idempotent=True)

    def shop_facts(self) -> ShopFacts:
        """The shop's name, domain and currency, and the token's scopes, in one query."""
        data = self._query("ShopCheck", {})

        def build() -> ShopFacts:
            shop = data["shop"]
            scopes = data["currentAppInstallation"]["accessScopes"]
            return ShopFacts(
                name=str(shop["name"]),
                domain=str(shop["myshopifyDomain"]),
                currency=str(shop["currencyCode"]),
                scopes=frozenset(s["handle"] for s in scopes if isinstance(s, dict)),
            )

        return self._parsed("ShopCheck", build)

    def deactivate_card(self, card_id: str) -> ShopifyCard:
        """giftCardDeactivate: for good (Shopify cannot re-enable a card). Safe to repeat."""
        payload = self._mutate(
            "GiftCardDeactivate", "giftCardDeactivate", {"id": card_id}, idempotent=True
        )
        return self._parsed("GiftCardDeactivate", parse.card, payload["giftCard"], mutation=True)

    def access_scopes(self) -> set[str]:
        data = self._query("AccessScopes", {})

        def build() -> set[str]:
            scopes = data["currentAppInstallation"]["accessScopes"]
            return {s["handle"] for s in scopes if isinstance(s, dict)}

        return self._parsed("AccessScopes", build)


def _all(build: Callable[[Any], T], connection: Any) -> list[T]:
    return [build(node) for node in parse.nodes(connection)]
