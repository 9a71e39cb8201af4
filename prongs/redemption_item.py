"""One store redemption on its way through a group's phases (:mod:`prongs.redemptions`), and
the two Shopify reads a decision may need: a certificate's value, and why a debit was refused.
"""

from __future__ import annotations

from dataclasses import dataclass

from cards import redemption
from cards.errors import InvariantViolation
from cards.keys import ActionKey
from cards.money import Money
from clients.errors import Permanent
from clients.records import CardRow, RedemptionRequest, TransactionResult
from prongs.exactly_once import again_if_ambiguous
from prongs.lookup import Lookup
from prongs.redemption_closing import Verdict
from prongs.store_context import Context, Handled


@dataclass
class Item:
    """One request of a group on its way through the phases."""

    req: RedemptionRequest
    intent: bool  # Status Processing is recorded (a resumed request, or after the intent write)
    found: Lookup | None = None
    amount: Money | None = None  # decided: debit this much
    money: TransactionResult | None = None  # the debit, made or read back
    answered: int = 0  # when ``money`` came back, among the group's Shopify answers
    verdict: Verdict | None = None  # how it ends, once known
    refused: bool = False  # Shopify refused: the Outcome is recorded before acting on it
    result: Handled | None = None  # done with: finished, or left for the next run
    error: str | None = None  # a failure line for the run report

    @property
    def key(self) -> ActionKey:
        return ActionKey.redeem(self.req.id)

    @property
    def card(self) -> CardRow | None:
        return self.found.card if self.found is not None else None

    @property
    def open(self) -> bool:
        """Neither decided nor done with."""
        return self.verdict is None and self.result is None


def read_certificate_value(ctx: Context, card: CardRow) -> Money:
    """A certificate's value as Shopify holds it (it is used in full)."""
    live = again_if_ambiguous(lambda: ctx.deps.shopify.get_card(card.shopify_id or ""))
    if live is None:
        raise InvariantViolation(f"card {card.id}: Shopify has no card {card.shopify_id}")
    return live.balance


def explain_refusal_from_shopify(
    ctx: Context, card: CardRow, exc: Permanent, amount: Money
) -> redemption.Refuse:
    """Why Shopify refused the debit, read from the card as Shopify holds it now."""
    live = again_if_ambiguous(lambda: ctx.deps.shopify.get_card(card.shopify_id or ""))
    return redemption.decide_refused_debit(exc.code, live, amount, ctx.now().date(), str(exc))
