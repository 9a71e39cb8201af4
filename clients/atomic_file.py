"""Replacing a small state file atomically: a reader, or the next process after a crash, sees the
old file or the new one, never half of one.

Used for everything giftbridge keeps in ``STATE_DIR`` (the shared Airtable budget, the lease's
owner list, the book of failed attempts, the audit's state, push's webhook state).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_atomically(path: Path, text: str, *, durable: bool = False) -> None:
    """Write ``text`` to a temporary file beside ``path`` (mode 0600), then rename it over
    ``path``; the temporary file is removed if anything fails. ``durable``: flushed to the disk
    before the rename, for state whose loss costs more than a re-read (the audit's journal, push's
    cursor); the hot paths (the budget, written at every Airtable call) skip it."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:  # mkstemp's mode is 0600
            out.write(text)
            if durable:
                out.flush()
                os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
