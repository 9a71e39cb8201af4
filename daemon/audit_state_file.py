"""The audit's state in ``STATE_DIR/audit-state.json``: an :class:`~prongs.audit_state.AuditStore`.

Written atomically (a temporary file in the same directory, flushed and fsynced, then
``os.replace``), so a crash leaves the old state or the new one, never half of one. A missing
file is a fresh state (the first audit is a full pass); an unreadable one is logged and replaced
by a fresh state: losing it costs a full pass, never correctness (the receipts' keys keep every
effect single).
"""

from __future__ import annotations

import json
from pathlib import Path

import structlog

from clients.atomic_file import write_atomically
from prongs.audit_state import AuditState

log = structlog.get_logger(__name__)

FILE_NAME = "audit-state.json"


class JsonFileStore:
    def __init__(self, state_dir: Path) -> None:
        self.path = Path(state_dir) / FILE_NAME

    def load(self) -> AuditState:
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
            return AuditState.from_json(raw)
        except FileNotFoundError:
            return AuditState()
        except (OSError, ValueError, TypeError, KeyError) as exc:
            log.warning("audit.state_unreadable", path=str(self.path), error=str(exc))
            return AuditState()

    def save(self, state: AuditState) -> None:
        text = json.dumps(state.to_json(), indent=1, sort_keys=True)
        write_atomically(self.path, text, durable=True)
