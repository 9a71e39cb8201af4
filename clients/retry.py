"""The one retry layer of every adapter: tenacity, matching error classes, never strings.

- ``Retryable`` (nothing happened) is retried with capped, jittered exponential backoff, or after
  ``retry_after`` when the service asked for silence.
- ``AmbiguousOutcome`` is retried only for calls the caller declares ``idempotent`` (a PATCH by
  record id, an upsert on a key, a Klaviyo event with its ``unique_id``, ``tagsAdd``); a create
  is never re-sent blind.
- ``Permanent`` and everything else propagate at once.

Every loop stops after ``attempts`` tries AND before a wait would cross ``deadline`` seconds from
the first try, so a 30 s Airtable silence surfaces as ``RateLimited`` instead of eating the run.

Every outside call of every adapter passes through :meth:`RetryPolicy.call`, so the policy's
``on_call`` hook sees each one once it is over: service, operation, seconds (retries included),
and the class name of the error the caller gets, if any (``check``'s too: an answer that says
no, such as Shopify's userErrors, is a failed call that is not retried). The composition root
points the hook at ``/metrics``; the adapters know nothing of metrics.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

import structlog
from tenacity import RetryCallState, Retrying, retry_if_exception_type

from clients.errors import AmbiguousOutcome, ClientError, Retryable

T = TypeVar("T")
CallHook = Callable[[str, str, float, str | None], None]
"""``(service, operation, seconds, error class name or None)`` for each call."""
log = structlog.get_logger()
_jitter = random.Random()  # noqa: S311 - backoff jitter, not a secret


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    attempts: int = 4
    deadline: float = 20.0
    base_delay: float = 0.25
    max_delay: float = 4.0
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False)
    clock: Callable[[], float] = field(default=time.monotonic, repr=False)
    on_call: CallHook | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.attempts < 1 or self.deadline <= 0:
            raise ValueError("a retry policy needs at least one attempt and a positive deadline")

    def wait_for(self, error: BaseException | None, attempt: int) -> float:
        """Seconds to wait before attempt ``attempt + 1``."""
        retry_after = getattr(error, "retry_after", None)
        if isinstance(retry_after, int | float) and retry_after > 0:
            return float(retry_after) + _jitter.uniform(0, min(1.0, retry_after / 10))
        ceiling = min(self.max_delay, self.base_delay * 2 ** (attempt - 1))
        return _jitter.uniform(ceiling / 2, ceiling)

    def call(
        self,
        fn: Callable[[], T],
        *,
        service: str,
        operation: str,
        idempotent: bool = False,
        check: Callable[[T], None] | None = None,
    ) -> T:
        """Run ``fn`` under this policy; the last error propagates unchanged. ``check`` reads
        the answer once it is in and may refuse it (its error is not retried)."""
        started = time.monotonic()
        error: str | None = None
        try:
            result = self._retrying(fn, service, operation, idempotent)
            if check is not None:
                check(result)
            return result
        except Exception as exc:
            error = type(exc).__name__
            raise
        finally:
            if self.on_call is not None:
                self.on_call(service, operation, time.monotonic() - started, error)

    def _retrying(self, fn: Callable[[], T], service: str, operation: str, idempotent: bool) -> T:
        start = self.clock()
        kinds: tuple[type[BaseException], ...] = (
            (Retryable, AmbiguousOutcome) if idempotent else (Retryable,)
        )

        def wait(state: RetryCallState) -> float:
            error = state.outcome.exception() if state.outcome else None
            return self.wait_for(error, state.attempt_number)

        def stop(state: RetryCallState) -> bool:
            elapsed = self.clock() - start
            return (
                state.attempt_number >= self.attempts
                or elapsed + state.upcoming_sleep >= self.deadline
            )

        def before_sleep(state: RetryCallState) -> None:
            error = state.outcome.exception() if state.outcome else None
            log.warning(
                "retrying",
                service=service,
                operation=operation,
                attempt=state.attempt_number,
                error=type(error).__name__,
                detail=error.detail if isinstance(error, ClientError) else None,
                wait=round(state.upcoming_sleep, 3),
            )

        retrying = Retrying(
            retry=retry_if_exception_type(kinds),
            stop=stop,
            wait=wait,
            sleep=self.sleep,
            before_sleep=before_sleep,
            reraise=True,
        )
        return retrying(fn)


def policy_for(
    call_timeout: float, run_budget: float, attempts: int = 4, *, on_call: CallHook | None = None
) -> RetryPolicy:
    """The default policy: waits end by ``deadline`` and the last try (one call timeout more)
    still ends well inside the run budget."""
    deadline = max(0.5, min(run_budget / 2, run_budget - 2 * call_timeout))
    return RetryPolicy(attempts=attempts, deadline=deadline, on_call=on_call)
