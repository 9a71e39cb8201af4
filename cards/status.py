"""Card statuses and the only transitions allowed between them (DESIGN.md's table)."""

from __future__ import annotations

from datetime import date

from cards.errors import DomainError
from cards.policy import is_expired
from cards.vocab import CardStatus

S = CardStatus

# (from, to) -> when it happens. Anything not here is refused.
TRANSITIONS: dict[tuple[CardStatus, CardStatus], str] = {
    (S.PENDING, S.ACTIVE): "the card exists in Shopify and is activated",
    (S.PENDING, S.VOIDED): "creation abandoned",
    (S.ACTIVE, S.REDEEMED): "balance reaches zero",
    (S.ACTIVE, S.VOIDED): "an operator voids it",
    (S.ACTIVE, S.EXPIRED): "its Expires On has passed",
    (S.REDEEMED, S.ACTIVE): "value comes back",
    (S.VOIDED, S.ACTIVE): "an operator reactivates it",
    (S.EXPIRED, S.ACTIVE): "an operator extends the expiry",
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
    if current == S.ACTIVE and balance_is_zero:
        return S.REDEEMED
    if current == S.REDEEMED and not balance_is_zero:
        return S.ACTIVE
    return current


def status_from_shopify(
    *, enabled: bool, expires_on: date | None, balance_is_zero: bool, today: date
) -> CardStatus:
    """The status of a card Shopify issued, as giftbridge first records it: a card Shopify
    switched off cannot be spent (Voided), one past its date is Expired, an empty one Redeemed."""
    if not enabled:
        return S.VOIDED
    if is_expired(expires_on, today):
        return S.EXPIRED
    return S.REDEEMED if balance_is_zero else S.ACTIVE
