"""Drive the Shopify sandbox the way giftbridge does: gql 4 over its aiohttp transport."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from gql import Client, GraphQLRequest
from gql.transport.aiohttp import AIOHTTPTransport
from graphql import ExecutionResult

from sandbox.server import ServiceThread
from sandbox.shopify import ShopifySandbox, make_shopify_app

TOKEN = "shpat_sandbox_test_token"
API_PATH = "/admin/api/2025-10/graphql.json"


class Clock:
    """A settable clock for the sandbox (expiry, 60-day window)."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 3, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


class ShopifyService:
    """A sandbox shop on loopback and a gql client for it (one session per call)."""

    def __init__(self, shop: ShopifySandbox) -> None:
        self.shop = shop
        self.thread = ServiceThread(lambda: make_shopify_app(shop))

    def __enter__(self) -> ShopifyService:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.thread.stop()

    @property
    def base_url(self) -> str:
        return self.thread.url

    @property
    def url(self) -> str:
        return self.thread.url + API_PATH

    def execute(
        self,
        document: str,
        variables: dict[str, Any] | None = None,
        *,
        token: str | None = TOKEN,
        timeout: float = 5.0,
    ) -> ExecutionResult:
        """Run one operation; gql raises TransportQueryError when the answer has errors."""
        return asyncio.run(self._execute(document, variables, token, timeout))

    def data(self, document: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        result = self.execute(document, variables)
        assert result.data is not None
        return result.data

    async def _execute(
        self, document: str, variables: dict[str, Any] | None, token: str | None, timeout: float
    ) -> ExecutionResult:
        headers = {"X-Shopify-Access-Token": token} if token is not None else {}
        transport = AIOHTTPTransport(url=self.url, headers=headers)
        async with Client(transport=transport, execute_timeout=timeout) as session:
            result = await session.execute(
                GraphQLRequest(document, variable_values=variables), get_execution_result=True
            )
        assert isinstance(result, ExecutionResult)
        return result


def card_gid(number: int) -> str:
    return f"gid://shopify/GiftCard/{number}"


def money(amount: str, currency: str = "USD") -> dict[str, str]:
    return {"amount": amount, "currencyCode": currency}


CREATE = """
mutation CreateCard($input: GiftCardCreateInput!) {
  giftCardCreate(input: $input) {
    giftCard { id lastCharacters maskedCode expiresOn note notify enabled
               balance { amount currencyCode } initialValue { amount currencyCode } }
    giftCardCode
    userErrors { code field message }
  }
}"""

DEBIT = """
mutation DebitCard($id: ID!, $input: GiftCardDebitInput!) {
  giftCardDebit(id: $id, debitInput: $input) {
    giftCardDebitTransaction {
      id note processedAt amount { amount currencyCode }
      giftCard { id balance { amount currencyCode } }
    }
    userErrors { code field message }
  }
}"""

CREDIT = """
mutation CreditCard($id: ID!, $input: GiftCardCreditInput!) {
  giftCardCredit(id: $id, creditInput: $input) {
    giftCardCreditTransaction {
      id note processedAt amount { amount currencyCode }
      giftCard { id balance { amount currencyCode } }
    }
    userErrors { code field message }
  }
}"""

DEACTIVATE = """
mutation DeactivateCard($id: ID!) {
  giftCardDeactivate(id: $id) {
    giftCard { id enabled deactivatedAt }
    userErrors { code field message }
  }
}"""

UPDATE = """
mutation UpdateCard($id: ID!, $input: GiftCardUpdateInput!) {
  giftCardUpdate(id: $id, input: $input) {
    giftCard { id expiresOn note }
    userErrors { field message }
  }
}"""

CARD_BY_ID = """
query CardById($id: ID!, $first: Int!, $after: String, $reverse: Boolean) {
  giftCard(id: $id) {
    id enabled deactivatedAt expiresOn lastCharacters maskedCode note notify
    balance { amount currencyCode }
    order { id name }
    transactions(first: $first, after: $after, reverse: $reverse) {
      nodes { __typename id note processedAt amount { amount currencyCode } }
      pageInfo { hasNextPage endCursor }
    }
  }
}"""

CARD_SEARCH = """
query CardSearch($q: String!, $first: Int = 10) {
  giftCards(first: $first, query: $q) {
    nodes { id lastCharacters enabled expiresOn note balance { amount currencyCode }
            order { id } }
  }
  giftCardsCount(query: $q) { count precision }
}"""

ORDERS_PAGE = """
query OrdersPage($q: String!, $after: String) {
  orders(first: 10, after: $after, query: $q, sortKey: CREATED_AT) {
    pageInfo { hasNextPage endCursor }
    nodes {
      id name tags test displayFinancialStatus paymentGatewayNames email updatedAt
      customer { id email firstName lastName displayName defaultEmailAddress { emailAddress } }
      currencyCode presentmentCurrencyCode
      lineItems(first: 10) {
        nodes { id sku isGiftCard quantity name customAttributes { key value }
                originalUnitPriceSet { shopMoney { amount currencyCode } } }
        pageInfo { hasNextPage endCursor }
      }
      transactions(first: 10) {
        id gateway kind status processedAt receiptJson
        amountSet { shopMoney { amount currencyCode } }
      }
      fulfillments { id status }
    }
  }
}"""

ORDER_TAGS = """
query OrderTags($id: ID!) { order(id: $id) { id tags updatedAt } }"""

TAG_ORDER = """
mutation TagOrder($id: ID!, $tags: [String!]!) {
  tagsAdd(id: $id, tags: $tags) { node { id ... on Order { tags } } userErrors { field message } }
}"""

UNTAG_ORDER = """
mutation UntagOrder($id: ID!, $tags: [String!]!) {
  tagsRemove(id: $id, tags: $tags) { node { id } userErrors { field message } }
}"""
