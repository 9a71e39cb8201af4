"""The store prong's book of failed attempts survives restarts in STATE_DIR."""

from __future__ import annotations

import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

from daemon.attempts_file import FILENAME, FileAttempts
from prongs.containment import DIED

NOW = datetime(2026, 11, 22, 12, tzinfo=UTC)


def test_failures_survive_a_restart_and_a_death_in_flight_counts(tmp_path: Path) -> None:
    book = FileAttempts(tmp_path, NOW)
    book.begin(["recA", "recB"], NOW)
    book.end({"recA": "TypeError: typed 7KQ2M9XH4TPC", "recB": None}, NOW)
    book.begin(["recA"], NOW)  # then the process is killed
    again = FileAttempts(tmp_path, NOW)
    assert again.count("recA") == 2 and again.last_error("recA") == DIED
    assert again.count("recB") == 0 and again.in_flight == set()
    assert "7KQ2M9XH4TPC" not in (tmp_path / FILENAME).read_text("utf-8")
    assert stat.S_IMODE((tmp_path / FILENAME).stat().st_mode) == 0o600


def test_an_unreadable_book_starts_empty(tmp_path: Path) -> None:
    (tmp_path / FILENAME).write_text("{not json", "utf-8")
    book = FileAttempts(tmp_path, NOW)
    assert book.failures == {} and book.in_flight == set()
    book.begin(["recA"], NOW)
    book.end({"recA": "boom"}, NOW)
    assert FileAttempts(tmp_path, NOW).count("recA") == 1


def test_old_failures_are_forgotten(tmp_path: Path) -> None:
    book = FileAttempts(tmp_path, NOW)
    book.begin(["recA"], NOW)
    book.end({"recA": "boom"}, NOW)
    later = NOW + timedelta(days=8)
    book.begin(["recB"], later)
    assert FileAttempts(tmp_path, later).count("recA") == 0


def test_a_missing_state_dir_keeps_the_book_in_memory(tmp_path: Path) -> None:
    book = FileAttempts(tmp_path / "missing", NOW)
    book.begin(["recA"], NOW)
    book.end({"recA": "boom"}, NOW)
    assert book.count("recA") == 1
