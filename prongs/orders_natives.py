"""Recording the cards Shopify issued itself for an order's native gift-card line items.

Shopify creates and emails those cards when the line item is fulfilled, and never reveals their
codes. giftbridge only gives each one a Gift Cards row (Origin Key ``native:<card number>``,
Source Online, masked code and last characters from Shopify, no digest until someone presents
the code) and sends nothing.

A row may exist already: from an earlier run that crashed before recording the order, or an
Imported row made when the card was presented at a till first. Either is linked as it is. The
lookup and the creation happen under the card's process-wide lock, which the store prong's
import also takes, so the two never make two rows for one card.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from cards.addresses import is_email
from cards.codes import mask_last4
from cards.keys import ActionKey
from cards.policy import is_expired
from cards.vocab import CardSource, CardStatus, Kind
from clients.records import Changes, ShopifyCard, ShopifyOrder
from config.layout import GiftCards
from prongs.deps import Deps
from prongs.exactly_once import again_if_ambiguous, create_card_once
from prongs.orders_lines import MESSAGE, RECIPIENT_EMAIL, RECIPIENT_NAME, shared_native_holder


@dataclass
class NativeResult:
    card_ids: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def record_natives(
    deps: Deps, order: ShopifyOrder, cards: list[ShopifyCard], *, currency: str
) -> NativeResult:
    result = NativeResult()
    holder = shared_native_holder(order)
    for card in cards:
        if card.balance.currency != currency:
            result.problems.append(f"{card.id} is in {card.balance.currency}")
            continue
        with deps.card_locks.hold(card.id):
            row = again_if_ambiguous(lambda: deps.airtable.find_card(shopify_id=card.id))  # noqa: B023
            if row is None:
                origin = str(ActionKey.native(card.id))
                row = create_card_once(deps, origin, _changes(deps, order, card, holder))
        result.card_ids.append(row.id)
    return result


def native_status(card: ShopifyCard, deps: Deps) -> CardStatus:
    """As the store prong's import decides it: a card Shopify switched off cannot be spent."""
    if not card.enabled:
        return CardStatus.VOIDED
    if is_expired(card.expires_on, deps.clock.now().date()):
        return CardStatus.EXPIRED
    return CardStatus.REDEEMED if card.balance.is_zero else CardStatus.ACTIVE


def _changes(
    deps: Deps, order: ShopifyOrder, card: ShopifyCard, holder: Mapping[str, str]
) -> Changes:
    last = card.last_characters.upper()
    recipient_email = holder.get(RECIPIENT_EMAIL)
    if recipient_email is not None and not is_email(recipient_email):
        recipient_email = None
    return {
        GiftCards.ORIGIN_KEY: str(ActionKey.native(card.id)),
        GiftCards.SHOPIFY_GIFT_CARD_ID: card.id,
        GiftCards.MASKED_CODE: mask_last4(last),
        GiftCards.LAST_CHARACTERS: last,
        GiftCards.STATUS: native_status(card, deps),
        GiftCards.KIND: Kind.GIFT_CARD,
        GiftCards.CURRENCY: card.balance.currency,
        GiftCards.INITIAL_VALUE: card.initial_value,
        GiftCards.BALANCE: card.balance,
        GiftCards.SOURCE: CardSource.ONLINE,
        GiftCards.ISSUED_AT: card.created_at,
        GiftCards.EXPIRES_ON: card.expires_on,
        GiftCards.PURCHASER_NAME: order.customer_name,
        GiftCards.PURCHASER_EMAIL: order.customer_email,
        GiftCards.RECIPIENT_NAME: holder.get(RECIPIENT_NAME) if recipient_email else None,
        GiftCards.RECIPIENT_EMAIL: recipient_email,
        GiftCards.MESSAGE: holder.get(MESSAGE),
        GiftCards.SHOPIFY_ORDER: order.name,
        GiftCards.LAST_SYNCED_AT: deps.clock.now(),
    }
