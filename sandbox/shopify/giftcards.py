"""Gift card rules: create, credit, debit, deactivate, update, each returning Shopify's userErrors.

Choices where Shopify's documentation is silent (documented in the package README):
- codes are stored and shown in lower case (``lastCharacters`` "7kq2", ``maskedCode``
  "•••• •••• •••• 7kq2"); a code given with other characters than a-z/0-9 is ``INVALID``
  (checked before the length rules), and ``TAKEN`` compares without regard to case;
- one amount limit, ``issue_limit`` (default 9999.99, also reported as
  ``giftCardConfiguration.issueLimit``): an initial value or a balance after a credit above it is
  ``GIFT_CARD_LIMIT_EXCEEDED``; amounts with more decimals than cents are ``INVALID``;
- a credit or debit on a deactivated or expired card is ``INVALID``; a ``processedAt`` in the
  future is ``INVALID``; a debit larger than the balance is ``INSUFFICIENT_FUNDS`` and changes
  nothing;
- deactivating a deactivated card succeeds and changes nothing.
"""

from __future__ import annotations

import secrets
import string
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from graphql import GraphQLError

from sandbox.shopify.state import CardTransaction, GiftCard, ShopState, parse_gid

CODE_ALPHABET = string.ascii_lowercase + string.digits
CENT = Decimal("0.01")

UserError = dict[str, Any]


@dataclass(frozen=True)
class CardRules:
    currency: str
    issue_limit: Decimal


def user_error(field: list[str], message: str, code: str | None = None) -> UserError:
    return {"field": field, "message": message, "code": code}


def card_number(value: str) -> int | None:
    """The card number of a GiftCard GID; None for another kind of GID; an error for garbage."""
    if not value.startswith("gid://shopify/"):
        raise GraphQLError(f"Invalid global id '{value}'",
                           extensions={"code": "argumentLiteralsIncompatible"})
    return parse_gid(value, "GiftCard")


def find_card(state: ShopState, gid_value: str) -> GiftCard | None:
    number = card_number(gid_value)
    return state.cards.get(number) if number is not None else None


def masked(code: str) -> str:
    return f"•••• •••• •••• {code[-4:]}"


def random_code(state: ShopState, length: int = 16) -> str:
    while True:
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(length))
        if state.card_by_code(code) is None:
            return code


def _code_errors(state: ShopState, code: str) -> list[UserError]:
    where = ["input", "code"]
    if any(char not in CODE_ALPHABET for char in code.lower()):
        return [user_error(where, "Code can only contain letters and numbers", "INVALID")]
    if len(code) < 8:
        return [user_error(where, "Code is too short (minimum is 8 characters)", "TOO_SHORT")]
    if len(code) > 20:
        return [user_error(where, "Code is too long (maximum is 20 characters)", "TOO_LONG")]
    if state.card_by_code(code) is not None:
        return [user_error(where, "Code has already been taken", "TAKEN")]
    return []


def _value_errors(value: Decimal, rules: CardRules) -> list[UserError]:
    where = ["input", "initialValue"]
    if value <= 0:
        return [user_error(where, "Initial value must be greater than 0", "GREATER_THAN")]
    if value != value.quantize(CENT):
        return [user_error(where, "Initial value has too many decimal places", "INVALID")]
    if value > rules.issue_limit:
        return [user_error(where, f"Initial value must be at most {rules.issue_limit}",
                           "GIFT_CARD_LIMIT_EXCEEDED")]
    return []


def create_card(state: ShopState, rules: CardRules, now: datetime,
                data: dict[str, Any]) -> tuple[GiftCard | None, list[UserError]]:
    code = data.get("code")
    errors = _value_errors(data["initialValue"], rules)
    if code is not None:
        errors += _code_errors(state, code)
    expires_on: date | None = data.get("expiresOn")
    if expires_on is not None and expires_on <= now.date():
        errors.append(user_error(["input", "expiresOn"], "Expires on must be in the future",
                                 "INVALID"))
    customer = data.get("customerId")
    if customer is not None and parse_gid(customer, "Customer") not in state.customers:
        errors.append(user_error(["input", "customerId"], "Customer not found",
                                 "CUSTOMER_NOT_FOUND"))
    recipient = (data.get("recipientAttributes") or {}).get("id")
    if recipient is not None and parse_gid(recipient, "Customer") not in state.customers:
        errors.append(user_error(["input", "recipientAttributes", "id"], "Recipient not found",
                                 "RECIPIENT_NOT_FOUND"))
    if errors:
        return None, errors
    card = issue_card(state, now, code=code, value=data["initialValue"], currency=rules.currency,
                      expires_on=expires_on, note=data.get("note"),
                      notify=data.get("notify", True) is not False,
                      customer_number=parse_gid(customer, "Customer") if customer else None)
    card.template_suffix = data.get("templateSuffix")
    return card, []


def issue_card(state: ShopState, now: datetime, *, code: str | None, value: Decimal,
               currency: str, source: str = "api_client", expires_on: date | None = None,
               note: str | None = None, notify: bool = True, customer_number: int | None = None,
               order_number: int | None = None, line_item_number: int | None = None) -> GiftCard:
    card = GiftCard(number=state.new_id(), code=(code or random_code(state)).lower(),
                    initial_value=value, balance=value, currency=currency, created_at=now,
                    updated_at=now, source=source, expires_on=expires_on, note=note,
                    notify=notify, customer_number=customer_number, order_number=order_number,
                    line_item_number=line_item_number)
    state.cards[card.number] = card
    return card


def is_expired(card: GiftCard, today: date) -> bool:
    return card.expires_on is not None and card.expires_on < today


def _transaction_errors(card: GiftCard | None, money: dict[str, Any], where: list[str],
                        processed_at: datetime | None, now: datetime) -> list[UserError]:
    """``where`` is the money input's path, e.g. ["debitInput", "debitAmount"]."""
    amount: Decimal = money["amount"]
    if card is None:
        return [user_error(["id"], "The gift card could not be found", "GIFT_CARD_NOT_FOUND")]
    if amount <= 0:
        return [user_error([*where, "amount"], "The amount must be greater than zero",
                           "NEGATIVE_OR_ZERO_AMOUNT")]
    if money["currencyCode"] != card.currency:
        return [user_error([*where, "currencyCode"],
                           "The currency must match the gift card's currency",
                           "MISMATCHING_CURRENCY")]
    if amount != amount.quantize(CENT):
        return [user_error([*where, "amount"], "The amount has too many decimal places",
                           "INVALID")]
    if not card.enabled or is_expired(card, now.date()):
        state = "deactivated" if not card.enabled else "expired"
        return [user_error(["id"], f"The gift card is {state}", "INVALID")]
    if processed_at is not None and processed_at > now + timedelta(minutes=1):
        return [user_error([where[0], "processedAt"],
                           "Processed at can't be in the future", "INVALID")]
    return []


def apply_transaction(state: ShopState, rules: CardRules, now: datetime, gid_value: str,
                      data: dict[str, Any], kind: str,
                      ) -> tuple[CardTransaction | None, list[UserError]]:
    """A credit or a debit (``kind``), all checks first, then one atomic change."""
    input_name, money_name = (("creditInput", "creditAmount") if kind == "credit"
                              else ("debitInput", "debitAmount"))
    card = find_card(state, gid_value)
    money = data[money_name]
    processed_at: datetime | None = data.get("processedAt")
    errors = _transaction_errors(card, money, [input_name, money_name], processed_at, now)
    if errors or card is None:
        return None, errors
    amount: Decimal = money["amount"]
    if kind == "debit" and amount > card.balance:
        return None, [user_error([input_name, money_name, "amount"],
                                 "The gift card does not have sufficient funds",
                                 "INSUFFICIENT_FUNDS")]
    if kind == "credit" and card.balance + amount > rules.issue_limit:
        return None, [user_error([input_name, money_name, "amount"],
                                 f"The balance would exceed the limit of {rules.issue_limit}",
                                 "GIFT_CARD_LIMIT_EXCEEDED")]
    at = processed_at.replace(microsecond=0) if processed_at is not None else now
    return record_transaction(state, card, kind, amount, data.get("note"), at, now), []


def record_transaction(state: ShopState, card: GiftCard, kind: str, amount: Decimal,
                       note: str | None, processed_at: datetime, now: datetime,
                       order_number: int | None = None) -> CardTransaction:
    card.balance += amount if kind == "credit" else -amount
    card.updated_at = now
    txn = CardTransaction(number=state.new_id(), card_number=card.number, kind=kind,
                          amount=amount, note=note, processed_at=processed_at,
                          order_number=order_number)
    state.card_transactions.append(txn)
    return txn


def deactivate(state: ShopState, now: datetime,
               gid_value: str) -> tuple[GiftCard | None, list[UserError]]:
    card = find_card(state, gid_value)
    if card is None:
        return None, [user_error(["id"], "The gift card could not be found",
                                 "GIFT_CARD_NOT_FOUND")]
    if card.enabled:
        card.enabled, card.deactivated_at, card.updated_at = False, now, now
    return card, []


def update(state: ShopState, now: datetime, gid_value: str,
           data: dict[str, Any]) -> tuple[GiftCard | None, list[UserError]]:
    card = find_card(state, gid_value)
    if card is None:
        return None, [user_error(["id"], "Gift card not found")]
    customer = data.get("customerId")
    if customer is not None:
        number = parse_gid(customer, "Customer")
        if number not in state.customers:
            return None, [user_error(["input", "customerId"], "Customer not found")]
        if card.customer_number is not None and card.customer_number != number:
            return None, [user_error(["input", "customerId"],
                                     "The customer cannot be changed once set")]
        card.customer_number = number
    if "expiresOn" in data:
        card.expires_on = data["expiresOn"]
    for key, attribute in (("note", "note"), ("templateSuffix", "template_suffix")):
        if key in data:
            setattr(card, attribute, data[key])
    if data.get("notify") is not None:
        card.notify = bool(data["notify"])
    card.updated_at = now
    return card, []
