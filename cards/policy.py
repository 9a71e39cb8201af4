"""Policies: card value limits and expiry."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from cards.money import Money

FIVE_YEARS_DAYS = 1825


@dataclass(frozen=True, slots=True)
class AmountLimits:
    minimum: Money
    maximum: Money

    def __post_init__(self) -> None:
        if not self.minimum.is_positive:
            raise ValueError("the minimum card value must be positive")
        if self.minimum > self.maximum:
            raise ValueError("the minimum card value is above the maximum")

    def problem(self, amount: Money) -> str | None:
        """Why ``amount`` cannot be a card's value, or None when it can."""
        if amount.currency != self.minimum.currency:
            return f"the amount is in {amount.currency}, cards are in {self.minimum.currency}"
        if amount < self.minimum:
            return f"the amount {amount} is below the minimum {self.minimum}"
        if amount > self.maximum:
            return f"the amount {amount} is above the maximum {self.maximum}"
        return None


@dataclass(frozen=True, slots=True)
class ExpiryPolicy:
    """Days from activation; 0 means cards never expire."""

    days: int

    def __post_init__(self) -> None:
        if self.days < 0:
            raise ValueError("expiry days cannot be negative")

    def expires_on(self, activated: date) -> date | None:
        return None if self.days == 0 else activated + timedelta(days=self.days)

    @property
    def warning(self) -> str | None:
        """A start-up warning when paid value may expire sooner than US and Irish law allow."""
        if 0 < self.days < FIVE_YEARS_DAYS:
            return (
                f"EXPIRY_DAYS={self.days} is under five years ({FIVE_YEARS_DAYS} days): "
                "US federal law (Reg. E) and Ireland require at least five years for paid "
                "gift cards, and California forbids expiry; use 0 (never) unless these cards "
                "are promotional"
            )
        return None


def is_expired(expires_on: date | None, today: date) -> bool:
    """A card is usable through its Expires On day and expired the day after."""
    return expires_on is not None and today > expires_on
