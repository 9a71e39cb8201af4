"""Every log line of a seed, rendered through the daemon's own processor chain (the redactor
included), kept in memory so the invariants can scan what would have reached the journal."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import structlog

from daemon.logging import Redactor, processors


class LineSink:
    """A structlog logger that keeps each rendered line, whatever the level's method name."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def __getattr__(self, name: str) -> Callable[..., None]:
        return self._keep

    def _keep(self, message: Any, *args: Any, **kwargs: Any) -> None:
        self.lines.append(str(message))


@contextmanager
def captured_lines() -> Iterator[LineSink]:
    """Configure structlog as the daemon does (JSON lines, every level) into a sink; restore
    the previous configuration afterwards."""
    previous = structlog.get_config()
    sink = LineSink()
    structlog.configure(
        processors=processors(Redactor(), json_lines=True),
        wrapper_class=structlog.make_filtering_bound_logger(logging.DEBUG),
        logger_factory=lambda *args: sink,
        cache_logger_on_first_use=False,
    )
    try:
        yield sink
    finally:
        structlog.configure(**previous)
