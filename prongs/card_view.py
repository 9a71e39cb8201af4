"""Read-only use cases behind ``giftbridge card``: find a card, describe it, print it.

Nothing here writes: a code typed at the command line is looked up by digest and then with
Shopify's code search, but a card Shopify issued and giftbridge has not seen is only shown, not
imported (the till or balance-check flow imports it). The printable certificate carries the full
code, so it is produced only here, on the operator's machine, where the sealing key is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from cards.codes import Code, CodeError, digest, unseal
from cards.errors import InvariantViolation
from clients.records import CardRow, CardTransaction, ShopifyCard
from prongs.deps import CardConfig, Deps
from prongs.issuance import certificate_data
from prongs.lookup import matches_code

_RECORD_ID = re.compile(r"rec[A-Za-z0-9]{14}")


class CardNotFound(LookupError):
    """Neither a Gift Cards row nor a Shopify card matches what was given."""


@dataclass(frozen=True, slots=True)
class CardView:
    row: CardRow | None  # None: a card only Shopify knows (not yet seen by giftbridge)
    shopify: ShopifyCard | None
    transactions: tuple[CardTransaction, ...] = ()


def find(deps: Deps, config: CardConfig, reference: str) -> tuple[CardView, Code | None]:
    """A card by Gift Cards record id or by its full code; the parsed code when one was given."""
    if _RECORD_ID.fullmatch(reference.strip()):
        row = deps.airtable.get_card(reference.strip())
        if row is None:
            raise CardNotFound(f"no Gift Cards record {reference.strip()}")
        return _with_shopify_side(deps, row, None), None
    try:
        code = Code.parse(reference)
    except CodeError as exc:
        raise CardNotFound(f"not a record id (rec...) or a code: {exc}") from None
    row = deps.airtable.find_card(digest=digest(code, config.pepper))
    if row is not None:
        return _with_shopify_side(deps, row, None), code
    hits = [c for c in deps.shopify.find_cards_by_code(code) if matches_code(c, code)]
    if not hits:
        raise CardNotFound(f"no card has the code {code.masked}")
    known = deps.airtable.find_card(shopify_id=hits[0].id)
    return _with_shopify_side(deps, known, hits[0]), code


def _with_shopify_side(deps: Deps, row: CardRow | None, card: ShopifyCard | None) -> CardView:
    gid = card.id if card is not None else (row.shopify_id if row is not None else None)
    if gid is None:
        return CardView(row, None)
    card = card or deps.shopify.get_card(gid)
    transactions = tuple(deps.shopify.transactions(gid, limit=10)) if card else ()
    return CardView(row, card, transactions)


def printable_certificate(
    deps: Deps, config: CardConfig, view: CardView, code: Code | None = None
) -> tuple[bytes, str]:
    """The certificate with the full code, and its file name ``certificate-<last 4>.pdf``.

    The code is the one given, or the card's sealed copy opened with CODE_KEY; either must
    match the card's digest, so a certificate never shows a code that is not this card's."""
    row = view.row
    if row is None:
        raise CardNotFound("giftbridge has no record of this card yet: nothing to print from")
    if code is None:
        if not row.code_sealed:
            raise CardNotFound(
                f"card {row.id} has no sealed code (Shopify issued it): only "
                "its holder has the code; print it with the code given"
            )
        try:
            code = unseal(row.code_sealed, config.code_key)
        except CodeError as exc:
            raise InvariantViolation(f"card {row.id}: {exc}") from None
    if row.code_digest and digest(code, config.pepper) != row.code_digest:
        raise InvariantViolation(f"card {row.id}: the code does not match the card's digest")
    amount = row.initial_value or row.balance
    if amount is None:
        raise InvariantViolation(f"card {row.id} has no value to print")
    plain = code.reveal()
    grouped = "-".join(plain[i : i + 4] for i in range(0, len(plain), 4))
    balance = view.shopify.balance if view.shopify is not None else row.balance
    data = certificate_data(
        row,
        config,
        grouped,
        amount,
        balance=balance,
        today=deps.clock.now().date(),
        full_code=plain,
    )
    pdf = deps.certificates.render(data)
    return pdf, f"certificate-{code.last4}.pdf"
