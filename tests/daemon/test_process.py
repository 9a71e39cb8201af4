"""Real processes: SIGTERM mid-run, and two processes on one state directory."""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from daemon.lockfile import LockFile
from tests.daemon.conftest import STORE

ROOT = Path(__file__).resolve().parents[2]


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GIFTBRIDGE_", "NOTIFY_"))}
    env["PYTHONPATH"] = str(ROOT)
    env.update(extra)
    return env


@pytest.fixture
def notify_socket() -> Iterator[tuple[socket.socket, str]]:
    name = f"giftbridge-test-{secrets.token_hex(6)}"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind("\0" + name)  # abstract namespace: no path-length limit, nothing to clean up
    sock.settimeout(20)
    try:
        yield sock, "@" + name
    finally:
        sock.close()


def _wait_for(predicate: object, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if callable(predicate) and predicate():
            return True
        time.sleep(0.02)
    return False


def test_sigterm_mid_run_finishes_the_record_and_exits_zero(
    tmp_path: Path, notify_socket: tuple[socket.socket, str]
) -> None:
    sock, address = notify_socket
    with (tmp_path / "child.log").open("w") as log:
        child = subprocess.Popen(
            [sys.executable, "-m", "tests.daemon.stop_child", str(tmp_path)],
            cwd=ROOT,
            env=_env(NOTIFY_SOCKET=address),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            assert sock.recv(4096).decode().startswith("READY=1")
            work = tmp_path / "work.log"
            assert _wait_for(lambda: work.exists() and work.read_text().count("done") >= 2, 20)
            child.send_signal(signal.SIGTERM)
            assert child.wait(timeout=15) == 0
        finally:
            if child.poll() is None:
                child.kill()
                child.wait()

    messages = []
    sock.settimeout(0.5)
    try:
        while True:
            messages.append(sock.recv(4096).decode())
    except TimeoutError:
        pass
    assert any(m.startswith("STOPPING=1") for m in messages)
    started = [line for line in work.read_text().splitlines() if line.startswith("start")]
    finished = [line for line in work.read_text().splitlines() if line.startswith("done")]
    assert len(started) == len(finished) >= 2  # no record left half-done
    rows = json.loads((tmp_path / "status.json").read_text())
    store = rows[STORE]
    assert store["State"] == "Offline" and "Lease Expires At" not in store
    assert int(store["Last Run Processed"]) == len(finished)


def test_a_second_process_on_the_same_state_dir_refuses_with_exit_3(tmp_path: Path) -> None:
    with LockFile(tmp_path):
        result = subprocess.run(
            [sys.executable, "-m", "daemon", "once"],
            cwd=tmp_path,
            env=_env(GIFTBRIDGE_STATE_DIR=str(tmp_path)),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert result.returncode == 3, result.stderr
    assert f"another giftbridge process (pid {os.getpid()})" in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("giftbridge once")]
    assert len(errors) == 1 and "Traceback" not in result.stderr  # one clear line
