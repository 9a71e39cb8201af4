"""``giftbridge card show`` and ``card pdf`` over the fakes: masked on screen, full on paper."""

from __future__ import annotations

import os
import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from pydantic import SecretStr

from cards.codes import Code, unseal
from cards.money import Money
from cards.vocab import CardStatus
from config.settings import Settings
from daemon import bootstrap, cli
from daemon.metrics import Metrics
from tests.certificate_tools import pdf_text, qr_codes
from tests.fakes.pdf import RenderingCertificates
from tests.prongs.conftest import CODE_KEY, PEPPER, Harness
from tests.prongs.expiry_kit import add_card


@pytest.fixture
def harness(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Harness:
    for name in list(os.environ):
        if name.startswith("GIFTBRIDGE_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GIFTBRIDGE_STATE_DIR", str(tmp_path / "state"))
    h = Harness()
    world = h.world

    def connect(settings: Settings, *, demo: bool = False, **_: Any) -> tuple[Settings, Any]:
        update = {
            "code_pepper": SecretStr(PEPPER),
            "code_key": SecretStr(CODE_KEY),
            "business_name": "Bridge Books",
        }
        return settings.model_copy(update=update), lambda: None

    def clients(settings: Settings, metrics: Metrics, **_: Any) -> bootstrap.Clients:
        return bootstrap.Clients(world.airtable, world.shopify, world.email, world.certificates)

    monkeypatch.setattr(bootstrap, "connect", connect)
    monkeypatch.setattr(bootstrap, "build_clients", clients)
    return h


def _code(h: Harness, card_id: str) -> Code:
    return unseal(h.card(card_id)["Code Sealed"], CODE_KEY)


def test_show_by_record_id_and_by_typed_code_never_prints_the_code(
    harness: Harness, capsys: pytest.CaptureFixture[str]
) -> None:
    card_id = harness.issue("50.00")
    code = _code(harness, card_id)
    assert cli.main(["card", "show", card_id]) == 0
    by_id = capsys.readouterr().out
    typed = "-".join(code.reveal()[i : i + 4] for i in range(0, 12, 4)).lower()
    assert cli.main(["card", "show", typed]) == 0
    by_code = capsys.readouterr().out
    for out in (by_id, by_code):
        assert card_id in out and code.masked in out
        assert code.reveal() not in out and code.reveal()[:8] not in out
        assert "Active" in out and "50.00 USD" in out and "does not expire" in out
        assert "gid://shopify/GiftCard/" in out


def test_show_flags_a_balance_that_drifted_from_shopify(
    harness: Harness, capsys: pytest.CaptureFixture[str]
) -> None:
    card_id = harness.issue("50.00")
    gid = harness.card(card_id)["Shopify Gift Card ID"]
    harness.shop.debit(gid, Money.of("5", "USD"), "an edit in the Shopify admin")
    assert cli.main(["card", "show", card_id]) == 0
    assert "differs from Shopify" in capsys.readouterr().out


def test_pdf_prints_the_full_code_to_an_owner_only_file(
    harness: Harness, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    card_id = harness.issue("75.00", Message="Happy day")
    code = _code(harness, card_id)
    rendered_before = len(harness.world.certificates.rendered)
    assert cli.main(["card", "pdf", card_id]) == 0
    out = tmp_path / f"certificate-{code.last4}.pdf"
    assert out.read_bytes().startswith(b"%PDF")
    assert out.stat().st_mode & 0o077 == 0
    data = harness.world.certificates.rendered[rendered_before]
    assert data.code_display.replace("-", "") == code.reveal() == data.full_code
    assert data.amount.as_string() == "75.00" and data.message == "Happy day"
    assert code.reveal() not in capsys.readouterr().out
    target = tmp_path / "gift.pdf"
    assert cli.main(["card", "pdf", code.reveal().lower(), "--out", str(target)]) == 0
    assert target.exists()


def test_pdf_after_a_redemption_shows_the_balance_beside_the_initial_value_and_scans(
    harness: Harness, tmp_path: Path
) -> None:
    store = harness.store()
    card_id = harness.issue("75.00")
    code = _code(harness, card_id)
    harness.redemption(code.reveal(), "20.00", store=store)
    harness.run()
    harness.world.certificates = RenderingCertificates()
    assert cli.main(["card", "pdf", card_id]) == 0
    pdf = (tmp_path / f"certificate-{code.last4}.pdf").read_bytes()
    text = pdf_text(pdf)
    assert "55.00" in text and "Initial value 75.00 USD" in text, text
    grouped = "-".join(code.reveal()[i : i + 4] for i in range(0, 12, 4))
    assert grouped in text
    assert qr_codes(pdf) == [code.reveal()]


def test_unknown_cards_and_junk_are_one_clear_line(
    harness: Harness, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["card", "show", "rec00000000000099"]) == 1
    assert "no Gift Cards record rec00000000000099" in capsys.readouterr().err
    assert cli.main(["card", "pdf", "NOSUCHCODE234"]) == 1
    err = capsys.readouterr().err
    assert "no card has the code" in err and "NOSUCHCODE234" not in err
    assert cli.main(["card", "show", "x!"]) == 2  # a bad command line: nothing looked up
    assert "not a record id" in capsys.readouterr().err
    assert cli.main(["card", "pdf", "7KQ2"]) == 2  # the last 4 are not enough for the code
    assert "not a record id (rec...) or a code" in capsys.readouterr().err


def test_search_finds_cards_by_holder_and_last_characters(
    harness: Harness, capsys: pytest.CaptureFixture[str]
) -> None:
    card_id = harness.issue("50.00")
    code = _code(harness, card_id)
    assert cli.main(["card", "search", "RAE@example"]) == 0
    out = capsys.readouterr().out
    assert card_id in out and code.masked in out and "1 card(s)" in out
    assert code.reveal() not in out
    assert cli.main(["card", "search", code.last4.lower()]) == 0
    assert card_id in capsys.readouterr().out
    assert cli.main(["card", "search", "zz"]) == 2
    assert "at least 3 characters" in capsys.readouterr().err


def test_search_expiring_lists_the_cards_due_within_the_days_with_their_balances(
    harness: Harness, capsys: pytest.CaptureFixture[str]
) -> None:
    world = harness.world
    world.shopify.timezone = "America/Los_Angeles"
    today = datetime.now(ZoneInfo("America/Los_Angeles")).date()  # the command's clock is real
    soon = add_card(world, today + timedelta(days=3), balance="12.50")
    overdue = add_card(world, today - timedelta(days=1), balance="7.50")
    later = add_card(world, today + timedelta(days=40))
    add_card(world, today + timedelta(days=2), status=CardStatus.REDEEMED, balance="0.00")

    assert cli.main(["card", "search", "--expiring", "30"]) == 0

    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines[:-1]] == [overdue.row_id, soon.row_id]
    assert f"expires {today - timedelta(days=1)} (overdue)" in lines[0] and "7.50 USD" in lines[0]
    assert f"expires {today + timedelta(days=3)} (in 3 d)" in lines[1] and "12.50" in lines[1]
    assert lines[-1].startswith(f"2 Active card(s) expiring by {today + timedelta(days=30)}")
    assert "America/Los_Angeles" in lines[-1] and "balance left: 20.00 USD" in lines[-1]
    assert later.row_id not in "\n".join(lines)

    assert cli.main(["card", "search", "rae", "--expiring", "3"]) == 2  # a bad command line
    assert "not both" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli.main(["card", "search", "--expiring", "-1"])


def test_pdf_never_follows_a_symlink_nor_overwrites_without_force(
    harness: Harness, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    card_id = harness.issue("30.00")
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me", "utf-8")
    link = tmp_path / "link.pdf"
    link.symlink_to(victim)
    dangling = tmp_path / "dangling.pdf"
    dangling.symlink_to(tmp_path / "nowhere.pdf")
    for path in (link, dangling):
        for force in ([], ["--force"]):
            assert cli.main(["card", "pdf", card_id, "--out", str(path), *force]) == 1
            assert "symbolic link" in capsys.readouterr().err
    assert victim.read_text("utf-8") == "keep me" and not (tmp_path / "nowhere.pdf").exists()
    existing = tmp_path / "old.pdf"
    existing.write_bytes(b"old")
    existing.chmod(0o644)
    assert cli.main(["card", "pdf", card_id, "--out", str(existing)]) == 1
    assert "--force" in capsys.readouterr().err and existing.read_bytes() == b"old"
    assert cli.main(["card", "pdf", card_id, "--out", str(existing), "--force"]) == 0
    assert existing.read_bytes().startswith(b"%PDF") and existing.stat().st_mode & 0o077 == 0
    default = tmp_path / f"certificate-{_code(harness, card_id).last4}.pdf"
    default.symlink_to(victim)  # the default name is guarded the same way
    assert cli.main(["card", "pdf", card_id]) == 1
    assert victim.read_text("utf-8") == "keep me"


def test_a_symlink_planted_after_the_check_is_refused_by_the_open(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from daemon import card_commands
    from daemon.card_commands import OutputRefused, write_private_file

    monkeypatch.setattr(card_commands, "check_output", lambda out, force: None)  # the race
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me", "utf-8")
    out = tmp_path / "race.pdf"
    out.symlink_to(victim)
    with pytest.raises(OutputRefused, match="symbolic link"):
        write_private_file(out, b"%PDF", force=True)
    assert victim.read_text("utf-8") == "keep me"
    plain = tmp_path / "planted.pdf"
    plain.write_bytes(b"someone else's")
    with pytest.raises(OutputRefused, match="already exists"):
        write_private_file(plain, b"%PDF", force=False)
    assert plain.read_bytes() == b"someone else's"


def test_show_takes_the_last_4_characters_and_lists_several_that_share_them(
    harness: Harness, capsys: pytest.CaptureFixture[str]
) -> None:
    card_id = harness.issue("50.00")
    code = _code(harness, card_id)
    capsys.readouterr()  # the issuing run's log lines
    for typed in (code.last4.lower(), code.masked):  # as typed, or as `card search` shows it
        assert cli.main(["card", "show", typed]) == 0
        out = capsys.readouterr().out
        assert out.startswith(card_id) and code.reveal() not in out
        assert re.search(r"initial value {2,}50\.00 USD", out)  # columns never run together
        assert re.search(r"last activity {2,}\S", out)
    twin = harness.world.airtable.insert(
        "Gift Cards",
        {"Last Characters": code.last4, "Masked Code": code.masked, "Status": "Active"},
    )
    assert cli.main(["card", "show", code.last4]) == 0
    listed = capsys.readouterr().out.splitlines()
    assert card_id in "\n".join(listed) and twin in "\n".join(listed)
    assert listed[-1] == f"2 cards end in {code.last4}: show one by its record id (rec...)"
    assert cli.main(["card", "show", "ZZZZ"]) == 1
    assert "no card ends in ZZZZ" in capsys.readouterr().err


def test_search_says_which_field_matched_in_aligned_columns(
    harness: Harness, capsys: pytest.CaptureFixture[str]
) -> None:
    card_id = harness.issue("50.00")
    code = _code(harness, card_id)
    capsys.readouterr()  # the issuing run's log lines
    assert cli.main(["card", "search", code.last4]) == 0
    header, row, total = capsys.readouterr().out.splitlines()
    assert header.split() == ["record", "code", "status", "balance", "holder", "matched"]
    assert row.startswith(card_id) and row.endswith("last 4") and total == "1 card(s)"
    assert row.index(code.masked) == header.index("code")  # the columns line up
    assert cli.main(["card", "search", "example.com"]) == 0
    found = capsys.readouterr().out.splitlines()[1]
    assert found.endswith("email")  # holder email and/or purchaser email
