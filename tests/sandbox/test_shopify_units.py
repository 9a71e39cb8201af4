"""Unit tests of the Shopify sandbox's parts: search syntax, cost, bucket, cursors, formats."""

from __future__ import annotations

from decimal import Decimal

import pytest
from graphql import GraphQLError, OperationDefinitionNode, parse

from sandbox.shopify import admin_schema
from sandbox.shopify.cost import LeakyBucket, actual_cost, requested_cost
from sandbox.shopify.pagination import connection
from sandbox.shopify.schema import format_decimal
from sandbox.shopify.search import And, Filter, Not, Or, SearchSyntaxError, Term, parse_query


def test_or_binds_looser_than_implicit_and() -> None:
    assert parse_query("a OR b c") == Or(
        (Term(None, ":", "a"), And((Term(None, ":", "b"), Term(None, ":", "c"))))
    )


def test_negations_comparators_and_quotes() -> None:
    tree = parse_query(
        "-tag:done NOT status:open created_at:>='2025-01-01T00:00:00Z' tag_not:\"two words\""
    )
    assert tree == And(
        (
            Not(Term("tag", ":", "done")),
            Not(Term("status", ":", "open")),
            Term("created_at", ">=", "2025-01-01T00:00:00Z"),
            Not(Term("tag", ":", "two words")),
        )
    )
    assert parse_query("- x") == And((Term(None, ":", "-"), Term(None, ":", "x")))
    assert parse_query("") is None


@pytest.mark.parametrize("text", ["(a OR b", "a)", "tag:'open", "NOT"])
def test_syntax_errors(text: str) -> None:
    with pytest.raises(SearchSyntaxError):
        parse_query(text)


def test_filter_ignores_unknown_fields_with_a_warning() -> None:
    search: Filter[int] = Filter(
        parse_query("even:yes nope:1 OR 7"),
        {"even": lambda n, _c, v: (n % 2 == 0) == (v == "yes")},
        lambda n, text: str(n) == text,
    )
    assert [n for n in range(9) if search.matches(n)] == [0, 2, 4, 6, 7, 8]
    assert search.warnings == [{"field": "nope", "message": "Invalid search field for this query."}]


def _cost(document: str, variables: dict[str, object] | None = None) -> int:
    parsed = parse(document)
    operation = parsed.definitions[0]
    assert isinstance(operation, OperationDefinitionNode)
    return requested_cost(admin_schema(), parsed, operation, variables)


def test_requested_cost_rules() -> None:
    assert _cost("{ shop { name } }") == 1
    # connection: 2 + 10 x (node 1 + balance 1); pageInfo free
    assert (
        _cost(
            "{ giftCards(first: 10) { nodes { id balance { amount } } pageInfo { hasNextPage } } }"
        )
        == 22
    )
    # nested connections multiply, sizes may come from variables or their defaults
    nested = (
        "query($n: Int = 5) { orders(first: $n) { edges { node { "
        "lineItems(first: 4) { nodes { id } } } } } }"
    )
    assert _cost(nested) == 2 + 5 * (1 + 2 + 4 * 1)
    assert _cost(nested, {"n": 2}) == 2 + 2 * (1 + 2 + 4 * 1)
    # type-conditioned fragments: the most expensive one counts
    fragments = (
        '{ giftCard(id: "x") { transactions(first: 3) { nodes { id '
        "... on GiftCardDebitTransaction { amount { amount } giftCard { id } } "
        "... on GiftCardCreditTransaction { amount { amount } } } } } }"
    )
    assert _cost(fragments) == 1 + 2 + 3 * (1 + 2)
    assert (
        _cost(
            'mutation { a: tagsAdd(id: "x", tags: []) { node { id } } '
            'b: tagsRemove(id: "x", tags: []) { node { id } } }'
        )
        == 20
    )


def test_actual_cost_counts_what_came_back() -> None:
    parsed = parse("{ giftCards(first: 10) { edges { node { id balance { amount } } } } }")
    operation = parsed.definitions[0]
    assert isinstance(operation, OperationDefinitionNode)
    data = {"giftCards": {"edges": [{"node": {"id": "1", "balance": {"amount": "1"}}}] * 3}}
    assert actual_cost(admin_schema(), parsed, operation, data) == 2 + 3 * 2


def test_bucket_refills_at_the_restore_rate() -> None:
    now = [0.0]
    bucket = LeakyBucket(maximum=100, restore_rate=10, clock=lambda: now[0])
    assert bucket.try_take(80) and not bucket.try_take(30)
    now[0] = 1.0  # +10 points
    assert bucket.status()["currentlyAvailable"] == 30
    assert bucket.try_take(30)
    bucket.refund(500)
    assert bucket.status()["currentlyAvailable"] == 100  # never above the maximum


def test_pagination_both_ways_and_bad_cursors() -> None:
    items = list(range(1, 8))
    page = connection(items, lambda i: (i,), str, first=3, reverse=True)
    assert page["nodes"] == ["7", "6", "5"]
    back = connection(
        items, lambda i: (i,), str, last=2, before=page["edges"][2]["cursor"], reverse=True
    )
    assert back["nodes"] == ["7", "6"] and back["pageInfo"]["hasPreviousPage"] is False
    with pytest.raises(GraphQLError):
        connection(items, lambda i: (i,), str, first=3, after="not-a-cursor!")
    with pytest.raises(GraphQLError):
        connection(items, lambda i: (i,), str)  # neither first nor last


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("50.00", "50.0"),
        ("12.50", "12.5"),
        ("12.34", "12.34"),
        ("-5", "-5.0"),
        ("0", "0.0"),
        ("1000", "1000.0"),
    ],
)
def test_amounts_are_formatted_as_shopify_does(value: str, text: str) -> None:
    assert format_decimal(Decimal(value)) == text
