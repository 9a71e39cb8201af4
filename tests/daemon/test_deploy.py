"""deploy/: the env example covers every setting, the unit is hardened, one template per metric."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from cards.vocab import Metric
from config.settings import Settings, env_name, load_settings

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
UNIT = DEPLOY / "giftbridge.service"

# DESIGN.md's Klaviyo table: the properties each template must use ("at least").
PROPERTIES = {
    Metric.ISSUED: "code masked_code amount currency expires_on sender_name message theme kind "
    "business_name",
    Metric.PURCHASE_CONFIRMATION: "masked_code amount currency recipient_name recipient_email",
    Metric.STORE_NOTICE: "notice outcome masked_code amount currency balance_after request_id "
    "message",
    Metric.BALANCE: "found masked_code balance currency expires_on",
    Metric.EXPIRING_SOON: "masked_code balance currency expires_on days_left business_name",
    Metric.VOIDED: "masked_code balance reason",
    Metric.ALERT: "cause subject message link",
}


def _directives(text: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for line in text.splitlines():
        if "=" in line and not line.startswith(("#", "[")):
            key, _, value = line.partition("=")
            found.setdefault(key.strip(), []).append(value.strip())
    return found


def test_the_env_example_names_every_setting_with_its_default(tmp_path: Path) -> None:
    text = (DEPLOY / "giftbridge.env.example").read_text()
    for name in Settings.model_fields:
        assert re.search(rf"^#?{env_name(name)}=", text, re.M), f"{env_name(name)} missing"
    live_lines = "\n".join(line for line in text.splitlines() if not line.startswith("#"))
    env_file = tmp_path / "example.env"
    env_file.write_text(live_lines)
    from_example = load_settings(_env_file=env_file)
    defaults = load_settings(_env_file=None)
    assert from_example == defaults  # every value shown is the real default


def test_the_unit_is_a_hardened_notify_service() -> None:
    d = _directives(UNIT.read_text())
    assert d["Type"] == ["notify"] and d["NotifyAccess"] == ["main"]
    assert d["Restart"] == ["on-failure"] and d["DynamicUser"] == ["yes"]
    assert float(d["WatchdogSec"][0]) > 90  # above the default lease, several times
    assert float(d["TimeoutStopSec"][0]) > 45  # above the default run budget
    for key in ("ProtectSystem", "PrivateTmp", "NoNewPrivileges", "StateDirectory"):
        assert key in d
    assert d["ProtectSystem"] == ["strict"]
    assert any(v.startswith("giftbridge:") for v in d["LoadCredential"])
    assert d["ExecStart"][0].endswith("giftbridge run")


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="no systemd-analyze")
def test_systemd_analyze_rates_the_unit_ok(tmp_path: Path) -> None:
    result = subprocess.run(
        ["systemd-analyze", "security", "--offline=true", str(UNIT)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    score = re.search(r"Overall exposure level for \S+: ([\d.]+)", result.stdout)
    assert score is not None, result.stdout + result.stderr
    assert float(score.group(1)) <= 1.5
    # verify needs ExecStart to exist: point it at this interpreter for the check
    unit = tmp_path / "giftbridge.service"
    text = UNIT.read_text()
    unit.write_text(
        re.sub(r"^ExecStart=\S+", f"ExecStart={shutil.which('true')}", text, flags=re.M)
    )
    verify = subprocess.run(
        ["systemd-analyze", "verify", str(unit)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert verify.returncode == 0, verify.stderr


@pytest.mark.parametrize("metric", list(Metric))
def test_each_metric_has_a_template_using_its_properties(metric: Metric) -> None:
    path = DEPLOY / "klaviyo" / (metric.value.lower().replace(" ", "-") + ".html")
    text = path.read_text()
    used = set(re.findall(r"event\.([a-z_]+)", text))
    missing = set(PROPERTIES[metric].split()) - used
    assert not missing, f"{path.name} does not use {missing}"
    assert text.count("{% if") == text.count("{% endif %}")
    assert metric.value in text  # the comment names the flow's trigger
    if metric is not Metric.ISSUED:
        assert "event.code " not in text and "event.code}" not in text  # full code: Issued only


def test_the_guides_idle_figure_is_what_the_daemon_logs_at_start() -> None:
    """deploy/README.md quotes the idle Airtable cost; the daemon logs it at start
    (``idle_airtable_budget``) from its own jobs and push cadence: the two must agree."""
    from cryptography.fernet import Fernet

    from daemon.cadence import healthy_push, idle_figures
    from daemon.wiring import prong_jobs
    from prongs.card_locks import CardLocks
    from prongs.deps import Deps
    from tests.fakes import World

    world = World.build()
    settings = load_settings(
        _env_file=None, code_pepper="p" * 32, code_key=Fernet.generate_key().decode()
    )
    deps = Deps(
        world.airtable, world.shopify, world.email, world.certificates, world.clock, CardLocks()
    )
    jobs = prong_jobs(settings, deps)
    polls = sum(job.airtable_polls_per_tick for job in jobs)
    healthy = healthy_push(settings.airtable_push, settings.push_poll_seconds)
    figures = idle_figures(settings.tick_seconds, polls, healthy)
    logged = " ".join(f"{name}={value}" for name, value in figures.items())
    guide = " ".join((DEPLOY / "README.md").read_text().split())
    assert f"idle_airtable_budget {logged}" in guide
