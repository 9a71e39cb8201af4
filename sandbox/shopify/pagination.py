"""Cursor pagination for connections, as Shopify serves it.

A cursor is the base64 of the item's sort key (a JSON list ending with the item's id), so it stays
valid while items are added or leave a filtered result. ``first``/``last`` are required (Shopify:
"you must provide one of first or last") and capped at 250.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from graphql import GraphQLError

T = TypeVar("T")

MAX_PAGE = 250


def encode_cursor(key: Sequence[Any]) -> str:
    return base64.b64encode(json.dumps(list(key)).encode()).decode()


def decode_cursor(cursor: str) -> tuple[Any, ...]:
    try:
        value = json.loads(base64.b64decode(cursor.encode(), validate=True))
    except (binascii.Error, ValueError) as exc:
        raise GraphQLError(f"Invalid cursor for current pagination sort: {cursor}") from exc
    if not isinstance(value, list):
        raise GraphQLError(f"Invalid cursor for current pagination sort: {cursor}")
    return tuple(value)


def _check_size(first: int | None, last: int | None) -> None:
    if first is None and last is None:
        raise GraphQLError("you must provide one of first or last")
    if first is not None and last is not None:
        raise GraphQLError("providing both first and last is not supported")
    size = first if first is not None else last
    if size is not None and (size < 0 or size > MAX_PAGE):
        raise GraphQLError(f"The page size must be between 0 and {MAX_PAGE}, got {size}")


def _bounds(keys: list[tuple[Any, ...]], after: str | None, before: str | None,
            reverse: bool) -> tuple[int, int]:
    start, stop = 0, len(keys)
    if after is not None:
        mark = decode_cursor(after)
        start = next((i for i, k in enumerate(keys) if (k < mark if reverse else k > mark)),
                     len(keys))
    if before is not None:
        mark = decode_cursor(before)
        stop = next((i for i, k in enumerate(keys) if (k <= mark if reverse else k >= mark)),
                    len(keys))
        stop = max(stop, start)
    return start, stop


def connection(items: Sequence[T], sort_key: Callable[[T], tuple[Any, ...]],
               wrap: Callable[[T], Any], *, first: int | None = None, after: str | None = None,
               last: int | None = None, before: str | None = None,
               reverse: bool = False) -> dict[str, Any]:
    """A connection dict (``edges``, ``nodes``, ``pageInfo``) over ``items``.

    ``sort_key`` must return a JSON-friendly tuple unique per item (end it with the id).
    """
    _check_size(first, last)
    ordered = sorted(items, key=sort_key, reverse=reverse)
    keys = [sort_key(item) for item in ordered]
    try:
        start, stop = _bounds(keys, after, before, reverse)
    except TypeError as exc:  # a cursor from another sort key
        raise GraphQLError("Invalid cursor for current pagination sort") from exc
    if first is not None:
        stop = min(stop, start + first)
    elif last is not None:
        start = max(start, stop - last)
    page = [(wrap(item), encode_cursor(key)) for item, key in
            zip(ordered[start:stop], keys[start:stop], strict=True)]
    return {
        "edges": [{"cursor": cursor, "node": node} for node, cursor in page],
        "nodes": [node for node, _ in page],
        "pageInfo": {
            "hasNextPage": stop < len(ordered),
            "hasPreviousPage": start > 0,
            "startCursor": page[0][1] if page else None,
            "endCursor": page[-1][1] if page else None,
        },
    }


def empty_connection() -> dict[str, Any]:
    return {"edges": [], "nodes": [],
            "pageInfo": {"hasNextPage": False, "hasPreviousPage": False,
                         "startCursor": None, "endCursor": None}}
