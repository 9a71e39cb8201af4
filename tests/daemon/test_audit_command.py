"""``giftbridge audit [--full]``: the prong in the foreground over the fakes, its summary table,
plain progress lines off a terminal, and its exit codes."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from pydantic import SecretStr

from cards.money import Money
from cards.vocab import CardStatus, Kind
from config.layout import GiftCards
from config.settings import Settings
from daemon import bootstrap, cli
from daemon.lockfile import LockFile
from daemon.metrics import Metrics
from tests.daemon.test_cli import FakeAdmin
from tests.fakes import World

USD = "USD"


def usd(text: str) -> Money:
    return Money.of(text, USD)


def seed_card(world: World, value: str, n: int) -> tuple[str, str]:
    """A card in Shopify and its mirrored row, as issuance leaves them; (row id, GID)."""
    code = f"AUDITCARD{n:03d}"
    card = world.shopify.issue_native(code, usd(value), note=f"giftbridge order:1:2:{n + 1}")
    world.clock.advance(1)
    row = world.airtable.insert(
        GiftCards.TABLE,
        {
            GiftCards.SHOPIFY_GIFT_CARD_ID: card.id,
            GiftCards.ORIGIN_KEY: f"order:1:2:{n + 1}",
            GiftCards.MASKED_CODE: "\u2022" * 8 + code[-4:],
            GiftCards.STATUS: CardStatus.ACTIVE,
            GiftCards.KIND: Kind.GIFT_CARD,
            GiftCards.CURRENCY: USD,
            GiftCards.INITIAL_VALUE: usd(value),
            GiftCards.BALANCE: usd(value),
            GiftCards.LAST_SYNCED_AT: world.clock.now(),
        },
    )
    return row, card.id


@pytest.fixture
def world() -> World:
    return World.build()


@pytest.fixture
def wired(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, world: World) -> Iterator[World]:
    for name in list(os.environ):
        if name.startswith("GIFTBRIDGE_") or name in ("NOTIFY_SOCKET", "WATCHDOG_USEC"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GIFTBRIDGE_STATE_DIR", str(tmp_path / "state"))

    def connect(settings: Settings, *, demo: bool = False) -> tuple[Settings, Any]:
        update = {
            "code_pepper": SecretStr("p" * 32),
            "code_key": SecretStr(Fernet.generate_key().decode()),
        }
        return settings.model_copy(update=update), lambda: None

    def clients(settings: Settings, metrics: Metrics, **_: Any) -> bootstrap.Clients:
        return bootstrap.Clients(
            world.airtable,
            world.shopify,
            world.email,
            world.certificates,
            base_admin=FakeAdmin(),
        )

    monkeypatch.setattr(bootstrap, "connect", connect)
    monkeypatch.setattr(bootstrap, "build_clients", clients)
    world.clock.advance(-timedelta(days=1).total_seconds())  # cards made yesterday
    yield world


def test_a_full_audit_repairs_reports_by_class_and_exits_1_for_what_needs_a_person(
    wired: World, capsys: pytest.CaptureFixture[str]
) -> None:
    cards = [seed_card(wired, "25.00", n) for n in range(4)]
    wired.shopify.admin_adjust(cards[0][1], usd("-5.00"), note="admin")
    wired.shopify.forget(cards[3][1])

    assert cli.main(["audit", "--full"]) == 1

    out = capsys.readouterr().out
    assert wired.airtable.row(GiftCards.TABLE, cards[0][0])[GiftCards.BALANCE] == usd("20.00")
    assert "compared 3 cards" in out  # a plain line per batch: stdout is not a terminal
    lines = {line.split("  ")[0].strip(): line.split() for line in out.splitlines()}
    assert lines["balance differs"][-4:] == ["1", "1", "0", "0"]
    assert lines["Shopify card missing"][-4:] == ["1", "0", "1", "0"]
    assert lines["unexplained Shopify transaction"][-4:] == ["1", "1", "0", "0"]
    assert f"{cards[3][0]}" in out.split("needs a person (see Receipts")[1]


def test_nothing_drifted_exits_0_and_a_second_run_compares_only_changed_cards(
    wired: World, capsys: pytest.CaptureFixture[str]
) -> None:
    for n in range(3):
        seed_card(wired, "10.00", n)
    assert cli.main(["audit"]) == 0  # the first audit ever is a full pass
    first = capsys.readouterr().out
    assert "audit: compared 3 cards (1 full pass and the changed cards)" in first
    assert cli.main(["audit"]) == 0
    second = capsys.readouterr().out
    assert "audit: compared 0 cards (the changed cards)" in second


def test_the_audit_waits_for_no_daemon_it_says_why_and_exits_3(
    wired: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with LockFile(tmp_path / "state"):
        assert cli.main(["audit"]) == 3
    assert "audits by itself every 3600 s" in capsys.readouterr().err


def test_help_lists_the_audit_command(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    assert "audit" in capsys.readouterr().out
