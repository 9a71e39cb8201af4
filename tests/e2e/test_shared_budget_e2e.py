"""The daemon and four CLI commands at once, during a burst of redemptions, on one base with the
sandbox's real limit (5 requests a second): they share one Airtable budget through STATE_DIR,
so the sandbox answers not one 429."""

from __future__ import annotations

import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from tests.e2e.process_kit import (
    FINAL,
    ROOT,
    env_for,
    running_sandbox,
    seed_cards,
    start_daemon,
    statuses,
    stop,
    submit_redemptions,
    wait_for,
)

pytestmark = pytest.mark.slow


def healthy(env: dict[str, str]) -> bool:
    url = f"http://127.0.0.1:{env['GIFTBRIDGE_HTTP_PORT']}/healthz"
    try:
        with urllib.request.urlopen(url, timeout=2) as answer:
            return bool(answer.status == 200)
    except OSError:
        return False


@pytest.mark.timeout(240)
def test_the_daemon_and_four_cli_commands_in_a_burst_draw_no_429(tmp_path: Path) -> None:
    with running_sandbox(tmp_path / "sandbox") as sandbox:
        codes = seed_cards(sandbox, 30)
        env = env_for(sandbox, tmp_path / "state")
        daemon = start_daemon(env, tmp_path / "daemon.log")
        try:
            assert wait_for(lambda: healthy(env), 90), (tmp_path / "daemon.log").read_text()
            requests = submit_redemptions(sandbox, codes)
            commands = [
                ["card", "search", codes[0][-4:]],
                ["card", "show", codes[1].lower()],
                ["card", "search", "--expiring", "30"],
                ["report", "--out", str(tmp_path / "report")],
            ]
            clis = [
                subprocess.Popen(
                    [sys.executable, "-m", "daemon", *args],
                    cwd=ROOT,
                    env=env,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.STDOUT,
                    text=True,
                )
                for args in commands
            ]
            outputs = [cli.communicate(timeout=180)[0] for cli in clis]
            for cli, out in zip(clis, outputs, strict=True):
                assert cli.returncode == 0, out
            assert wait_for(lambda: set(statuses(sandbox, requests).values()) <= FINAL, 120)
        finally:
            assert stop(daemon) == 0
        assert set(statuses(sandbox, requests).values()) == {"Done"}
        assert sandbox.airtable.limiter.counts() == {}, "the sandbox answered 429"
