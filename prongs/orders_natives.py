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
from dataclasses import dataclass, field, replace

from cards.addresses import is_email
from cards.codes import mask_last4
from cards.vocab import CardSource
from clients.commands import NewCardRow
from clients.records import ShopifyCard, ShopifyOrder
from prongs.deps import Deps
from prongs.exactly_once import again_if_ambiguous, create_card_once
from prongs.lookup import native_card_row
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
                row = create_card_once(deps, _native_row(deps, order, card, holder))
        result.card_ids.append(row.id)
    return result


def _native_row(
    deps: Deps, order: ShopifyOrder, card: ShopifyCard, holder: Mapping[str, str]
) -> NewCardRow:
    last = card.last_characters.upper()
    recipient_email = holder.get(RECIPIENT_EMAIL)
    if recipient_email is not None and not is_email(recipient_email):
        recipient_email = None
    return replace(
        native_card_row(card, CardSource.ONLINE, deps.clock.now()),
        masked_code=mask_last4(last),
        last_characters=last,
        purchaser_name=order.customer_name,
        purchaser_email=order.customer_email,
        recipient_name=holder.get(RECIPIENT_NAME) if recipient_email else None,
        recipient_email=recipient_email,
        message=holder.get(MESSAGE),
        shopify_order=order.name,
    )
