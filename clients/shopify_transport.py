"""gql 4 over one long-lived aiohttp session, on a dedicated event-loop thread.

Prong threads call :meth:`GraphQLRunner.execute` synchronously. The runner waits at the shared
cost bucket *in the calling thread* (so the caller's priority applies), then hands the request
to its own event loop, where one ``aiohttp.ClientSession`` serves every thread; nothing opens a
session per call. Every call is bounded twice: aiohttp's connect/read timeouts and gql's
``execute_timeout``. Documents live in ``clients/graphql/<Operation>.graphql`` and are read with
importlib.resources on first use, never at import.

The access token comes from a :class:`~clients.shopify_auth.TokenSource` for each call (a
static token, or the client credentials grant's, renewed as it ages) and travels in that
request's header only. A call answered 401 did not run: the runner asks the source for a new
token and sends the call once more; a second 401 is :class:`~clients.shopify_auth.TokenRejected`.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import re
import threading
from functools import cache
from importlib import resources
from typing import Any

import aiohttp
import structlog
from gql import Client, GraphQLRequest
from gql.transport.aiohttp import AIOHTTPTransport
from gql.transport.exceptions import TransportQueryError, TransportServerError
from graphql import DocumentNode, ExecutionResult, parse

from clients.errors import AmbiguousOutcome, ClientError
from clients.ratelimit import CostBucket
from clients.shopify_auth import TokenRejected, TokenSource
from clients.shopify_errors import SERVICE, STATUS_KEY, translate

log = structlog.get_logger()
#: What an operation is assumed to cost before Shopify has told us its requested cost.
DEFAULT_COST = 50.0


def source(operation: str) -> str:
    """``clients/graphql/<operation>.graphql`` with the fragments it spreads appended (from
    ``clients/graphql/fragments/<Name>.graphql``)."""
    folder = resources.files("clients").joinpath("graphql")
    text = folder.joinpath(f"{operation}.graphql").read_text("utf-8")
    for name in dict.fromkeys(re.findall(r"\.\.\.\s*([A-Z][A-Za-z0-9_]*)", text)):
        text += "\n" + folder.joinpath("fragments", f"{name}.graphql").read_text("utf-8")
    return text


@cache
def document(operation: str) -> DocumentNode:
    """The parsed operation with its fragments (read on first use, never at import)."""
    return parse(source(operation))


class StatusTransport(AIOHTTPTransport):
    """gql's aiohttp transport, keeping each response's HTTP status in its extensions."""

    async def _prepare_result(self, response: aiohttp.ClientResponse) -> ExecutionResult:
        result = await super()._prepare_result(response)
        extensions = dict(result.extensions or {})
        extensions[STATUS_KEY] = response.status
        result.extensions = extensions
        return result


class _Unauthorized(Exception):
    """HTTP 401: the token was refused and nothing ran."""


def _status_of(error: BaseException) -> int | None:
    if isinstance(error, TransportQueryError) and isinstance(error.extensions, dict):
        status = error.extensions.get(STATUS_KEY)
        return status if isinstance(status, int) else None
    if isinstance(error, TransportServerError):
        return error.code
    return None


class GraphQLRunner:
    def __init__(
        self,
        url: str,
        tokens: TokenSource,
        *,
        limiter: CostBucket,
        connect_timeout: float,
        read_timeout: float,
        execute_timeout: float,
        max_wait: float,
    ) -> None:
        self.url = url
        self.tokens = tokens
        self.limiter = limiter
        self._timeouts = (connect_timeout, read_timeout, execute_timeout)
        self.max_wait = max_wait
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._client: Client | None = None
        self._session: Any = None
        self._costs: dict[str, float] = {}

    # --- lifecycle ------------------------------------------------------------------------
    def _started(self) -> tuple[asyncio.AbstractEventLoop, Any]:
        with self._lock:
            if self._loop is None:
                self._start()
            if self._loop is None:  # pragma: no cover - _start sets it or raises
                raise RuntimeError("the GraphQL loop did not start")
            return self._loop, self._session

    def _start(self) -> None:
        connect, read, execute = self._timeouts
        loop = asyncio.new_event_loop()
        thread = threading.Thread(target=loop.run_forever, name="shopify-graphql", daemon=True)
        thread.start()
        transport = StatusTransport(
            url=self.url,
            client_session_args={
                "timeout": aiohttp.ClientTimeout(
                    total=None, connect=connect, sock_connect=connect, sock_read=read
                )
            },
        )
        client = Client(transport=transport, execute_timeout=execute)
        try:
            connecting = client.connect_async()  # type: ignore[no-untyped-call]
            future = asyncio.run_coroutine_threadsafe(connecting, loop)
            self._session = future.result(timeout=execute)
        except BaseException:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout=10)
            loop.close()
            raise
        self._loop, self._thread, self._client = loop, thread, client

    def close(self) -> None:
        self.tokens.close()
        with self._lock:
            loop, thread, client = self._loop, self._thread, self._client
            self._loop = self._thread = self._client = self._session = None
        if loop is None or thread is None or client is None:
            return
        try:
            closing = client.close_async()  # type: ignore[no-untyped-call]
            asyncio.run_coroutine_threadsafe(closing, loop).result(timeout=10)
        finally:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout=10)
            loop.close()

    # --- calls ------------------------------------------------------------------------------
    def execute(
        self,
        operation: str,
        variables: dict[str, Any],
        *,
        mutation: bool,
        sensitive: bool = False,
    ) -> dict[str, Any]:
        """The ``data`` of one operation, or a ClientError (nothing else escapes). A 401 is
        answered by one renewal of the token and one more try."""
        token = self.tokens.token()
        try:
            return self._execute_once(operation, variables, token, mutation, sensitive)
        except _Unauthorized:
            renewed = self.tokens.after_rejection(token)
        if renewed is not None:
            try:
                return self._execute_once(operation, variables, renewed, mutation, sensitive)
            except _Unauthorized:
                pass
        raise TokenRejected(
            operation,
            f"HTTP 401: Shopify rejected the access token; {self.tokens.rejection_hint()}",
        )

    def _execute_once(
        self,
        operation: str,
        variables: dict[str, Any],
        token: str,
        mutation: bool,
        sensitive: bool,
    ) -> dict[str, Any]:
        try:
            self.limiter.acquire(self._costs.get(operation, DEFAULT_COST), max_wait=self.max_wait)
            loop, session = self._started()
            request = GraphQLRequest(
                document(operation), variable_values=variables, operation_name=operation
            )
            headers = {"X-Shopify-Access-Token": token}
            future = asyncio.run_coroutine_threadsafe(
                session.execute(
                    request, get_execution_result=True, extra_args={"headers": headers}
                ),
                loop,
            )
            result = self._wait(future)
        except ClientError:
            raise
        except Exception as exc:
            if _status_of(exc) == 401:
                raise _Unauthorized() from None
            if isinstance(exc, TransportQueryError):
                self._observe(operation, exc.extensions)
            error = translate(exc, operation, mutation=mutation, sensitive=sensitive)
            if isinstance(error, AmbiguousOutcome):
                log.warning(
                    "outcome unknown", service=SERVICE, operation=operation, detail=error.detail
                )
            # No chained cause for code-bearing calls: a library message may quote variables.
            raise error from (None if sensitive else exc)
        self._observe(operation, result.extensions)
        data = result.data
        return data if isinstance(data, dict) else {}

    def _wait(self, future: concurrent.futures.Future[ExecutionResult]) -> ExecutionResult:
        # gql's execute_timeout bounds the call; this outer bound only guards against a stuck loop.
        try:
            return future.result(timeout=self._timeouts[2] + 5)
        except TimeoutError:
            future.cancel()
            raise

    def _observe(self, operation: str, extensions: Any) -> None:
        """Feed the shared bucket from ``extensions.cost`` and remember what this call costs."""
        cost = extensions.get("cost") if isinstance(extensions, dict) else None
        if not isinstance(cost, dict):
            return
        requested = cost.get("requestedQueryCost")
        if isinstance(requested, int | float) and requested > 0:
            self._costs[operation] = float(requested)
        status = cost.get("throttleStatus")
        if isinstance(status, dict):
            try:
                self.limiter.observe(
                    float(status["currentlyAvailable"]),
                    float(status["maximumAvailable"]),
                    float(status["restoreRate"]),
                )
            except (KeyError, TypeError, ValueError):
                log.warning("unreadable throttleStatus", service=SERVICE, operation=operation)
