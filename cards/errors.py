"""The root of every error giftbridge raises on purpose, and the whole tree in one place.

Each class lives with the code that raises it; this module holds the root and the domain's
own two bases. Catch by class, never by message.

    GiftbridgeError                     (here) raised on purpose, never a bug
    ├── DomainError                     (here) a value the domain refuses; also a ValueError,
    │   │                               so validators and parsers that expect one still work
    │   ├── CodeError                   cards.codes: a code of the wrong shape, a sealed token
    │   │                               that does not open
    │   ├── MoneyError                  cards.money: a float, NaN, too many decimals, mixed
    │   │                               currencies
    │   ├── MalformedKey                cards.keys: a string that is not a well-formed action key
    │   └── TransitionNotAllowed        cards.status: a status change outside DESIGN.md's table
    ├── InvariantViolation              (here) our own records contradict each other or the
    │   │                               outside: stop that record for a person, never repair
    │   │                               money automatically
    │   └── IssuanceAbandoned           prongs.issuance: a card that cannot be issued under its
    │                                   key (its Pending row voided, its code someone else's)
    ├── ClientError                     clients.errors: an outside call failed (service,
    │   │                               operation); adapters turn every library error into one
    │   ├── Retryable                   nothing happened: connect refused, 429, THROTTLED
    │   │   └── RateLimited             ... and the service asked for silence (retry_after)
    │   ├── AmbiguousOutcome            it may have happened: read back before anything else
    │   │   └── Unresolved              prongs.exactly_once: still unknown after every read-back
    │   └── Permanent                   refused, and will be again (``code`` says why)
    │       └── CodeTaken               giftCardCreate answered TAKEN
    └── the daemon's errors             daemon/: NotWired (a composition seam not connected),
                                        PreflightFailed (a start check failed),
                                        SandboxStartFailed (the embedded stand-ins did not
                                        start; PortsTaken below it), AlreadyRunning (another
                                        local process holds STATE_DIR's lock)

Outside the tree on purpose: ``SettingsError`` (config.settings, a ValueError pydantic raises
at start), ``CardNotFound`` (prongs.card_view, a LookupError for the CLI), and the adapters'
internal ``CodecError`` / ``ResponseShapeError`` / ``LimiterTimeout``, which never leave their
adapter as themselves (they become ``Permanent``, ``AmbiguousOutcome`` or ``Retryable``).

Messages never contain a plaintext code or a secret.
"""

from __future__ import annotations


class GiftbridgeError(Exception):
    """Base of every error giftbridge raises on purpose."""


class DomainError(GiftbridgeError, ValueError):
    """A value the domain refuses (a code, an amount, a key, a status change)."""


class InvariantViolation(GiftbridgeError):
    """Our records contradict each other or the outside; a person must look."""
