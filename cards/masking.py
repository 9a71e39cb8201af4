"""Masking gift card codes in free text (log lines, error messages, Result Messages).

:func:`mask_codes` masks anything that looks like a code (eight bullets and the last 4) and
keeps what an operator searches for readable: Airtable record ids, Shopify GIDs, action keys,
digests and run ids. Pure: the daemon's log redaction and the prongs' Result Messages use it.
"""

from __future__ import annotations

import re

from cards.codes import Code, mask_last4

# Things that must stay readable although they look like codes.
_KEEP = re.compile(
    # Airtable ids: random base62, so upper and lower case letters both (an all-lowercase run
    # after "rec" is more likely a code typed in lower case: masked, the safe error).
    r"(rec|app|tbl|fld|viw|att|sel|usr|itr|ach)(?=[A-Za-z0-9]{0,13}[a-z])(?=[A-Za-z0-9]{0,13}[A-Z])"
    r"[A-Za-z0-9]{14}"
    r"|gid://shopify/[A-Za-z]+/\d+"  # Shopify GIDs
    r"|(redeem|create|balance|action|order|native|shopify-txn|expire|remind|drift|card-txn"
    r"|alert|import|rehearsal):[A-Za-z0-9:\-]+"  # action keys
    r"|[0-9a-f]{64}"  # digests are one-way: safe, and searchable
    r"|run-[0-9a-f]{8}"  # run ids (daemon.runner)
)
# A code candidate standing as its own word: a run of 8 to 20 letters and digits, or groups of
# 4 joined by single spaces, dashes or dots (how people write codes down).
# The groups of one written code share one separator, so a grouped code never runs on into
# the next ordinary word ("ABCD-EFGH-JKMN with").
_CANDIDATE = re.compile(
    r"(?<![A-Za-z0-9:/])"
    r"(?:[A-Za-z0-9]{4}(?P<sep>[ .\-])[A-Za-z0-9]{4}(?:(?P=sep)[A-Za-z0-9]{4}){0,3}"
    r"|[A-Za-z0-9]{8,20})"
    r"(?![A-Za-z0-9])"
)
# Symbols a generated code can hold (Crockford: no I, L, O, U), in either case.
_CROCKFORD_SYMBOLS = frozenset("0123456789ABCDEFGHJKMNPQRSTVWXYZabcdefghjkmnpqrstvwxyz")


def _looks_like_code(text: str) -> bool:
    compact = re.sub(r"[ .\-]", "", text)
    if compact != text:
        # Groups of four joined by dashes or dots are how codes are written down; with spaces
        # they could be ordinary four-letter words, so those need a digit too.
        return " " not in text or any(c.isdigit() for c in compact)
    if not 8 <= len(compact) <= 20:
        return False
    has_digit = any(c.isdigit() for c in compact)
    has_alpha = any(c.isalpha() for c in compact)
    if has_digit and has_alpha:
        return True
    # All letters or all digits: a generated code can be either (about 1 in 60 at 12
    # characters, far more often at 8). Ours carry a valid check symbol (a random word passes
    # 1 time in 32: masked by mistake, the safe error); long runs are masked regardless when
    # they are shouted, avoid I, L, O and U as codes do, or are long numbers.
    if set(compact) <= _CROCKFORD_SYMBOLS and Code(compact.upper()).has_valid_check:
        return True
    if len(compact) < 12:
        return False
    return has_digit or compact.isupper() or set(compact) <= _CROCKFORD_SYMBOLS


def _dotted_name(value: str, after: str) -> bool:
    """Words of a dotted identifier (``push.call_failed``, a log event), not a written code:
    dots, letters only, and the name goes on with an underscore."""
    return after == "_" and "." in value and re.sub(r"\.", "", value).isalpha()


def mask_codes(text: str) -> str:
    """Mask every code-like run in ``text``, keeping ids, GIDs, keys and digests readable."""
    kept: list[tuple[int, int]] = [m.span() for m in _KEEP.finditer(text)]
    out: list[str] = []
    pos = last = 0
    while (match := _CANDIDATE.search(text, pos)) is not None:
        start, end = match.span()
        value = match.group(0)
        if any(s <= start and end <= e for s, e in kept) or _dotted_name(
            value, text[end : end + 1]
        ):
            pos = end
        elif _looks_like_code(value):
            out += [text[last:start], mask_last4(re.sub(r"[ .\-]", "", value))]
            pos = last = end
        elif match.group("sep"):
            # Words grouped like a code but not one ("code ABCD"): a code may begin at its next
            # group ("ABCD-EFGH-JKMN-7KQ2"), so look again from there, not from its end.
            pos = start + 5
        else:
            pos = end
    out.append(text[last:])
    return "".join(out)
