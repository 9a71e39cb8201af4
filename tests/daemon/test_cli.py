"""The ``giftbridge`` command: help, exit codes, ``once`` with fake jobs, ``check``, ``sandbox``."""

from __future__ import annotations

import argparse
import http.client
import os
import signal
import socket
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from pydantic import SecretStr

from config.layout import Status
from config.settings import Settings
from daemon import bootstrap, cli
from daemon.embedded_sandbox import SandboxStartFailed
from daemon.lockfile import LockFile
from daemon.metrics import Metrics
from daemon.runner import ProngJob
from daemon.service import Service
from prongs.report import Budget, Gate, RunReport
from tests.daemon.conftest import PURCHASES, REDEMPTIONS, STORE, WorkJob, idle_job
from tests.fakes import World


class FakeAdmin:
    def __init__(self, problems: list[str] | None = None) -> None:
        self.problems = problems or []
        self.inits = 0

    def check(self) -> list[str]:
        return list(self.problems)

    def init(self) -> str:
        self.inits += 1
        return "created 9 tables"


def _error_lines(stderr: str) -> list[str]:
    """The command's own error lines (log lines on stderr are JSON)."""
    return [line for line in stderr.splitlines() if line.startswith("giftbridge ")]


@pytest.fixture
def state(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    for name in list(os.environ):
        if name.startswith("GIFTBRIDGE_") or name in ("NOTIFY_SOCKET", "WATCHDOG_USEC"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)  # no stray .env
    monkeypatch.setenv("GIFTBRIDGE_STATE_DIR", str(tmp_path / "state"))
    return tmp_path / "state"


@pytest.fixture
def wired(
    monkeypatch: pytest.MonkeyPatch, state: Path, world: World
) -> Iterator[tuple[World, list[ProngJob], FakeAdmin]]:
    jobs = [WorkJob(STORE, items=2).job(), idle_job(PURCHASES), idle_job(REDEMPTIONS)]
    admin = FakeAdmin()

    def connect(settings: Settings, *, demo: bool = False, **_: Any) -> tuple[Settings, Any]:
        # Stands in for the embedded sandbox (tested in test_bootstrap): a pepper and a key.
        update = {
            "code_pepper": SecretStr("p" * 32),
            "code_key": SecretStr(Fernet.generate_key().decode()),
        }
        return settings.model_copy(update=update), lambda: None

    def clients(settings: Settings, metrics: Metrics, **_: Any) -> bootstrap.Clients:
        assert settings.code_key is not None
        return bootstrap.Clients(
            world.airtable, world.shopify, world.email, world.certificates, base_admin=admin
        )

    monkeypatch.setattr(bootstrap, "connect", connect)
    monkeypatch.setattr(bootstrap, "build_clients", clients)
    monkeypatch.setattr(bootstrap, "build_prong_jobs", lambda settings, c: list(jobs))
    yield world, jobs, admin


def test_help_explains_each_command_and_the_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["--help"])
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    for word in ("run", "once", "sandbox", "check", "base init", "--debug"):
        assert word in text
    assert "exit codes:" in text and "3  another local giftbridge process" in text
    assert "card show" in text and "card pdf" in text
    with pytest.raises(SystemExit):
        cli.main(["once", "--help"])
    assert "--prong" in capsys.readouterr().out


def test_once_runs_every_prong_and_exits_0(
    wired: tuple[World, list[ProngJob], FakeAdmin], capsys: pytest.CaptureFixture[str]
) -> None:
    world, _, _ = wired
    assert cli.main(["once"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith(f"{STORE}: ran in ") and "processed 2 (Success 2)" in lines[0]
    assert lines[1].startswith(f"{PURCHASES}: ran in ") and "nothing to do" in lines[1]
    assert len(lines) == 3
    store = next(r for r in world.airtable.rows(Status.TABLE) if r[Status.PRONG] == STORE)
    assert store[Status.LAST_RUN_PROCESSED] == 2 and store[Status.STATE] == "Offline"


def test_once_prints_skips_and_still_exits_0(
    wired: tuple[World, list[ProngJob], FakeAdmin], capsys: pytest.CaptureFixture[str]
) -> None:
    world, _, _ = wired
    world.airtable.insert(Status.TABLE, {Status.PRONG: STORE, Status.STATE: "Paused"})
    assert cli.main(["once"]) == 0
    assert f"{STORE}: skipped: Paused" in capsys.readouterr().out


def test_once_exits_1_when_a_run_failed(
    wired: tuple[World, list[ProngJob], FakeAdmin], capsys: pytest.CaptureFixture[str]
) -> None:
    _, jobs, _ = wired

    def broken(budget: Budget, gate: Gate) -> RunReport:
        raise TimeoutError("shopify did not answer")

    jobs[1] = ProngJob(PURCHASES, broken)
    assert cli.main(["once"]) == 1
    out = capsys.readouterr().out
    assert f"{PURCHASES}: FAILED after" in out and "TimeoutError: shopify did not answer" in out
    assert f"{REDEMPTIONS}: ran" in out  # one failure does not stop the others


def test_once_with_prong_runs_only_that_prong(
    wired: tuple[World, list[ProngJob], FakeAdmin], capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["once", "--prong", PURCHASES]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1 and lines[0].startswith(PURCHASES)


def test_once_exits_3_while_another_process_holds_the_lock(
    wired: tuple[World, list[ProngJob], FakeAdmin],
    state: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    with LockFile(state):
        assert cli.main(["once"]) == 3
    err = capsys.readouterr().err
    assert _error_lines(err) == [_error_lines(err)[0]] and "another giftbridge process" in err
    assert "Traceback" not in err


def test_start_checks_name_each_problem(
    wired: tuple[World, list[ProngJob], FakeAdmin], capsys: pytest.CaptureFixture[str]
) -> None:
    world, _, admin = wired
    admin.problems = ["Status: missing field 'Owner'"]
    world.shopify.scopes.discard("write_orders")
    assert cli.main(["once"]) == 1
    err = capsys.readouterr().err
    assert "Status: missing field 'Owner'" in err and "write_orders" in err


def test_invalid_settings_exit_2_naming_the_variable(
    state: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("GIFTBRIDGE_LEASE_SECONDS", "30")
    assert cli.main(["once"]) == 2
    assert "GIFTBRIDGE_LEASE_SECONDS" in capsys.readouterr().err


def test_a_failure_is_one_clear_line_or_a_traceback_with_debug(
    state: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(settings: Settings, *, demo: bool = False) -> Any:
        raise SandboxStartFailed("the sandbox exited with code 2 before it was ready")

    monkeypatch.setattr(bootstrap, "connect", broken)
    assert cli.main(["once"]) == 1
    err = capsys.readouterr().err
    assert len(_error_lines(err)) == 1 and "before it was ready" in _error_lines(err)[0]
    assert "Traceback" not in err
    assert cli.main(["--debug", "once"]) == 1
    assert "Traceback" in capsys.readouterr().err


def test_check_reports_every_problem_or_all_clear(
    wired: tuple[World, list[ProngJob], FakeAdmin], capsys: pytest.CaptureFixture[str]
) -> None:
    world, _, admin = wired
    assert cli.main(["check"]) == 0
    assert "everything giftbridge needs is in place" in capsys.readouterr().out
    admin.problems = ["Gift Cards: field 'Balance' is text, expected currency"]
    world.shopify.scopes.discard("read_gift_card_transactions")
    world.shopify.scopes.discard("write_gift_card_transactions")
    assert cli.main(["check"]) == 1
    out = capsys.readouterr().out
    assert "problem: airtable base: Gift Cards: field 'Balance'" in out
    assert "lacks the scope read_gift_card_transactions" in out


def test_base_init_creates_through_the_admin_adapter(
    wired: tuple[World, list[ProngJob], FakeAdmin], capsys: pytest.CaptureFixture[str]
) -> None:
    _, _, admin = wired
    assert cli.main(["base", "init"]) == 0
    assert admin.inits == 1 and "created 9 tables" in capsys.readouterr().out


def test_sandbox_replaces_itself_with_the_sandbox_process_and_the_same_arguments(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The daemon never imports the stand-ins: it execs their entry point, ``python -m
    sandbox``, so stdout (export lines only), stderr, signals and the exit code are theirs."""
    seen: list[list[str]] = []

    def fake_execv(path: str, argv: list[str]) -> None:
        seen.append([path, *argv[1:]])
        raise SystemExit(0)  # execv never returns

    monkeypatch.setattr(os, "execv", fake_execv)
    with pytest.raises(SystemExit):
        cli.main(["sandbox", "--port-base", "9000", "--demo"])
    assert seen == [[sys.executable, "-m", "sandbox", "--port-base", "9000", "--demo"]]


def test_sandbox_says_in_one_line_when_the_sandbox_is_not_installed(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from daemon import embedded_sandbox

    monkeypatch.setattr(embedded_sandbox, "find_spec", lambda name: None)
    monkeypatch.setattr(os, "execv", lambda *a: pytest.fail("nothing to exec"))
    assert cli.main(["sandbox"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "sandbox is not installed" in err and "pip install" in err


def test_run_serves_until_sigterm_and_exits_0(
    wired: tuple[World, list[ProngJob], FakeAdmin],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The real ``run`` path in this process: READY=1 (only sent once our SIGTERM handler is
    installed), /healthz answers, SIGTERM stops it cleanly and releases the lock."""
    world, _, _ = wired
    name = f"gb-cli-{os.getpid()}"
    monkeypatch.setenv("NOTIFY_SOCKET", "@" + name)
    monkeypatch.setenv("GIFTBRIDGE_HTTP_PORT", "0")
    monkeypatch.setenv("GIFTBRIDGE_TICK_SECONDS", "1")
    services: list[Service] = []
    real_assemble = bootstrap.assemble

    def assemble(*args: Any, **kwargs: Any) -> bootstrap.Assembly:
        assembly = real_assemble(*args, **kwargs)
        services.append(assembly.service)
        return assembly

    monkeypatch.setattr(bootstrap, "assemble", assemble)
    seen: dict[str, object] = {}

    def operator() -> None:
        assert sock.recv(1024).startswith(b"READY=1")
        http = services[0].http
        assert http is not None
        seen["healthz"] = _status_of(http.port, "/healthz")
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not _store_runs(services[0]):
            time.sleep(0.02)  # let the store prong finish one run first
        os.kill(os.getpid(), signal.SIGTERM)

    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind("\0" + name)
        sock.settimeout(10)
        thread = threading.Thread(target=operator)
        thread.start()
        code = cli.main(["run"])
        thread.join(10)
    assert code == 0 and seen["healthz"] == 200
    store = next(r for r in world.airtable.rows(Status.TABLE) if r[Status.PRONG] == STORE)
    assert store[Status.STATE] == "Offline" and store[Status.LAST_RUN_PROCESSED] == 2
    with LockFile(Path(os.environ["GIFTBRIDGE_STATE_DIR"])):  # released
        pass


def _store_runs(service: Service) -> int:
    return next(v.runs for v in service.health.views() if v.name == STORE)


def _status_of(port: int, path: str) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


def _subparsers(parser: argparse.ArgumentParser, path: str = "") -> Iterator[tuple[str, Any]]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield f"{path} {name}".strip(), sub
                yield from _subparsers(sub, f"{path} {name}")


def test_every_subcommand_has_a_help_description() -> None:
    found = dict(_subparsers(cli.build_parser()))
    assert {"run", "once", "sandbox", "check", "base init", "card show", "report"} <= set(found)
    assert {"card search", "card pdf"} <= set(found)
    assert [name for name, sub in found.items() if not (sub.description or "").strip()] == []


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["nonsense"],
        ["once", "--prong", "nonsense"],
        ["card"],
        ["base"],
        ["card", "show"],
        ["report", "--from", "yesterday"],
        ["sandbox", "--port-base", "x"],
        ["check", "--rehearse", "now"],
    ],
)
def test_a_bad_command_line_exits_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        cli.main(argv)
    assert exited.value.code == 2
    assert "usage: giftbridge" in capsys.readouterr().err
