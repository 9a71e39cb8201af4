"""``daemon/check.py``'s judgements over small fakes: each refusal becomes the one line that names
what to fix (the HTTP paths are in ``test_check_command.py``)."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from clients.errors import ClientError, Permanent, Retryable
from clients.shopify import ShopFacts
from clients.shopify_auth import TokenRejected, TokenUnavailable
from clients.shopify_grant import CredentialsRejected
from daemon import check
from daemon.preflight import SHOPIFY_SCOPES

BASE = "appABCDEFGHIJKLMN"
URL = "https://api.airtable.com"
GRAPHQL = "https://my-shop.myshopify.com/admin/api/2025-10/graphql.json"


def refused(status: int, code: str = "X") -> Permanent:
    return Permanent("airtable", "schema", "refused", code=code, status=status)


@dataclass
class Admin:
    schema: ClientError | None = None  # what reading the schema raises
    records: ClientError | None = None  # what reading a record raises
    layout: list[str] = field(default_factory=list)

    def check(self) -> list[str]:
        if self.schema is not None:
            raise self.schema
        return list(self.layout)

    def read_one_record(self, table: str) -> None:
        if self.records is not None:
            raise self.records


@pytest.mark.parametrize(
    ("admin", "expected"),
    [
        (
            Admin(schema=refused(401)),
            "the token was rejected (HTTP 401): check GIFTBRIDGE_AIRTABLE",
        ),
        (Admin(schema=refused(403), records=refused(403)), f"base {BASE} was not found"),
        (Admin(schema=refused(404), records=refused(404)), "check GIFTBRIDGE_AIRTABLE_BASE_ID"),
        (Admin(schema=refused(403)), "lacks the scope schema.bases:read"),
        (Admin(records=refused(403)), "lacks the scope data.records:read"),
        (Admin(schema=Retryable("airtable", "schema", "could not connect")), "cannot reach"),
        (Admin(layout=["Gift Cards: missing field 'Balance'"]), "airtable base: Gift Cards"),
    ],
)
def test_airtable_refusals_name_the_token_the_scope_or_the_base(
    admin: Admin, expected: str
) -> None:
    found = check.check_airtable(admin, BASE, URL)
    assert len(found.problems) == 1 and expected in found.problems[0]


@dataclass
class Shop:
    error: ClientError | None = None
    currency: str = "USD"
    scopes: frozenset[str] = frozenset(SHOPIFY_SCOPES)

    def shop_facts(self) -> ShopFacts:
        if self.error is not None:
            raise self.error
        return ShopFacts("Shop", "my-shop.myshopify.com", self.currency, self.scopes)


def _unavailable(cause: ClientError) -> TokenUnavailable:
    return TokenUnavailable("no Shopify access token", retry_after=60, cause=cause)


@pytest.mark.parametrize(
    ("shop", "expected"),
    [
        (
            Shop(_unavailable(CredentialsRejected("HTTP 401 invalid_client", status=401))),
            "the client id or secret was rejected (HTTP 401 invalid_client)",
        ),
        (
            Shop(_unavailable(Retryable("shopify", "access_token", "could not connect"))),
            "no access token from https://my-shop.myshopify.com/admin/oauth/access_token",
        ),
        (Shop(TokenRejected("ShopCheck", "HTTP 401: Shopify rejected it; check X")), "HTTP 401"),
        (Shop(Retryable("shopify", "ShopCheck", "could not connect")), "cannot reach"),
        (Shop(currency="EUR"), "GIFTBRIDGE_CURRENCY is USD but the shop's currency is EUR"),
        (Shop(scopes=frozenset(SHOPIFY_SCOPES) - {"write_orders"}), "lacks the scope write_orders"),
    ],
)
def test_shopify_refusals_name_the_credential_the_currency_or_the_scope(
    shop: Shop, expected: str
) -> None:
    found = check.check_shopify(shop, "USD", GRAPHQL, client_credentials=True)
    assert len(found.problems) == 1 and expected in found.problems[0]
    assert "UNAUTHORIZED:" not in found.problems[0]  # giftbridge's words, not a code dump


def test_a_write_scope_covers_its_read_scope() -> None:
    scopes = {s.replace("read_", "write_") for s in SHOPIFY_SCOPES}
    assert check.scope_problems(scopes) == []


@dataclass
class Email:
    status: int | None

    def check_key(self) -> None:
        if self.status is not None:
            raise Permanent("klaviyo", "get_events", "refused", status=self.status)


@pytest.mark.parametrize(
    ("status", "expected"),
    [(401, "the API key was rejected"), (403, "Events: Full access"), (None, None)],
)
def test_klaviyo_key_rejected_or_lacking_events(status: int | None, expected: str | None) -> None:
    found = check.check_klaviyo(Email(status), "https://a.klaviyo.com")
    if expected is None:
        assert found.problems == [] and found.proven
    else:
        (problem,) = found.problems
        assert expected in problem and "GIFTBRIDGE_KLAVIYO_API_KEY" in problem
