"""The outside-call branch of giftbridge's one error tree (the whole tree: :mod:`cards.errors`).

    ClientError                     an outside call failed; carries service and operation
    ├── Retryable                   nothing happened: connect refused, 429, THROTTLED, 502 before
    │   └── RateLimited             ... and the service asked for silence (retry_after seconds)
    ├── AmbiguousOutcome            it may have happened: read timeout, reset or 5xx after sending.
    │                               Never retry blind: read back first (DESIGN.md's recipe).
    └── Permanent                   it did not happen and will not on retry: validation,
        │                           userErrors, 4xx. ``code`` is the userError code or the
        │                           Airtable error type.
        └── CodeTaken               giftCardCreate said TAKEN: the code exists (maybe ours)

``ClientError`` derives from :class:`cards.errors.GiftbridgeError`, the root of the tree; the root
and :class:`cards.errors.InvariantViolation` (our own data contradicts itself) are importable from
here too, so a port's callers need one import for everything a port may raise.

Adapters translate every library exception into these; nothing else escapes a port.
Messages never contain a plaintext code or a secret.
"""

from __future__ import annotations

from cards.errors import GiftbridgeError, InvariantViolation

__all__ = [
    "AmbiguousOutcome",
    "ClientError",
    "CodeTaken",
    "GiftbridgeError",
    "InvariantViolation",
    "Permanent",
    "RateLimited",
    "Retryable",
]


class ClientError(GiftbridgeError):
    def __init__(self, service: str, operation: str, detail: str = "") -> None:
        self.service = service
        self.operation = operation
        self.detail = detail
        super().__init__(f"{service} {operation}: {detail}" if detail else f"{service} {operation}")


class Retryable(ClientError):
    """The call certainly had no effect; it may be sent again (after ``retry_after``)."""

    def __init__(
        self, service: str, operation: str, detail: str = "", *, retry_after: float | None = None
    ) -> None:
        super().__init__(service, operation, detail)
        self.retry_after = retry_after


class RateLimited(Retryable):
    """429 or THROTTLED: the service wants ``retry_after`` seconds of silence."""


class AmbiguousOutcome(ClientError):
    """The call may have taken effect. Read back before doing anything else."""


class Permanent(ClientError):
    """The call was refused and will be refused again; ``code`` says why."""

    def __init__(
        self,
        service: str,
        operation: str,
        detail: str = "",
        *,
        code: str | None = None,
        status: int | None = None,
    ) -> None:
        super().__init__(service, operation, f"{code}: {detail}" if code else detail)
        self.code = code
        self.status = status


class CodeTaken(Permanent):
    """giftCardCreate answered TAKEN: a card with this code exists (perhaps from our own
    earlier attempt whose response was lost)."""

    def __init__(self, operation: str = "giftCardCreate") -> None:
        super().__init__("shopify", operation, "the code is already used", code="TAKEN")
