"""daemon.wiring: Settings -> every prong's config, in one place."""

from __future__ import annotations

import base64
from pathlib import Path

from config.settings import load_settings
from daemon.wiring import prong_configs, prong_jobs
from prongs.report import Budget, OpenGate
from tests.fakes import World

PEPPER = "p" * 40
CODE_KEY = base64.urlsafe_b64encode(bytes(range(32))).decode("ascii")


def test_every_prong_config_carries_alert_email_and_the_card_settings(tmp_path: Path) -> None:
    settings = load_settings(
        _env_file=None,
        state_dir=tmp_path,
        code_pepper=PEPPER,
        code_key=CODE_KEY,
        alert_email="ops@example.com",
        portal_enabled=False,
    )
    configs = prong_configs(settings)
    assert configs.store.alert_email == "ops@example.com"
    assert configs.purchases.alert_email == "ops@example.com"
    assert configs.redemptions.alert_email == "ops@example.com"
    assert configs.store.portal_enabled is False
    assert configs.store.card is configs.purchases.card  # one card config for both issuers
    assert configs.store.card.limits == settings.amount_limits


def test_no_alert_email_is_none_everywhere(tmp_path: Path) -> None:
    settings = load_settings(
        _env_file=None, state_dir=tmp_path, code_pepper=PEPPER, code_key=CODE_KEY
    )
    configs = prong_configs(settings)
    assert {c.alert_email for c in (configs.store, configs.purchases, configs.redemptions)} == {
        None
    }


def test_the_jobs_come_in_priority_order_over_one_deps(tmp_path: Path) -> None:
    settings = load_settings(
        _env_file=None, state_dir=tmp_path, code_pepper=PEPPER, code_key=CODE_KEY
    )
    jobs = prong_jobs(settings, World.build().deps())
    names = ["store-transactions", "shopify-purchases", "shopify-redemptions", "expiry", "audit"]
    assert [j.name for j in jobs] == names


def test_the_expiry_prong_gets_the_reminder_days_and_its_own_schedule(tmp_path: Path) -> None:
    settings = load_settings(
        _env_file=None,
        state_dir=tmp_path,
        code_pepper=PEPPER,
        code_key=CODE_KEY,
        expiry_reminder_days="7,30,14",
        expiry_interval_seconds=600,
        business_name="Corner Books",
    )
    configs = prong_configs(settings)
    assert configs.expiry.reminder_days == (30, 14, 7)
    assert configs.expiry.business_name == "Corner Books"
    world = World.build()
    (expiry,) = [j for j in prong_jobs(settings, world.deps()) if j.name == "expiry"]
    assert expiry.due is not None and expiry.due()  # once at start
    assert expiry.airtable_polls_per_tick == 0
    expiry.run(Budget(world.clock, 30), OpenGate())
    assert not expiry.due()
    world.clock.advance(599)
    assert not expiry.due()
    world.clock.advance(1)
    assert expiry.due()
