"""One GraphQL request against the Admin schema: parse, validate, cost, execute, answer.

Parsed and validated documents are cached by their text (giftbridge sends a handful of fixed
documents). Every answer carries ``extensions.cost``; a request refused by the bucket or over the
single-query limit is answered with Shopify's THROTTLED / MAX_COST_EXCEEDED error and not run.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    GraphQLError,
    GraphQLFormattedError,
    OperationDefinitionNode,
    execute_sync,
    get_operation_ast,
    parse,
    validate,
)

from sandbox.shopify.cost import LeakyBucket, actual_cost, requested_cost
from sandbox.shopify.resolvers import Root, resolve_field, resolve_type
from sandbox.shopify.schema import admin_schema
from sandbox.shopify.view_context import Context

RATE_LIMIT_DOCS = "https://shopify.dev/api/usage/rate-limits"


@dataclass(frozen=True)
class Prepared:
    document: DocumentNode | None
    operation: OperationDefinitionNode | None
    root_field: str | None  # the operation's first root field: names its fault rules
    errors: tuple[GraphQLFormattedError, ...]


def _first_field(operation: OperationDefinitionNode) -> str | None:
    for selection in operation.selection_set.selections:
        if isinstance(selection, FieldNode) and not selection.name.value.startswith("__"):
            return selection.name.value
    return None


@lru_cache(maxsize=512)
def prepare(query: str, operation_name: str | None) -> Prepared:
    try:
        document = parse(query)
    except GraphQLError as exc:
        return Prepared(None, None, None, (exc.formatted,))
    errors = validate(admin_schema(), document)
    if errors:
        return Prepared(document, None, None, tuple(e.formatted for e in errors))
    operation = get_operation_ast(document, operation_name)
    root_field = _first_field(operation) if operation is not None else None
    return Prepared(document, operation, root_field, ())


def cost_extension(bucket: LeakyBucket, requested: int, actual: int | None) -> dict[str, Any]:
    return {"cost": {"requestedQueryCost": requested, "actualQueryCost": actual,
                     "throttleStatus": bucket.status()}}


def throttled_body(bucket: LeakyBucket, requested: int) -> dict[str, Any]:
    return {"errors": [{"message": "Throttled",
                        "extensions": {"code": "THROTTLED", "documentation": RATE_LIMIT_DOCS}}],
            "extensions": cost_extension(bucket, requested, None)}


def max_cost_body(bucket: LeakyBucket, requested: int, limit: int) -> dict[str, Any]:
    message = (f"Query cost is {requested}, which exceeds the single query max cost limit "
               f"({limit}).\n\nSee {RATE_LIMIT_DOCS} for more information on how the cost of a "
               "query is calculated.")
    return {"errors": [{"message": message,
                        "extensions": {"code": "MAX_COST_EXCEEDED", "cost": requested,
                                       "maxCost": limit, "documentation": RATE_LIMIT_DOCS}}],
            "extensions": cost_extension(bucket, requested, None)}


def requested(prepared: Prepared, variables: Mapping[str, Any] | None) -> int:
    if prepared.document is None or prepared.operation is None:
        return 0
    return requested_cost(admin_schema(), prepared.document, prepared.operation, variables)


def execute(prepared: Prepared, variables: Mapping[str, Any] | None,
            operation_name: str | None, ctx: Context) -> tuple[dict[str, Any], int]:
    """Run a prepared, admitted request; returns the response body (without cost) and the
    actual cost."""
    if prepared.document is None or prepared.errors:
        return {"errors": list(prepared.errors)}, 0
    result = execute_sync(admin_schema(), prepared.document, root_value=Root(ctx),
                          context_value=ctx, variable_values=dict(variables or {}),
                          operation_name=operation_name, field_resolver=resolve_field,
                          type_resolver=resolve_type)
    body: dict[str, Any] = {}
    if result.data is not None or not result.errors:
        body["data"] = result.data
    if result.errors:
        body["errors"] = [error.formatted for error in result.errors]
    actual = 0
    if prepared.operation is not None:
        actual = actual_cost(admin_schema(), prepared.document, prepared.operation, result.data)
    return body, actual
