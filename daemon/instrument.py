"""Counting every outside call for ``/metrics`` without touching the adapters.

:class:`Instrumented` stands in front of a port: each public method call is timed and counted
per service and operation, with the error class when it fails. The port's behaviour is
unchanged (exceptions pass through as they are).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from clients.errors import GiftbridgeError
from daemon.metrics import Metrics


class Instrumented:
    def __init__(self, target: object, service: str, metrics: Metrics) -> None:
        self._target = target
        self._service = service
        self._metrics = metrics

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._target, name)
        if name.startswith("_") or name == "close" or not callable(attribute):
            return attribute
        return self._counted(name, attribute)

    def _counted(self, operation: str, method: Callable[..., Any]) -> Callable[..., Any]:
        def call(*args: Any, **kwargs: Any) -> Any:
            start = time.monotonic()
            try:
                result = method(*args, **kwargs)
            except GiftbridgeError as exc:
                self._record(operation, start, type(exc).__name__)
                raise
            self._record(operation, start, None)
            return result

        return call

    def _record(self, operation: str, start: float, error: str | None) -> None:
        self._metrics.outside_call(self._service, operation, time.monotonic() - start, error)
