"""Store authority (DESIGN.md, Money and authority): the staff form is the authority for a
store's debit or sale, so the store it names must be real.

A store redemption, and a creation request of Channel Store (or a blank Channel with a store
linked, which counts as Store), must link exactly one Stores row, and that row must be Active.
Any other channel (Phone, Email, Portal, Bulk) needs no store; when it links one anyway, the
same rule holds for what it links (exactly one, Active), because the card then carries that
store and the books credit the sale to it. Otherwise the request is Not Allowed and nothing is
debited or issued.

Pure: the prong reads the Stores table and asks here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol


class LinkedStore(Protocol):
    """What the rule needs of a Stores row."""

    @property
    def name(self) -> str: ...

    @property
    def active(self) -> bool: ...


def store_refusal(
    linked: Sequence[str], stores: Mapping[str, LinkedStore], *, required: bool
) -> str | None:
    """Why these linked store ids do not authorise the request (a Result Message naming the
    fix), or None when they do. ``stores``: every Stores row by record id."""
    if not linked:
        if required:
            return "No store is linked. Link the Stores row of the store making this request."
        return None
    if len(linked) > 1:
        return f"{len(linked)} stores are linked. Link exactly one store."
    store = stores.get(linked[0])
    if store is None:
        return f"The linked store {linked[0]} is not in Stores. Link a store from Stores."
    if not store.active:
        name = store.name or linked[0]
        return (
            f"The store {name} is not Active. An operator must tick Active on its Stores row "
            "before it can redeem or sell cards."
        )
    return None
