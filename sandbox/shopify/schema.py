"""The pinned Shopify Admin schema, loaded once per process, and the wire formats of its scalars.

``build_schema`` over the 3 MB SDL takes about two seconds, so :func:`admin_schema` caches it.
The SDL declares ``Decimal``, ``Date`` and ``DateTime`` as bare custom scalars, which graphql-core
would accept with any value; the loader gives them strict input parsers so a bad variable is
rejected during coercion, as Shopify does. Output values are formatted by the views (see
:func:`format_decimal`, :func:`format_datetime`), so no output coercion is patched.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from functools import cache
from pathlib import Path
from typing import Any

from graphql import GraphQLScalarType, GraphQLSchema, build_schema

SCHEMA_PATH = Path(__file__).resolve().parent.parent / "data" / "shopify-admin.schema.graphql"


@cache
def admin_schema() -> GraphQLSchema:
    """The Admin schema with strict input scalars (built on first use, then cached)."""
    # assume_valid: graphql-core 3.3 rejects Shopify's own SDL (deprecated implementations of
    # non-deprecated interface fields); documents are still validated against it.
    schema = build_schema(SCHEMA_PATH.read_text(encoding="utf-8"), assume_valid=True)
    _install_parser(schema, "Decimal", parse_decimal)
    _install_parser(schema, "Money", parse_decimal)
    _install_parser(schema, "Date", parse_date)
    _install_parser(schema, "DateTime", parse_datetime)
    return schema


def _install_parser(schema: GraphQLSchema, name: str, parser: Any) -> None:
    scalar = schema.type_map.get(name)
    if not isinstance(scalar, GraphQLScalarType):
        return
    # graphql-core 3.2 calls parse_value; 3.3 calls coerce_input_value. Literals go through the
    # same function in both (their default literal parsers delegate to it).
    for attribute in ("parse_value", "coerce_input_value"):
        if hasattr(scalar, attribute):
            setattr(scalar, attribute, parser)


def parse_decimal(value: Any) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise TypeError(f"invalid decimal {value!r}")
    try:
        parsed = Decimal(str(value).strip())
    except InvalidOperation as exc:
        raise ValueError(f"invalid decimal {value!r}") from exc
    if not parsed.is_finite():
        raise ValueError(f"invalid decimal {value!r}")
    return parsed


def parse_date(value: Any) -> date:
    if not isinstance(value, str) or len(value) != 10:
        raise ValueError(f"invalid date {value!r}, expected YYYY-MM-DD")
    return date.fromisoformat(value)


def parse_datetime(value: Any) -> datetime:
    if not isinstance(value, str):
        raise TypeError(f"invalid date-time {value!r}")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        # a bare date is accepted by Shopify as midnight UTC
        parsed = datetime.combine(parse_date(value), datetime.min.time())
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def format_decimal(value: Decimal) -> str:
    """Shopify's style: no padding to the currency's decimals, at least one decimal ("50.0")."""
    normalized = value.normalize()
    if normalized == normalized.to_integral_value():
        return f"{normalized.quantize(Decimal(1)):f}.0"
    return f"{normalized:f}"


def format_datetime(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
