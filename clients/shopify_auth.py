"""Shopify access tokens: a legacy custom app's static token, or a Dev Dashboard app's tokens from
the client credentials grant (DESIGN.md, Shopify credentials).

The grant: ``POST <origin>/admin/oauth/access_token`` with the form body
``grant_type=client_credentials&client_id=…&client_secret=…`` answers
``{"access_token", "scope", "expires_in"}`` (about 24 hours). :class:`ClientCredentialsTokens`

- fetches a token on first use (the composition root's start checks make that the start) and
  keeps it in memory only;
- renews it when a tenth of its life is left, and at once when a call answers 401
  (:meth:`~ClientCredentialsTokens.after_rejection`; the runner then retries that call once: a 401
  means nothing ran);
- renews one at a time: the lock is held during the grant call, so threads that need a token
  meanwhile wait for the new one instead of asking for their own;
- bounds every grant call (timeouts, the adapter's retry policy) and, after a failed renewal,
  waits a while before the next attempt, using the old token while it still lives;
- once renewals keep failing, calls ``on_renewal_failing`` (the alert), and once the token has
  expired, refuses at once with :class:`TokenUnavailable` and says why in one line
  (:meth:`~ClientCredentialsTokens.stopped`, shown on the status page, and the reason the
  daemon's Shopify-using prongs skip their runs so that store requests wait untouched).

Neither the secret nor a token appears in a log line, an error, a repr or the status page: every
token is handed to ``on_token`` (the log redactor) the moment it arrives, and the token
endpoint's own error text has the secret removed before it is shown.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

import requests
import structlog
from pydantic import SecretStr

from clients.errors import ClientError, Permanent, Retryable
from clients.retry import RetryPolicy
from clients.shopify_grant import (
    OPERATION,
    SERVICE,
    CredentialsRejected,
    Grant,
    request_grant,
)

log = structlog.get_logger()
RENEW_WHEN_LEFT = 0.1  # renew once a tenth of the token's life is left
FAILING_AFTER = 2  # failed renewals in a row (each already retried) before the alert
MIN_GAP, MAX_GAP = 1.0, 60.0  # seconds between renewal attempts after a failure

TokenHook = Callable[[str], None]


class TokenRejected(Permanent):
    """The Admin API answered 401 to the token, and no other token can be had for it."""

    def __init__(self, operation: str, detail: str) -> None:
        super().__init__(SERVICE, operation, detail, code="UNAUTHORIZED", status=401)


class TokenUnavailable(Retryable):
    """No usable token: the call was not sent. ``retry_after``: until the next renewal attempt;
    ``cause``: the last renewal's error (e.g. :class:`CredentialsRejected`)."""

    def __init__(self, detail: str, *, retry_after: float, cause: ClientError | None) -> None:
        super().__init__(SERVICE, OPERATION, detail, retry_after=retry_after)
        self.cause = cause


class TokenSource(Protocol):
    def token(self) -> str:
        """A token to send now (fetched or renewed as needed); raises a ClientError."""
        ...

    def after_rejection(self, rejected: str) -> str | None:
        """A call sent with ``rejected`` answered 401: a new token to retry it once with, or
        None when this source has no other token."""
        ...

    def rejection_hint(self) -> str:
        """What to check when Shopify rejects this source's token."""
        ...

    def stopped(self, margin: float = 0.0) -> str | None:
        """One line when Shopify calls cannot go on (or, with ``margin``, will not last that
        many seconds more) because no token can be had; None otherwise."""
        ...

    def close(self) -> None: ...


class StaticTokenSource:
    """A legacy admin-created custom app's token: it never changes and cannot be renewed."""

    def __init__(self, token: SecretStr) -> None:
        self._token = token

    def token(self) -> str:
        return self._token.get_secret_value()

    def after_rejection(self, rejected: str) -> str | None:
        return None

    def rejection_hint(self) -> str:
        return (
            "check GIFTBRIDGE_SHOPIFY_ACCESS_TOKEN (a custom app's Admin API access token, "
            "shpat_…) and that the app is still installed"
        )

    def stopped(self, margin: float = 0.0) -> str | None:
        return None

    def close(self) -> None:
        return None

    def __repr__(self) -> str:
        return "StaticTokenSource(<token>)"


@dataclass
class _State:
    token: SecretStr | None = None
    expires_at: float = 0.0  # monotonic seconds
    renew_at: float = 0.0
    next_try: float = 0.0  # no renewal attempt before this, after a failure
    failures: int = 0  # failed renewals in a row
    problem: str | None = None  # the last failure, one line
    error: ClientError | None = None  # the last failure itself
    stopped_since: datetime | None = None  # when calls had to stop (no live token)
    reported: set[str] = field(default_factory=set)  # alerts already raised this streak


class ClientCredentialsTokens:
    """Tokens of a Dev Dashboard app (see the module docstring)."""

    def __init__(
        self,
        url: str,
        client_id: str,
        client_secret: SecretStr,
        *,
        timeouts: tuple[float, float],
        retry: RetryPolicy,
        clock: Callable[[], float] = time.monotonic,
        on_token: TokenHook | None = None,
        on_renewal_failing: TokenHook | None = None,
    ) -> None:
        self.url = url
        self.client_id = client_id
        self._secret = client_secret
        self._timeouts = timeouts
        self._retry = retry
        self._clock = clock
        self._on_token = on_token
        self._on_failing = on_renewal_failing
        self._lock = threading.Lock()
        self._state = _State()
        self._session = requests.Session()
        self.scopes: frozenset[str] = frozenset()  # of the latest token

    def __repr__(self) -> str:
        return f"ClientCredentialsTokens(url={self.url!r}, client_id={self.client_id!r})"

    def close(self) -> None:
        self._session.close()

    # --- the TokenSource protocol -------------------------------------------------------------
    def token(self) -> str:
        alerts: list[str] = []
        try:
            with self._lock:
                return self._current(alerts)
        finally:
            self._raise_alerts(alerts)

    def after_rejection(self, rejected: str) -> str | None:
        alerts: list[str] = []
        try:
            with self._lock:
                s = self._state
                if s.token is not None and s.token.get_secret_value() != rejected:
                    return s.token.get_secret_value()  # another thread has renewed meanwhile
                log.warning("shopify.token_rejected", service=SERVICE, detail="HTTP 401: renewing")
                s.token, s.expires_at, s.renew_at = None, 0.0, 0.0  # never sent again
                return self._current(alerts)
        finally:
            self._raise_alerts(alerts)

    def rejection_hint(self) -> str:
        return (
            "a token fresh from the client credentials grant was refused: is the app installed "
            "on the shop (Dev Dashboard > your app > Install)?"
        )

    def stopped(self, margin: float = 0.0) -> str | None:
        with self._lock:
            s = self._state
            if s.failures == 0:
                return None  # nothing failed: the next call fetches a token
            if s.token is not None and self._clock() + margin < s.expires_at:
                return None
            since = s.stopped_since or datetime.now(UTC)
            return (
                "Shopify calls stopped: no access token since "
                f"{since:%Y-%m-%d %H:%M} UTC ({s.problem}); store requests wait as they are "
                "and go on once a token is had"
            )

    # --- inside the lock ------------------------------------------------------------------------
    def _current(self, alerts: list[str]) -> str:
        s, now = self._state, self._clock()
        if s.token is not None and now < s.renew_at:
            return s.token.get_secret_value()
        if now < s.next_try:
            if s.token is not None and now < s.expires_at:
                return s.token.get_secret_value()  # the renewal failed lately; this one lives
            raise self._unavailable(now)
        return self._renew(alerts)

    def _renew(self, alerts: list[str]) -> str:
        s = self._state
        try:
            grant = self._retry.call(
                self._grant_once, service=SERVICE, operation=OPERATION, idempotent=True
            )
        except ClientError as exc:
            self._failed(exc, alerts)
            now = self._clock()
            if s.token is not None and now < s.expires_at:
                return s.token.get_secret_value()
            raise self._unavailable(now) from None
        now = self._clock()
        value = grant.token.get_secret_value()
        if self._on_token is not None:
            self._on_token(value)  # redacted from every log line from now on
        if s.failures:
            log.info("shopify.token_renewed", service=SERVICE, after_failures=s.failures)
        self._state = _State(
            token=grant.token,
            expires_at=now + grant.life,
            renew_at=now + grant.life * (1 - RENEW_WHEN_LEFT),
        )
        self.scopes = grant.scopes
        return value

    def _failed(self, exc: ClientError, alerts: list[str]) -> None:
        s, now = self._state, self._clock()
        s.failures += 1
        s.problem, s.error = _problem_line(exc), exc
        live = s.token is not None and now < s.expires_at
        left = s.expires_at - now if live else 0.0
        # While the old token lives, try again when a quarter of what is left has passed; a
        # refused id or secret is not asked about again for a minute; a network failure
        # after 2, 4, 8 ... seconds.
        if live:
            gap = left / 4
        elif isinstance(exc, Permanent):
            gap = MAX_GAP
        else:
            gap = 2.0 ** min(s.failures, 6)
        s.next_try = now + min(MAX_GAP, max(MIN_GAP, gap))
        log.warning(
            "shopify.token_renewal_failed",
            service=SERVICE,
            failures=s.failures,
            detail=s.problem,
            token_left_seconds=round(left, 1),
        )
        if not live and s.stopped_since is None:
            s.stopped_since = datetime.now(UTC)
        if s.failures >= FAILING_AFTER and "failing" not in s.reported:
            s.reported.add("failing")
            alerts.append(f"Shopify access token renewal keeps failing: {s.problem}")
        if not live and "stopped" not in s.reported:
            s.reported.add("stopped")
            alerts.append(f"Shopify calls stopped: no access token ({s.problem})")

    def _unavailable(self, now: float) -> TokenUnavailable:
        s = self._state
        return TokenUnavailable(
            f"no Shopify access token ({s.problem or 'none fetched yet'})",
            retry_after=max(0.0, s.next_try - now),
            cause=s.error,
        )

    def _raise_alerts(self, alerts: list[str]) -> None:
        """Outside the lock: the hook may take its time (an alert email)."""
        for reason in alerts:
            if self._on_failing is not None:
                try:
                    self._on_failing(reason)
                except Exception:  # an alert that fails must not break the Shopify call path
                    log.exception("shopify.token_alert_failed", service=SERVICE)

    # --- the grant call -------------------------------------------------------------------------
    def _grant_once(self) -> Grant:
        secret = self._secret.get_secret_value()
        return request_grant(self._session, self.url, self.client_id, secret, self._timeouts)


def _problem_line(exc: ClientError) -> str:
    detail = exc.detail.removeprefix(f"{getattr(exc, 'code', '')}: ")
    if isinstance(exc, CredentialsRejected):
        return f"the client id or secret was rejected: {detail}"
    return detail or type(exc).__name__
