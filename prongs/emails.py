"""Builders for every Klaviyo event of DESIGN.md's table, with the contract's property names.

Formats: money as strings with the currency's decimals (``"12.50"``), dates ISO (``"2031-11-21"``)
or null for never, ``kind`` and ``theme`` as the Airtable select names, ``found`` a boolean,
``days_left`` a whole number (so a Klaviyo flow can split on it). The
``unique_id`` is always ``<key>:<audience>`` so Klaviyo drops a repeat. Only :func:`issued`
carries the full code, and only the card's holder receives it.
"""

from __future__ import annotations

from datetime import date, datetime

from cards.codes import Code
from cards.keys import ActionKey
from cards.money import Money
from cards.vocab import Audience, Kind, Metric, Theme
from clients.records import CardRow, EmailEvent, EventValue

STORE_NOTICE_REDEMPTION = "redemption"
STORE_NOTICE_ISSUE = "issue"


def money_text(amount: Money | None) -> str | None:
    return amount.as_string() if amount is not None else None


def date_text(day: date | None) -> str | None:
    return day.isoformat() if day is not None else None


def _event(
    metric: Metric,
    key: ActionKey,
    audience: Audience,
    to: str,
    at: datetime,
    properties: dict[str, EventValue],
) -> EmailEvent:
    return EmailEvent(metric, to.strip(), key.unique_id(audience), properties, at)


def holder_email(card: CardRow) -> str | None:
    """Whoever holds the card's code: the recipient, else the buyer of a card not given."""
    return card.recipient_email or card.purchaser_email


def issued(
    card: CardRow,
    code: Code,
    *,
    key: ActionKey,
    to: str,
    at: datetime,
    business_name: str,
    currency: str,
) -> EmailEvent:
    """``Gift Card Issued``: the code itself, to the card's holder."""
    amount = card.initial_value or card.balance
    return _event(
        Metric.ISSUED,
        key,
        Audience.RECIPIENT,
        to,
        at,
        {
            "code": code.reveal(),
            "masked_code": card.masked_code or code.masked,
            "amount": money_text(amount),
            "currency": amount.currency if amount else currency,
            "expires_on": date_text(card.expires_on),
            "sender_name": card.purchaser_name,
            "recipient_name": card.recipient_name,
            "message": card.message,
            "theme": (card.theme or Theme.STANDARD).value,
            "kind": (card.kind or Kind.GIFT_CARD).value,
            "business_name": business_name,
        },
    )


def purchase_confirmation(
    card: CardRow, *, key: ActionKey, to: str, at: datetime, currency: str
) -> EmailEvent:
    """``Gift Card Purchase Confirmation``: to the buyer of a gift, with the masked code."""
    return _event(
        Metric.PURCHASE_CONFIRMATION,
        key,
        Audience.PURCHASER,
        to,
        at,
        {
            "masked_code": card.masked_code,
            "amount": money_text(card.initial_value),
            "currency": card.initial_value.currency if card.initial_value else currency,
            "recipient_name": card.recipient_name,
            "recipient_email": card.recipient_email,
        },
    )


def store_notice(
    *,
    notice: str,
    outcome: str,
    masked_code: str | None,
    amount: Money | None,
    currency: str,
    balance_after: Money | None,
    request_id: str,
    message: str,
    key: ActionKey,
    to: str,
    at: datetime,
) -> EmailEvent:
    """``Gift Card Store Notice``: every redemption and issue outcome, to the store."""
    return _event(
        Metric.STORE_NOTICE,
        key,
        Audience.STORE,
        to,
        at,
        {
            "notice": notice,
            "outcome": outcome,
            "masked_code": masked_code,
            "amount": money_text(amount),
            "currency": currency,
            "balance_after": money_text(balance_after),
            "request_id": request_id,
            "message": message,
        },
    )


def balance(
    *,
    found: bool,
    masked_code: str,
    amount: Money | None,
    expires_on: date | None,
    currency: str,
    key: ActionKey,
    to: str,
    at: datetime,
) -> EmailEvent:
    """``Gift Card Balance``: the same shape found or not (balance and expiry null when not)."""
    return _event(
        Metric.BALANCE,
        key,
        Audience.CUSTOMER,
        to,
        at,
        {
            "found": found,
            "masked_code": masked_code,
            "balance": money_text(amount) if found else None,
            "currency": currency,
            "expires_on": date_text(expires_on) if found else None,
        },
    )


def expiring_soon(
    card: CardRow,
    *,
    balance: Money,
    expires_on: date,
    days_left: int,
    business_name: str,
    key: ActionKey,
    to: str,
    at: datetime,
) -> EmailEvent:
    """``Gift Card Expiring Soon``: to the holder, with what is left (Shopify's balance) and
    the date that holds (Shopify's); ``days_left`` is 0 on the last day."""
    return _event(
        Metric.EXPIRING_SOON,
        key,
        Audience.RECIPIENT,
        to,
        at,
        {
            "masked_code": card.masked_code,
            "balance": money_text(balance),
            "currency": balance.currency,
            "expires_on": date_text(expires_on),
            "days_left": days_left,
            "business_name": business_name,
        },
    )


def voided(
    card: CardRow, *, voided_amount: Money, reason: str, key: ActionKey, to: str, at: datetime
) -> EmailEvent:
    """``Gift Card Voided``: to the holder, with the reason and the balance that was voided."""
    return _event(
        Metric.VOIDED,
        key,
        Audience.RECIPIENT,
        to,
        at,
        {
            "masked_code": card.masked_code,
            "balance": money_text(voided_amount),
            "reason": reason,
        },
    )


def alert(
    *,
    cause: str,
    subject: str,
    message: str,
    link: str | None,
    key: ActionKey,
    to: str,
    at: datetime,
) -> EmailEvent:
    """``Giftbridge Alert``: to the operator (``ALERT_EMAIL``), once per cause and subject."""
    return _event(
        Metric.ALERT,
        key,
        Audience.OPERATOR,
        to,
        at,
        {"cause": cause, "subject": subject, "message": message, "link": link},
    )
