"""``giftbridge check`` over HTTP against the stand-ins: each bad credential or setting is one line
naming the culprit, with a non-zero exit; no secret or token in any output; the sandbox says so;
CLI commands use a running sandbox instead of starting a second one on the same data."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from config.settings import load_settings
from daemon import bootstrap, cli
from sandbox.stack import Sandbox, start

pytestmark = pytest.mark.slow

SECRET_NAMES = (
    "GIFTBRIDGE_AIRTABLE_TOKEN",
    "GIFTBRIDGE_SHOPIFY_CLIENT_SECRET",
    "GIFTBRIDGE_KLAVIYO_API_KEY",
    "GIFTBRIDGE_CODE_PEPPER",
    "GIFTBRIDGE_CODE_KEY",
)


@pytest.fixture
def stand_ins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Sandbox]:
    """The three stand-ins in this process, and the environment `giftbridge sandbox` prints."""
    for name in list(os.environ):
        if name.startswith("GIFTBRIDGE_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    sandbox = start(tmp_path / "stand-ins", port_base=0)
    for name, value in sandbox.environment().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("GIFTBRIDGE_STATE_DIR", str(tmp_path / "state"))
    yield sandbox
    sandbox.stop()


def _run(
    argv: list[str], capsys: pytest.CaptureFixture[str], sandbox: Sandbox
) -> tuple[int, list[str], list[str]]:
    code = cli.main(argv)
    out, err = capsys.readouterr()
    secrets = [sandbox.environment()[n] for n in SECRET_NAMES]
    secrets += [sandbox.credentials.shopify_access_token, *sandbox.shopify.tokens.issued]
    leaked = [s for s in secrets if s in out or s in err]
    assert leaked == [], "a secret or token in the output"
    return code, out.splitlines(), err.splitlines()


def _problems(lines: list[str]) -> list[str]:
    return [line for line in lines if line.startswith("problem: ")]


def test_all_good_says_sandbox_and_exits_0(
    stand_ins: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = _run(["check"], capsys, stand_ins)
    assert code == 0, out
    assert out[0].startswith("check: sandbox: ") and "not a real shop" in out[0]
    assert "ok: shopify: a token from the client credentials grant was accepted" in "\n".join(out)
    assert "ok: klaviyo: API key accepted" in "\n".join(out)
    assert out[-1] == "check: everything giftbridge needs is in place"
    assert err == []  # no log lines


@pytest.mark.parametrize(
    ("variable", "value", "named"),
    [
        ("GIFTBRIDGE_SHOPIFY_CLIENT_SECRET", "shpss_wrong_0123456789", "client id or secret"),
        ("GIFTBRIDGE_SHOPIFY_CLIENT_ID", "0" * 32, "client id or secret"),
        ("GIFTBRIDGE_KLAVIYO_API_KEY", "pk_wrong_0123456789", "GIFTBRIDGE_KLAVIYO_API_KEY"),
        ("GIFTBRIDGE_AIRTABLE_TOKEN", "patWrong0123.0123456789", "GIFTBRIDGE_AIRTABLE_TOKEN"),
        ("GIFTBRIDGE_CURRENCY", "EUR", "GIFTBRIDGE_CURRENCY is EUR but the shop's currency is USD"),
        ("GIFTBRIDGE_KLAVIYO_API_URL", "http://127.0.0.1:9", "klaviyo: cannot reach"),
    ],
)
def test_each_bad_credential_is_one_problem_line_naming_it(
    stand_ins: Sandbox,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    variable: str,
    value: str,
    named: str,
) -> None:
    monkeypatch.setenv(variable, value)
    code, out, err = _run(["check"], capsys, stand_ins)
    assert code == 1
    (problem,) = _problems(out)
    assert named in problem
    if "SHOPIFY_CLIENT" in variable:
        assert "GIFTBRIDGE_SHOPIFY_CLIENT_SECRET" in problem and "HTTP 40" in problem
    assert err == []  # one line, not retry logs
    if variable in SECRET_NAMES:  # a wrong secret is a secret too
        assert value not in "\n".join(out)


@pytest.mark.parametrize(
    ("extra", "named"),
    [
        ({"GIFTBRIDGE_CURRENCY": "XYZ"}, "GIFTBRIDGE_CURRENCY: XYZ is not an ISO 4217"),
        ({"GIFTBRIDGE_SHOPIFY_ACCESS_TOKEN": "shpat_both"}, "GIFTBRIDGE_SHOPIFY_ACCESS_TOKEN"),
        (
            {"GIFTBRIDGE_TICK_SECONDS": "0.01"},
            "GIFTBRIDGE_TICK_SECONDS: '0.01' is out of range; allowed: 1 to 3600",
        ),
    ],
)
def test_bad_settings_are_one_line_and_exit_2(
    stand_ins: Sandbox,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    extra: dict[str, str],
    named: str,
) -> None:
    for name, value in extra.items():
        monkeypatch.setenv(name, value)
    code, out, err = _run(["check"], capsys, stand_ins)
    assert code == 2 and out == []
    (line,) = err
    assert line.startswith("giftbridge check: error: invalid settings: ") and named in line


def test_a_legacy_static_token_still_checks_out(
    stand_ins: Sandbox, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GIFTBRIDGE_SHOPIFY_CLIENT_ID")
    monkeypatch.delenv("GIFTBRIDGE_SHOPIFY_CLIENT_SECRET")
    monkeypatch.setenv(
        "GIFTBRIDGE_SHOPIFY_ACCESS_TOKEN", stand_ins.credentials.shopify_access_token
    )
    code, out, _ = _run(["check"], capsys, stand_ins)
    assert code == 0 and "ok: shopify: the token was accepted" in "\n".join(out)
    assert stand_ins.shopify.tokens.grants == 0
    monkeypatch.setenv("GIFTBRIDGE_SHOPIFY_ACCESS_TOKEN", "shpat_revoked_0123456789")
    code, out, _ = _run(["check"], capsys, stand_ins)
    (problem,) = _problems(out)
    assert code == 1 and "HTTP 401" in problem and "GIFTBRIDGE_SHOPIFY_ACCESS_TOKEN" in problem


def test_rehearse_needs_alert_email(stand_ins: Sandbox, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(["check", "--rehearse"], capsys, stand_ins)
    assert code == 2 and out == []
    (line,) = err
    assert "GIFTBRIDGE_ALERT_EMAIL" in line


def test_cli_commands_use_the_running_sandbox_instead_of_a_second_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in list(os.environ):
        if name.startswith("GIFTBRIDGE_"):
            monkeypatch.delenv(name)
    state = tmp_path / "state"
    running = start(state, port_base=0)  # as `giftbridge run` or `giftbridge sandbox` would
    try:
        settings = load_settings(state_dir=state, _env_file=None)
        connected, stop = bootstrap.connect(settings, quiet=True)
        stop()  # not ours: the running sandbox goes on
        expected = running.environment()
        assert connected.airtable_api_url == expected["GIFTBRIDGE_AIRTABLE_API_URL"]
        assert connected.shopify_client_id == expected["GIFTBRIDGE_SHOPIFY_CLIENT_ID"]
        assert running.threads[0].url == expected["GIFTBRIDGE_AIRTABLE_API_URL"]
        assert (state / "sandbox" / "sandbox.env").exists()
    finally:
        running.stop()
    assert not (state / "sandbox" / "sandbox.env").exists()


def test_in_sandbox_mode_check_says_so_and_the_stand_ins_log_to_a_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in list(os.environ):
        if name.startswith("GIFTBRIDGE_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GIFTBRIDGE_STATE_DIR", str(tmp_path / "state"))
    assert cli.main(["check"]) == 0
    out, err = capsys.readouterr()
    first = out.splitlines()[0]
    assert (
        first.startswith("check: sandbox mode: the local stand-ins") and "not a real shop" in first
    )
    assert err == ""  # the embedded stand-ins' log lines went to their file
    assert (tmp_path / "state" / "sandbox" / "sandbox.log").stat().st_size > 0
    assert not (tmp_path / "state" / "sandbox" / "sandbox.env").exists()  # stopped again
