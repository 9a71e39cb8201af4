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
import sys
from collections.abc import Iterable, MutableMapping
from typing import Any, TextIO

import structlog

from cards.masking import mask_codes as mask_codes  # re-exported for the daemon

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


class Redactor:
    """A structlog processor: masks codes everywhere and removes the given secrets."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets = sorted({s for s in secrets if s and len(s) >= 6}, key=len, reverse=True)

    def add_secret(self, secret: str) -> None:
        if secret and len(secret) >= 6 and secret not in self._secrets:
            self._secrets = sorted([*self._secrets, secret], key=len, reverse=True)

    def clean_text(self, text: str) -> str:
        """``text`` with every known secret replaced and every code masked."""
        result: str = self._clean(text)
        return result

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


def scrub(text: str) -> str:
    """``text`` as a log line would show it (known secrets replaced, codes masked), for words
    that leave the process another way: an alert's email and receipt."""
    for redactor in _ACTIVE:
        text = redactor.clean_text(text)
    return mask_codes(text)


def add_secrets(values: Iterable[str]) -> None:
    """Secrets learned after start (the embedded sandbox's tokens) are redacted from now on."""
    for redactor in _ACTIVE:
        for value in values:
            redactor.add_secret(value)
