"""Finding the card behind a typed code (DESIGN.md, Codes).

1. Normalize; a code outside 8 to 20 letters and digits is Format Incorrect, with no lookup.
2. Look the digest up in Gift Cards.
3. Else ask Shopify's code search and keep the card whose last characters match the code. A card
   with a row but no digest (Shopify issued it, the online-purchase prong recorded it) gets its
   digest filled in; a card with no row gets an Imported row first (Origin Key
   ``native:<card number>``), then the request goes on as usual. A card whose note carries
   giftbridge's key is one of ours whose row staff deleted: its row is restored under that key
   (as the audit restores it), never given a second identity.
4. Nothing matched: Not Found, sharpened to Format Incorrect when the check character fails (a
   giftbridge code with a typo). The check character alone never decides a lookup: cards Shopify
   issued carry no check.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

import structlog

from cards.codes import Code, CodeError, digest, mask_last4, normalize
from cards.errors import InvariantViolation
from cards.keys import ActionKey, KeyKind, key_from_note
from cards.status import status_from_shopify
from cards.vocab import CardSource, Kind
from clients.commands import FillCodeDigest, NewCardRow
from clients.records import CardRow, ShopifyCard
from prongs.deps import CardConfig, Deps
from prongs.exactly_once import again_if_ambiguous, create_card_once, update_card

log = structlog.get_logger("giftbridge.prongs")


@dataclass(frozen=True, slots=True)
class Lookup:
    """The result of a lookup; ``card`` is None when the code matched nothing."""

    typed: str
    code: Code | None
    card: CardRow | None
    format_incorrect: bool

    @property
    def masked(self) -> str:
        """The masked form of what was typed (the card's own when found)."""
        if self.card is not None and self.card.masked_code:
            return self.card.masked_code
        if self.code is not None:
            return self.code.masked
        return mask_last4(normalize(self.typed)) if self.typed.strip() else ""


def parse_code(text: str | None) -> Code | None:
    try:
        return Code.parse(text or "")
    except CodeError:
        return None


def find_by_code(deps: Deps, config: CardConfig, text: str | None) -> Lookup:
    typed = text or ""
    code = parse_code(typed)
    if code is None:
        return Lookup(typed, None, None, format_incorrect=True)
    code_digest = digest(code, config.pepper)
    card = again_if_ambiguous(lambda: deps.airtable.find_card(digest=code_digest))
    if card is None:
        card = _search_shopify_and_record(deps, code, code_digest)
    return _found(typed, code, card)


#: Digest -> its Gift Cards rows ([] when it has none), as read (or imported) so far.
Known = dict[str, list[CardRow]]


def digests_of(config: CardConfig, texts: Sequence[str | None]) -> list[str]:
    """The digests of the well-formed codes among ``texts`` (a text that cannot even be parsed
    is left to its own lookup, so it fails alone)."""
    digests = []
    for text in texts:
        try:
            code = parse_code(text)
        except Exception as exc:  # contained: find_by_codes reports it for this text
            log.warning("a typed code could not be parsed", error=type(exc).__name__)
            continue
        if code is not None:
            digests.append(digest(code, config.pepper))
    return digests


def read_digests(deps: Deps, digests: Sequence[str], known: Known) -> None:
    """Read the rows of the digests ``known`` lacks (one request per formula-sized chunk) into
    it; raises when the read fails."""
    missing = list(dict.fromkeys(d for d in digests if d not in known))
    if missing:
        rows = again_if_ambiguous(lambda: deps.airtable.find_cards_by_digests(missing))
        known.update({d: list(rows.get(d, [])) for d in missing})


def find_by_codes(
    deps: Deps, config: CardConfig, texts: Sequence[str | None], known: Known | None = None
) -> list[Lookup | Exception]:
    """:func:`find_by_code` for several typed codes, their digests read together, or taken from
    ``known`` (e.g. read for a whole page of requests; it grows with what is read and imported
    here). A code without a row falls back to Shopify's code search on its own, once per code;
    what goes wrong there (anything: one code never fails another) is returned in that code's
    place. The shared read failing raises."""
    known = {} if known is None else known
    read_digests(deps, digests_of(config, texts), known)
    searched: set[str] = set()  # digests Shopify's code search found nothing for
    results: list[Lookup | Exception] = []
    for text in texts:
        try:
            code = parse_code(text)
            if code is None:
                results.append(Lookup(text or "", None, None, format_incorrect=True))
                continue
            card = _row_or_shopify_card(deps, code, digest(code, config.pepper), known, searched)
        except Exception as exc:  # contained to this code's request
            results.append(exc)
            continue
        results.append(_found(text or "", code, card))
    return results


def _row_or_shopify_card(
    deps: Deps, code: Code, code_digest: str, known: Known, searched: set[str]
) -> CardRow | None:
    hits = known.get(code_digest, [])
    if len(hits) > 1:
        raise InvariantViolation(f"{len(hits)} Gift Cards rows share one Code Digest")
    if hits:
        return hits[0]
    if code_digest in searched:
        return None
    card = _search_shopify_and_record(deps, code, code_digest)
    if card is None:
        searched.add(code_digest)
    else:
        known[code_digest] = [card]
    return card


def _found(typed: str, code: Code, card: CardRow | None) -> Lookup:
    if card is None:
        return Lookup(typed, code, None, format_incorrect=not code.has_valid_check)
    return Lookup(typed, code, card, format_incorrect=False)


def matches_code(card: ShopifyCard, code: Code) -> bool:
    """Shopify's code search can be loose: keep a hit only if its last characters end the code."""
    last = card.last_characters.upper()
    return bool(last) and code.reveal().endswith(last)


def _search_shopify_and_record(deps: Deps, code: Code, code_digest: str) -> CardRow | None:
    hits = [
        c
        for c in again_if_ambiguous(lambda: deps.shopify.find_cards_by_code(code))
        if matches_code(c, code)
    ]
    if not hits:
        return None
    if len(hits) > 1:
        raise InvariantViolation(f"Shopify's code search returned {len(hits)} cards for {code!r}")
    native = hits[0]
    with deps.card_locks.hold(native.id):  # two requests for one new card import it once
        row = again_if_ambiguous(lambda: deps.airtable.find_card(shopify_id=native.id))
        if row is None:
            return _import_native_row(deps, code, code_digest, native)
        if row.code_digest not in (None, code_digest):
            raise InvariantViolation(f"card {row.id} holds another digest for {native.id}")
        log.info("filling in a card's digest", card=row.id, shopify=native.id)
        fill = FillCodeDigest(
            row.id,
            code_digest,
            masked_code=row.masked_code or code.masked,
            last_characters=row.last_characters or code.last4,
        )
        return update_card(deps, fill)


def _import_native_row(deps: Deps, code: Code, code_digest: str, native: ShopifyCard) -> CardRow:
    """An Imported row for a card Shopify issued, or the restored row of a card giftbridge
    issued (its note's key); looked up by Origin Key after a lost reply."""
    row = native_card_row(native, CardSource.IMPORTED, deps.clock.now())
    ours = key_from_note(native.note)
    if ours is not None:  # the audit, finding this row under the key, restores nothing more
        online = ours.kind is KeyKind.ORDER
        row = replace(row, origin_key=str(ours), source=CardSource.ONLINE if online else None)
    imported = replace(
        row,
        code_digest=code_digest,
        masked_code=code.masked,
        last_characters=code.last4,
        shopify_order=native.order_name,
    )
    log.info("importing a card Shopify issued", key=imported.origin_key, shopify=native.id)
    return create_card_once(deps, imported)


def native_card_row(card: ShopifyCard, source: CardSource, now: datetime) -> NewCardRow:
    """The Gift Cards row of a card Shopify issued, from what Shopify says of it (Origin Key
    ``native:<card number>``); the caller adds what it knows besides (code, order, holder)."""
    return NewCardRow(
        origin_key=str(ActionKey.native(card.id)),
        shopify_id=card.id,
        status=status_from_shopify(
            enabled=card.enabled,
            expires_on=card.expires_on,
            balance_is_zero=card.balance.is_zero,
            today=now.date(),
        ),
        kind=Kind.GIFT_CARD,
        currency=card.balance.currency,
        initial_value=card.initial_value,
        balance=card.balance,
        source=source,
        issued_at=card.created_at,
        expires_on=card.expires_on,
        last_synced_at=now,
    )
