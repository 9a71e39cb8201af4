"""One giftbridge process per state directory: ``flock`` on ``STATE_DIR/giftbridge.lock``.

The Status lease cannot be atomic (Airtable has no compare-and-set), so two local processes
(``run`` and ``once``, or two ``run``s) are kept apart here. ``flock`` locks belong to the open
file, so the kernel drops the lock when the process dies, even on ``kill -9``: a stale lock file
never blocks a restart. The file is never deleted (deleting it would let a third process lock a
fresh inode while the second still holds the old one); it holds the holder's pid for the message.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from types import TracebackType

from clients.errors import GiftbridgeError

LOCK_NAME = "giftbridge.lock"


class AlreadyRunning(GiftbridgeError):
    """Another process holds the lock on this state directory."""


class LockFile:
    def __init__(self, state_dir: Path, name: str = LOCK_NAME) -> None:
        self.path = Path(state_dir) / name
        self._fd: int | None = None

    def acquire(self) -> LockFile:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read(fd)
            os.close(fd)
            raise AlreadyRunning(
                f"another giftbridge process{f' (pid {holder})' if holder else ''} is using "
                f"{self.path.parent}: stop it first, or point GIFTBRIDGE_STATE_DIR elsewhere"
            ) from None
        except BaseException:
            os.close(fd)
            raise
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def __enter__(self) -> LockFile:
        return self.acquire()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()


def _read(fd: int) -> str:
    try:
        return os.pread(fd, 32, 0).decode("ascii", "replace").strip()
    except OSError:
        return ""
