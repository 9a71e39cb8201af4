"""The store prong's :class:`~prongs.containment.AttemptBook`, kept in ``STATE_DIR``.

``STATE_DIR/attempts.json`` holds the requests whose handling failed unexpectedly (count, last
failure line with codes masked, when) and the requests being handled right now. It is written
atomically (a temporary file, then ``os.replace``; mode 0600) before and after each group or
record, a few hundred bytes, only by the process that holds the lock file. Loading it counts
the requests that were in flight as failed: that process died while handling them.

A missing or unreadable file starts an empty book (with a warning): losing it costs at most
three more attempts of a failing request, each safe by the exactly-once recipe.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import structlog

from clients.atomic_file import write_atomically
from prongs.containment import AttemptBook, Failures

log = structlog.get_logger(__name__)
FILENAME = "attempts.json"


class FileAttempts(AttemptBook):
    def __init__(self, state_dir: Path, now: datetime) -> None:
        super().__init__()
        self.path = state_dir / FILENAME
        self._load()
        self.settle(now)

    def _load(self) -> None:
        try:
            data = json.loads(self.path.read_text("utf-8"))
            self.failures = {
                record_id: Failures(
                    int(f["count"]), str(f["last_error"]), datetime.fromisoformat(f["at"])
                )
                for record_id, f in data.get("failures", {}).items()
            }
            self.in_flight = {str(r) for r in data.get("in_flight", [])}
        except FileNotFoundError:
            return
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            log.warning("attempts.unreadable", path=str(self.path), error=str(exc))
            self.failures, self.in_flight = {}, set()

    def _save(self) -> None:
        data: dict[str, Any] = {
            "failures": {
                record_id: {
                    "count": f.count,
                    "last_error": f.last_error,  # masked when recorded
                    "at": f.at.isoformat(),
                }
                for record_id, f in self.failures.items()
            },
            "in_flight": sorted(self.in_flight),
        }
        try:
            write_atomically(self.path, json.dumps(data))
        except OSError as exc:  # a full disk must not stop the tills: the book stays in memory
            log.warning("attempts.unsaved", path=str(self.path), error=str(exc))
