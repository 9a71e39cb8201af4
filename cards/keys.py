"""Action keys: the deterministic names that make every action happen exactly once.

Built and parsed only here. A key goes into the Shopify note (``giftbridge <key>``), the Klaviyo
``unique_id`` (``<key>:<audience>``) and the receipt Reference (``<key>:<receipt action>``, plus
``:<audience>`` for Sent and Email Failed).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from cards.errors import DomainError
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
    EXPIRE = "expire"  # expire:<card record id>:<expires on>
    REMIND = "remind"  # remind:<card record id>:<expires on>:<days>
    DRIFT = "drift"  # drift:<card record id>:<field>:<Shopify updatedAt>
    CARD_TXN = "card-txn"  # card-txn:<gift card transaction number id>
    ALERT = "alert"  # alert:<cause>:<subject>


_REQUEST_KINDS = {KeyKind.REDEEM, KeyKind.CREATE, KeyKind.BALANCE, KeyKind.ACTION}
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_SLUG = re.compile(r"[a-z0-9][a-z0-9-]*")
_SUBJECT = re.compile(r"[^\s]+")
# Part patterns of the keys that are not one request id or one Shopify number (parse splits the
# last part no further: a drift's updatedAt and an alert's subject may hold colons).
_SHAPES: dict[KeyKind, tuple[re.Pattern[str], ...]] = {
    KeyKind.ORDER: (_NUMBER, _NUMBER, _NUMBER),
    KeyKind.EXPIRE: (_RECORD_ID, _DATE),
    KeyKind.REMIND: (_RECORD_ID, _DATE, _NUMBER),
    KeyKind.DRIFT: (_RECORD_ID, _SLUG, _SUBJECT),
    KeyKind.ALERT: (_SLUG, _SUBJECT),
}
# Drift receipts end ``:detected`` or ``:repaired`` (DESIGN.md, Audit), not the action's slug.
_DRIFT_TAILS = {ReceiptAction.DRIFT_DETECTED: "detected", ReceiptAction.DRIFT_REPAIRED: "repaired"}


class MalformedKey(DomainError):
    """A string that is not a well-formed action key."""


def gid_number(gid: str) -> str:
    """The trailing number of a Shopify GID: ``gid://shopify/Order/42`` -> ``"42"``."""
    match = re.fullmatch(r"gid://shopify/[A-Za-z]+/([1-9][0-9]*)(\?.*)?", gid)
    if not match:
        raise MalformedKey(f"not a Shopify GID: {gid!r}")
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
            raise MalformedKey(f"{kind.value} keys are not request keys")
        if not _RECORD_ID.fullmatch(record_id):
            raise MalformedKey(f"not an Airtable record id: {record_id!r}")
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
            raise MalformedKey("units count from 1")
        return cls(KeyKind.ORDER, (gid_number(order_gid), gid_number(line_item_gid), str(unit)))

    @classmethod
    def native(cls, gift_card_gid: str) -> ActionKey:
        return cls(KeyKind.NATIVE, (gid_number(gift_card_gid),))

    @classmethod
    def shopify_txn(cls, transaction_gid: str) -> ActionKey:
        return cls(KeyKind.SHOPIFY_TXN, (gid_number(transaction_gid),))

    @classmethod
    def expire(cls, card_id: str, expires_on: date) -> ActionKey:
        """Marking a card Expired for this Expires On (a later extension is a new key)."""
        return cls._checked(KeyKind.EXPIRE, (card_id, expires_on.isoformat()))

    @classmethod
    def remind(cls, card_id: str, expires_on: date, days: int) -> ActionKey:
        """The reminder for threshold ``days`` before this Expires On."""
        return cls._checked(KeyKind.REMIND, (card_id, expires_on.isoformat(), str(days)))

    @classmethod
    def drift(cls, card_id: str, field_name: str, shopify_updated_at: str) -> ActionKey:
        """One drift of one field, as Shopify's card stood at ``updatedAt``."""
        slug = field_name.lower().replace(" ", "-")
        return cls._checked(KeyKind.DRIFT, (card_id, slug, shopify_updated_at))

    @classmethod
    def card_txn(cls, transaction_gid: str) -> ActionKey:
        """A Shopify gift card transaction that no other receipt accounts for."""
        return cls(KeyKind.CARD_TXN, (gid_number(transaction_gid),))

    @classmethod
    def alert(cls, cause: str, subject: str) -> ActionKey:
        """One alert per cause and subject (a record id, a prong or a card)."""
        return cls._checked(KeyKind.ALERT, (cause, subject))

    @classmethod
    def _checked(cls, kind: KeyKind, parts: tuple[str, ...]) -> ActionKey:
        key = cls(kind, parts)
        cls.parse(str(key))  # one definition of well-formed: the parser's
        return key

    @classmethod
    def parse(cls, text: str) -> ActionKey:
        head, _, rest = text.partition(":")
        try:
            kind = KeyKind(head)
        except ValueError as exc:
            raise MalformedKey(f"unknown action key kind in {text!r}") from exc
        default = _RECORD_ID if kind in _REQUEST_KINDS else _NUMBER
        shape = _SHAPES.get(kind, (default,))
        parts = tuple(rest.split(":", len(shape) - 1)) if rest else ()
        if len(parts) != len(shape):
            raise MalformedKey(f"{kind.value} keys have {len(shape)} part(s): {text!r}")
        if not all(p.fullmatch(part) for p, part in zip(shape, parts, strict=True)):
            raise MalformedKey(f"malformed action key {text!r}")
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
            raise MalformedKey(
                f"{action.value} receipts {'need' if needs_audience else 'take no'} audience"
            )
        tail = f":{audience.value}" if audience is not None else ""
        slug = _DRIFT_TAILS.get(action, action.slug) if self.kind == KeyKind.DRIFT else action.slug
        return f"{self}:{slug}{tail}"

    @property
    def record_id(self) -> str | None:
        return self.parts[0] if self.kind in _REQUEST_KINDS else None


def key_from_note(note: str | None) -> ActionKey | None:
    """The action key in a Shopify note written by giftbridge, or None for any other note."""
    if not note or not note.startswith(NOTE_PREFIX):
        return None
    try:
        return ActionKey.parse(note[len(NOTE_PREFIX) :].strip())
    except MalformedKey:
        return None
