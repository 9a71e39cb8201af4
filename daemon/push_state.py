"""The webhook giftbridge keeps, remembered in ``STATE_DIR/airtable-webhook.json``.

Airtable shows a webhook's MAC secret once, at creation, and the payload cursor is ours to
keep: both live in this file, written atomically (a temporary file in the same directory,
fsync, rename) and readable by the service user alone (it holds the MAC secret). A file that is
missing, unreadable, or about another base is a lost cursor: the push loop then creates a new
webhook, and the safety-net poll catches whatever happened meanwhile.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import structlog

from clients.atomic_file import write_atomically

log = structlog.get_logger(__name__)
FILENAME = "airtable-webhook.json"


@dataclass(frozen=True, slots=True)
class WebhookState:
    base_id: str
    webhook_id: str
    mac_secret_base64: str  # never logged (repr hides it)
    cursor: int
    notification_url: str | None

    def __repr__(self) -> str:
        return (
            f"WebhookState(base_id={self.base_id!r}, webhook_id={self.webhook_id!r}, "
            f"cursor={self.cursor}, notification_url={self.notification_url!r})"
        )

    def at(self, cursor: int) -> WebhookState:
        return replace(self, cursor=cursor)


class WebhookStateFile:
    def __init__(self, state_dir: Path) -> None:
        self.path = state_dir / FILENAME

    def load(self, base_id: str) -> WebhookState | None:
        """The saved state for ``base_id``, or None (missing, unreadable, another base)."""
        try:
            data = json.loads(self.path.read_text("utf-8"))
            state = WebhookState(
                base_id=str(data["base_id"]),
                webhook_id=str(data["webhook_id"]),
                mac_secret_base64=str(data["mac_secret_base64"]),
                cursor=int(data["cursor"]),
                notification_url=data.get("notification_url"),
            )
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError) as exc:
            log.warning("push.state_unreadable", path=str(self.path), error=type(exc).__name__)
            return None
        if state.base_id != base_id or state.cursor < 1:
            log.warning("push.state_for_another_base", path=str(self.path))
            return None
        return state

    def save(self, state: WebhookState) -> None:
        """Replace the file atomically: a reader sees the old state or the new one."""
        write_atomically(self.path, json.dumps(asdict(state)), durable=True)

    def forget(self) -> None:
        self.path.unlink(missing_ok=True)
