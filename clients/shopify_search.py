"""Shopify search syntax (https://shopify.dev/api/usage/search-syntax), built with quoting.

Values are single-quoted with ``\\`` and ``'`` escaped, so a tag such as ``gb done`` or
``it's`` stays one value; terms are joined by the implied AND.
"""

from __future__ import annotations

from datetime import UTC, datetime


def quote(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def iso(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("search times must be timezone-aware")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def order_query(
    *,
    created_since: datetime | None = None,
    updated_since: datetime | None = None,
    without_tag: str | None = None,
    paid_by_gift_card: bool = False,
    financial_status: str | None = None,
) -> str:
    terms: list[str] = []
    if created_since is not None:
        terms.append(f"created_at:>={quote(iso(created_since))}")
    if updated_since is not None:
        terms.append(f"updated_at:>={quote(iso(updated_since))}")
    if without_tag:
        terms.append(f"tag_not:{quote(without_tag)}")
    if paid_by_gift_card:
        terms.append("gateway:gift_card")
    if financial_status:
        terms.append(f"financial_status:{quote(financial_status.lower())}")
    return " ".join(terms)


def cards_created_since(since: datetime) -> str:
    """Cards bought in orders (``source:purchased``) created at or after ``since``."""
    return f"source:purchased created_at:>={quote(iso(since))}"
