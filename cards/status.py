"""Card statuses and the only transitions allowed between them (DESIGN.md's table)."""

from __future__ import annotations

from datetime import date

from cards.errors import DomainError
from cards.policy import is_expired
from cards.vocab import CardStatus

# (from, to) -> when it happens. Anything not here is refused.
TRANSITIONS: dict[tuple[CardStatus, CardStatus], str] = {
    (CardStatus.PENDING, CardStatus.ACTIVE): "the card exists in Shopify and is activated",
    (CardStatus.PENDING, CardStatus.VOIDED): "creation abandoned",
    (CardStatus.ACTIVE, CardStatus.REDEEMED): "balance reaches zero",
    (CardStatus.ACTIVE, CardStatus.VOIDED): "an operator voids it",
    (CardStatus.ACTIVE, CardStatus.EXPIRED): "its Expires On has passed",
    (CardStatus.REDEEMED, CardStatus.ACTIVE): "value comes back",
    (CardStatus.VOIDED, CardStatus.ACTIVE): "an operator reactivates it",
    (CardStatus.EXPIRED, CardStatus.ACTIVE): "an operator extends the expiry",
}


class TransitionNotAllowed(DomainError):
    def __init__(self, current: CardStatus, target: CardStatus) -> None:
        super().__init__(f"a {current.value} card cannot become {target.value}")
        self.current = current
        self.target = target


def can_transition(current: CardStatus, target: CardStatus) -> bool:
    return current == target or (current, target) in TRANSITIONS


def require_transition(current: CardStatus, target: CardStatus) -> None:
    """Raise :class:`TransitionNotAllowed` unless ``current -> target`` is in the table.

    Staying in the same status is allowed: replays after a crash re-apply the same write.
    """
    if not can_transition(current, target):
        raise TransitionNotAllowed(current, target)


def status_for_balance(current: CardStatus, balance_is_zero: bool) -> CardStatus:
    """Redeemed at zero and Active again when value comes back; other statuses stay."""
    if current == CardStatus.ACTIVE and balance_is_zero:
        return CardStatus.REDEEMED
    if current == CardStatus.REDEEMED and not balance_is_zero:
        return CardStatus.ACTIVE
    return current


def status_from_shopify(
    *, enabled: bool, expires_on: date | None, balance_is_zero: bool, today: date
) -> CardStatus:
    """The status of a card Shopify issued, as giftbridge first records it: a card Shopify
    switched off cannot be spent (Voided), one past its date is Expired, an empty one Redeemed."""
    if not enabled:
        return CardStatus.VOIDED
    if is_expired(expires_on, today):
        return CardStatus.EXPIRED
    return CardStatus.REDEEMED if balance_is_zero else CardStatus.ACTIVE
