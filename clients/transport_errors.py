"""Shared judgement of low-level transport failures: did the request certainly not go out?

requests, urllib3 and aiohttp wrap each other's exceptions (``requests.ConnectionError`` around
``urllib3.MaxRetryError`` around ``NewConnectionError`` around ``ConnectionRefusedError``), so
the answer walks the whole chain: args, ``reason``, ``__cause__`` and ``__context__``.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator

import aiohttp
import urllib3.exceptions

# Failures that happen before a byte of the request reaches the server.
_BEFORE_SENDING: tuple[type[BaseException], ...] = (
    urllib3.exceptions.NewConnectionError,
    urllib3.exceptions.ConnectTimeoutError,
    urllib3.exceptions.NameResolutionError,
    aiohttp.ClientConnectorError,
    aiohttp.ConnectionTimeoutError,
    ConnectionRefusedError,
    socket.gaierror,
)


def _chain(error: BaseException, depth: int = 0) -> Iterator[BaseException]:
    if depth > 8:
        return
    yield error
    nested: list[object] = [*error.args, getattr(error, "reason", None)]
    nested += [error.__cause__, error.__context__]
    for item in nested:
        if isinstance(item, BaseException) and item is not error:
            yield from _chain(item, depth + 1)


def failed_before_sending(error: BaseException) -> bool:
    """True when the chain shows the connection was never made (refused, DNS, connect timeout).

    urllib3 makes ``NewConnectionError`` a subclass of ``ConnectTimeoutError``; a read timeout
    (``ReadTimeoutError``) is not one of these and means the request may have been received.
    """
    return any(isinstance(e, _BEFORE_SENDING) for e in _chain(error))
