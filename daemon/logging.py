"""structlog, configured once: JSON lines when not a TTY, a readable console on a TTY.

Every line passes :func:`redact` before it is rendered: anything that looks like a gift card code
is masked (eight bullets and the last 4), known secrets are replaced with ``<SECRET>``, and
tracebacks are rendered first so they are redacted too. Airtable record ids (``rec...``), Shopify
GIDs and action keys stay readable: they are what an operator searches for.

Context (prong, run id, record id) is bound per thread with ``structlog.contextvars``: bind at the
start of each job, since contextvars do not cross threads.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterable, MutableMapping
from typing import Any, TextIO

import structlog

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
_REDACTED_KEYS = {
    "code",
    "code_text",
    "token",
    "api_key",
    "password",
    "secret",
    "pepper",
    "code_key",
}


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


def mask_codes(text: str) -> str:
    """Mask every code-like run in ``text``, keeping ids, GIDs, keys and digests readable."""
    kept: list[tuple[int, int]] = [m.span() for m in _KEEP.finditer(text)]

    def replace(match: re.Match[str]) -> str:
        start, end = match.span()
        if any(s <= start and end <= e for s, e in kept):
            return match.group(0)
        value = match.group(0)
        if not _looks_like_code(value):
            return value
        return mask_last4(re.sub(r"[ .\-]", "", value))

    return _CANDIDATE.sub(replace, text)


class Redactor:
    """A structlog processor: masks codes everywhere and removes the given secrets."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets = sorted({s for s in secrets if s and len(s) >= 6}, key=len, reverse=True)

    def add_secret(self, secret: str) -> None:
        if secret and len(secret) >= 6 and secret not in self._secrets:
            self._secrets = sorted([*self._secrets, secret], key=len, reverse=True)

    def _clean(self, value: Any) -> Any:
        if isinstance(value, str):
            for secret in self._secrets:
                value = value.replace(secret, "<SECRET>")
            return mask_codes(value)
        if isinstance(value, dict):
            return {k: self._clean(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return type(value)(self._clean(v) for v in value)
        if isinstance(value, int | float | bool) or value is None:
            return value
        return self._clean(repr(value))

    def __call__(self, _: Any, __: str, event_dict: MutableMapping[str, Any]) -> Any:
        for key in list(event_dict):
            if key.lower() in _REDACTED_KEYS:
                event_dict[key] = "<REDACTED>"
            else:
                event_dict[key] = self._clean(event_dict[key])
        return event_dict


def processors(redactor: Redactor, *, json_lines: bool) -> list[Any]:
    """The processor chain; tracebacks are rendered to text *before* redaction."""
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if json_lines
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    return [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.StackInfoRenderer(),
        structlog.processors.format_exc_info,
        redactor,
        renderer,
    ]


def configure(
    *,
    secrets: Iterable[str] = (),
    level: str = "INFO",
    stream: TextIO | None = None,
    json_lines: bool | None = None,
) -> Redactor:
    """Configure structlog for the whole process; returns the redactor (to add secrets later)."""
    out = stream or sys.stderr
    as_json = (not out.isatty()) if json_lines is None else json_lines
    redactor = Redactor(secrets)
    _ACTIVE[:] = [redactor]
    structlog.configure(
        processors=processors(redactor, json_lines=as_json),
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.PrintLoggerFactory(out),
        cache_logger_on_first_use=False,
    )
    return redactor


_ACTIVE: list[Redactor] = []  # the redactor of the configured chain, if any


def add_secrets(values: Iterable[str]) -> None:
    """Secrets learned after start (the embedded sandbox's tokens) are redacted from now on."""
    for redactor in _ACTIVE:
        for value in values:
            redactor.add_secret(value)
