"""sd_notify over a real datagram socket, WATCHDOG_USEC parsing, the timing order."""

from __future__ import annotations

import os
import secrets
import socket
from pathlib import Path

import pytest

from config.settings import SettingsError
from daemon.notify import Notifier, check_timing, watchdog_seconds


def test_messages_reach_an_abstract_socket() -> None:
    name = f"gb-notify-{secrets.token_hex(6)}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind("\0" + name)
        sock.settimeout(5)
        notifier = Notifier.from_env({"NOTIFY_SOCKET": "@" + name})
        assert notifier.enabled
        assert notifier.ready("running 3 prongs")
        assert sock.recv(1024) == b"READY=1\nSTATUS=running 3 prongs"
        assert notifier.watchdog()
        assert sock.recv(1024) == b"WATCHDOG=1"
        assert notifier.stopping()
        assert sock.recv(1024).startswith(b"STOPPING=1\n")


def test_messages_reach_a_path_socket(tmp_path: Path) -> None:
    path = tmp_path / "n.sock"
    if len(str(path)) > 100:
        pytest.skip("temporary path too long for AF_UNIX")
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(str(path))
        sock.settimeout(5)
        assert Notifier(str(path)).status("line one\nline two")
        assert sock.recv(1024) == b"STATUS=line one line two"


def test_without_systemd_every_send_is_a_quiet_no_op(tmp_path: Path) -> None:
    assert not Notifier.from_env({}).ready()
    assert not Notifier(str(tmp_path / "missing.sock")).watchdog()  # logged, never raised


def test_watchdog_usec_is_parsed_and_checked_against_our_pid() -> None:
    assert watchdog_seconds({}) is None
    assert watchdog_seconds({"WATCHDOG_USEC": "300000000"}) == 300.0
    mine = {"WATCHDOG_USEC": "120000000", "WATCHDOG_PID": str(os.getpid())}
    assert watchdog_seconds(mine) == 120.0
    assert watchdog_seconds({"WATCHDOG_USEC": "120000000", "WATCHDOG_PID": "1"}) is None
    assert watchdog_seconds({"WATCHDOG_USEC": "soon"}) is None
    assert watchdog_seconds({"WATCHDOG_USEC": "0"}) is None


def test_the_timing_order_is_enforced() -> None:
    check_timing(call_timeout=10, run_budget=45, lease=90, watchdog=300)
    check_timing(call_timeout=10, run_budget=45, lease=90, watchdog=None)
    with pytest.raises(SettingsError, match="WatchdogSec"):
        check_timing(call_timeout=10, run_budget=45, lease=90, watchdog=90)
    with pytest.raises(SettingsError, match="GIFTBRIDGE_RUN_BUDGET_SECONDS"):
        check_timing(call_timeout=50, run_budget=45, lease=90, watchdog=None)
