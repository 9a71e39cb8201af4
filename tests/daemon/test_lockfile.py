"""The lock file keeps a second local process off the same state directory."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from daemon.lockfile import AlreadyRunning, LockFile


def test_a_second_lock_on_the_same_state_dir_is_refused(tmp_path: Path) -> None:
    first = LockFile(tmp_path).acquire()
    try:
        # flock belongs to the open file: a second open, even in this process, conflicts
        with pytest.raises(AlreadyRunning, match=rf"pid {os.getpid()}"):
            LockFile(tmp_path).acquire()
    finally:
        first.release()
    with LockFile(tmp_path) as again:  # released: the next one gets it
        assert again.held
    assert not again.held


def test_the_lock_file_is_private_and_names_its_holder(tmp_path: Path) -> None:
    state = tmp_path / "new" / "state"
    with LockFile(state) as lock:
        assert lock.path.read_text().strip() == str(os.getpid())
        assert stat.S_IMODE(lock.path.stat().st_mode) == 0o600
    assert lock.path.exists()  # never deleted: see the module docstring


def test_other_state_dirs_do_not_conflict(tmp_path: Path) -> None:
    with LockFile(tmp_path / "a"), LockFile(tmp_path / "b") as b:
        assert b.held
