"""Action keys: the deterministic names that make every action happen exactly once.

Built and parsed only here. A key goes into the Shopify note (``giftbridge <key>``), the Klaviyo
``unique_id`` (``<key>:<audience>``) and the receipt Reference (``<key>:<receipt action>``, plus
``:<audience>`` for Sent and Email Failed).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from cards.vocab import Audience, ReceiptAction

NOTE_PREFIX = "giftbridge "
_RECORD_ID = re.compile(r"rec[A-Za-z0-9]{14}")
_NUMBER = re.compile(r"[1-9][0-9]*")


class KeyKind(StrEnum):
    REDEEM = "redeem"
    CREATE = "create"
    BALANCE = "balance"
    ACTION = "action"
    ORDER = "order"
    NATIVE = "native"
    SHOPIFY_TXN = "shopify-txn"


_REQUEST_KINDS = {KeyKind.REDEEM, KeyKind.CREATE, KeyKind.BALANCE, KeyKind.ACTION}


class KeyError_(ValueError):
    """A string that is not a well-formed action key."""


def gid_number(gid: str) -> str:
    """The trailing number of a Shopify GID: ``gid://shopify/Order/42`` -> ``"42"``."""
    match = re.fullmatch(r"gid://shopify/[A-Za-z]+/([1-9][0-9]*)(\?.*)?", gid)
    if not match:
        raise KeyError_(f"not a Shopify GID: {gid!r}")
    return match.group(1)


@dataclass(frozen=True, slots=True)
class ActionKey:
    kind: KeyKind
    parts: tuple[str, ...]

    def __str__(self) -> str:
        return ":".join((self.kind.value, *self.parts))

    @classmethod
    def for_request(cls, kind: KeyKind, record_id: str) -> ActionKey:
        if kind not in _REQUEST_KINDS:
            raise KeyError_(f"{kind.value} keys are not request keys")
        if not _RECORD_ID.fullmatch(record_id):
            raise KeyError_(f"not an Airtable record id: {record_id!r}")
        return cls(kind, (record_id,))

    @classmethod
    def redeem(cls, record_id: str) -> ActionKey:
        return cls.for_request(KeyKind.REDEEM, record_id)

    @classmethod
    def create(cls, record_id: str) -> ActionKey:
        return cls.for_request(KeyKind.CREATE, record_id)

    @classmethod
    def balance(cls, record_id: str) -> ActionKey:
        return cls.for_request(KeyKind.BALANCE, record_id)

    @classmethod
    def action(cls, record_id: str) -> ActionKey:
        return cls.for_request(KeyKind.ACTION, record_id)

    @classmethod
    def order_unit(cls, order_gid: str, line_item_gid: str, unit: int) -> ActionKey:
        if unit < 1:
            raise KeyError_("units count from 1")
        return cls(KeyKind.ORDER, (gid_number(order_gid), gid_number(line_item_gid), str(unit)))

    @classmethod
    def native(cls, gift_card_gid: str) -> ActionKey:
        return cls(KeyKind.NATIVE, (gid_number(gift_card_gid),))

    @classmethod
    def shopify_txn(cls, transaction_gid: str) -> ActionKey:
        return cls(KeyKind.SHOPIFY_TXN, (gid_number(transaction_gid),))

    @classmethod
    def parse(cls, text: str) -> ActionKey:
        head, _, rest = text.partition(":")
        try:
            kind = KeyKind(head)
        except ValueError as exc:
            raise KeyError_(f"unknown action key kind in {text!r}") from exc
        parts = tuple(rest.split(":")) if rest else ()
        expected = 3 if kind == KeyKind.ORDER else 1
        if len(parts) != expected:
            raise KeyError_(f"{kind.value} keys have {expected} part(s): {text!r}")
        pattern = _RECORD_ID if kind in _REQUEST_KINDS else _NUMBER
        if not all(pattern.fullmatch(p) for p in parts):
            raise KeyError_(f"malformed action key {text!r}")
        return cls(kind, parts)

    @property
    def note(self) -> str:
        """What giftbridge stamps into a Shopify card, debit or credit note."""
        return NOTE_PREFIX + str(self)

    def unique_id(self, audience: Audience) -> str:
        """The Klaviyo ``unique_id`` of this action's email to ``audience``."""
        return f"{self}:{audience.value}"

    def reference(self, action: ReceiptAction, audience: Audience | None = None) -> str:
        """The receipt Reference; Sent and Email Failed receipts name the audience."""
        needs_audience = action in (ReceiptAction.SENT, ReceiptAction.EMAIL_FAILED)
        if needs_audience != (audience is not None):
            raise KeyError_(
                f"{action.value} receipts {'need' if needs_audience else 'take no'} audience"
            )
        tail = f":{audience.value}" if audience is not None else ""
        return f"{self}:{action.slug}{tail}"

    @property
    def record_id(self) -> str | None:
        return self.parts[0] if self.kind in _REQUEST_KINDS else None


def key_from_note(note: str | None) -> ActionKey | None:
    """The action key in a Shopify note written by giftbridge, or None for any other note."""
    if not note or not note.startswith(NOTE_PREFIX):
        return None
    try:
        return ActionKey.parse(note[len(NOTE_PREFIX) :].strip())
    except KeyError_:
        return None
