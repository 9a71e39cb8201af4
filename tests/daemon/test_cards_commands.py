"""``giftbridge cards import|export`` over the fakes: what the operator reads, what is written."""

from __future__ import annotations

import argparse
import csv
import io
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cards.vocab import CardStatus, Channel
from clients.records import CardRow
from config.layout import CreationRequests, GiftCards, Stores
from daemon import bootstrap, cli
from daemon.bootstrap import BulkSetup
from daemon.cards_export import export_cards, file_in_place
from daemon.cards_import import Console, checked_file, import_batch
from prongs.bulk_import import ImportRefused
from prongs.card_export import COLUMNS
from tests.fakes.airtable_bulk import FakeBulk
from tests.prongs.conftest import Harness, card_config
from tests.prongs.test_bulk_issuance import csv_rows

C = CreationRequests


@pytest.fixture
def h() -> Harness:
    return Harness()


def setup_of(h: Harness) -> BulkSetup:
    return BulkSetup(h.at, FakeBulk(h.at), "USD", card_config().limits, lambda: None)


def args_for(path: Path, *extra: str) -> argparse.Namespace:
    args = cli.build_parser().parse_args(["cards", "import", str(path), *extra])
    assert args.cards_command == "import"
    return args


def run_import(
    h: Harness, path: Path, *extra: str, answer: str | None = None
) -> tuple[int, list[str]]:
    out = io.StringIO()
    console = Console(out, interactive=False, ask=None if answer is None else lambda _: answer)
    args = args_for(path, *extra)
    checked = checked_file(args, "USD", card_config().limits, console)
    code = (
        1 if checked is None else import_batch(args, checked, setup_of(h), console, h.world.clock)
    )
    return code, out.getvalue().splitlines()


def bulk_ids(h: Harness) -> list[str]:
    return [i for i, r in h.at.tables[C.TABLE].items() if r.get(C.CHANNEL) == Channel.BULK]


@pytest.fixture
def order(tmp_path: Path) -> Path:
    path = tmp_path / "order.csv"
    path.write_bytes(csv_rows(12, gift=True))
    return path


def test_a_file_with_two_bad_rows_reports_both_and_writes_nothing(
    h: Harness, tmp_path: Path
) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(
        "recipient_name,recipient_email,amount\nAnn,ann@example.com,25\nBob,bob@,25\nCy,cy@x.io,abc\n",
        encoding="utf-8",
    )
    code, lines = run_import(h, path)
    assert code == 1 and bulk_ids(h) == [] and h.injector.calls == []
    assert lines == [
        "problem: line 3, recipient_email: Not an email address: bob@. Correct the address.",
        "problem: line 4, amount: 'abc' is not a plain number. Write it like 25.00: no currency "
        "sign, no thousands separator (cards are in USD).",
        "bad.csv: 2 problem(s) on 2 line(s): nothing was imported; fix them and run the "
        "command again",
    ]


def test_a_dry_run_says_what_it_would_create_and_writes_nothing(h: Harness, order: Path) -> None:
    code, lines = run_import(h, order, "--dry-run")
    assert code == 0 and bulk_ids(h) == []
    assert lines[0].startswith("order.csv: 12 cards worth 318.00 USD in total (batch ")
    assert (
        lines[-1]
        == "dry run: would create 12 Creation Requests worth 318.00 USD; nothing was written"
    )


def test_import_follow_and_summary_then_the_same_file_again_creates_nothing(
    h: Harness, order: Path
) -> None:
    h.store(name="Main St")
    polls = 0
    real_sleep = h.world.clock.sleep

    def daemon_runs_while_we_wait(seconds: float) -> None:
        nonlocal polls
        polls += 1
        h.run()
        real_sleep(seconds)

    h.world.clock.sleep = daemon_runs_while_we_wait  # type: ignore[method-assign]
    code, lines = run_import(h, order, "--store", "main st")
    assert code == 0, lines
    batch = lines[0].split("(batch ")[1].split(",")[0]
    assert lines[1:] == [
        f"wrote 12 rows to Creation Requests (batch {batch})",
        f"batch {batch}: 0 of 12 rows final",  # not a terminal: plain lines, no bar
        f"batch {batch}: 12 of 12 rows final",
        f"batch {batch}: 12 rows",
        "  Created     12",
    ]
    assert len(h.shop.cards) == 12 and polls == 1
    store_id = next(iter(h.at.tables[Stores.TABLE]))
    assert {tuple(r[GiftCards.STORE]) for r in h.at.tables[GiftCards.TABLE].values()} == {
        (store_id,)
    }

    calls = len(h.injector.calls)
    code, lines = run_import(h, order)
    assert code == 0 and len(h.shop.cards) == 12
    assert any(line.endswith("was imported before: nothing new to create") for line in lines)
    assert not [c for c in h.injector.calls[calls:] if c != "airtable.list"]  # reads only


def test_no_wait_returns_once_the_rows_are_written(h: Harness, order: Path) -> None:
    code, lines = run_import(h, order, "--no-wait")
    assert code == 0 and len(bulk_ids(h)) == 12 and h.shop.cards == {}
    assert "run `giftbridge cards import" in lines[-1]


def test_a_changed_file_asks_before_issuing_again(h: Harness, order: Path, tmp_path: Path) -> None:
    assert run_import(h, order, "--no-wait")[0] == 0
    changed = tmp_path / "order-v2.csv"
    changed.write_bytes(order.read_bytes().replace(b"Employee 12", b"Employee Twelve"))
    code, lines = run_import(h, changed, "--no-wait", answer="n")
    assert code == 1 and len(bulk_ids(h)) == 12
    assert any("11 of its rows repeat rows of an earlier import" in line for line in lines)
    with pytest.raises(ImportRefused, match="add --yes"):
        run_import(h, changed, "--no-wait")  # no terminal to ask
    assert run_import(h, changed, "--no-wait", "--yes")[0] == 0
    assert len(bulk_ids(h)) == 24


def test_an_unknown_or_inactive_store_is_refused_before_anything_is_written(
    h: Harness, order: Path
) -> None:
    h.at.insert(Stores.TABLE, {Stores.NAME: "Harbour", Stores.ACTIVE: False})
    with pytest.raises(ImportRefused, match="not Active"):
        run_import(h, order, "--store", "Harbour")
    assert bulk_ids(h) == []


def test_ctrl_c_while_waiting_only_stops_the_waiting(h: Harness, order: Path) -> None:
    def interrupted(seconds: float) -> None:
        raise KeyboardInterrupt

    h.world.clock.sleep = interrupted  # type: ignore[method-assign]
    code, lines = run_import(h, order)
    assert code == 0 and len(bulk_ids(h)) == 12
    assert lines[-2].startswith("stopped waiting; giftbridge goes on issuing batch ")


def test_the_command_line_reports_problems_without_starting_anything(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in list(os.environ):
        if name.startswith("GIFTBRIDGE_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GIFTBRIDGE_STATE_DIR", str(tmp_path / "state"))
    path = tmp_path / "bad.csv"
    path.write_text("recipient_name,amount\nAnn,25\n", encoding="utf-8")
    assert cli.main(["cards", "import", str(path)]) == 1
    out = capsys.readouterr().out
    assert "problem: line 1, recipient_email: The header has no such column." in out
    assert cli.main(["cards", "import", str(tmp_path / "missing.csv")]) == 1
    assert "No such file or directory" in capsys.readouterr().err


# --- export ---------------------------------------------------------------------------------


def test_export_holds_masked_codes_only_with_plain_amounts_and_store_names(h: Harness) -> None:
    store = h.store(name="=Main St")  # a name a spreadsheet would run as a formula
    linked: dict[str, Any] = {C.STORE: (store,)}
    no_store: dict[str, Any] = {C.CHANNEL: Channel.PHONE}  # a Store sale links a store
    cards = [h.issue("25.50", **linked), h.issue("40.00", **no_store)]
    out = io.StringIO()
    assert export_cards(setup_of(h), None, out) == 2
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    codes = [h.code_of(c).reveal() for c in cards]
    assert not any(code in out.getvalue() or code.lower() in out.getvalue() for code in codes)
    assert [(r["masked_code"], r["initial_value"], r["balance"], r["store"]) for r in rows] == [
        ("\u2022" * 8 + codes[0][-4:], "25.50", "25.50", "'=Main St"),
        ("\u2022" * 8 + codes[1][-4:], "40.00", "40.00", ""),
    ]
    assert rows[0]["issued_at"] == "2026-11-22T12:00:00Z" and rows[0]["expires_on"] == ""
    assert rows[0]["card_id"] == cards[0] and rows[0]["currency"] == "USD"


def test_export_writes_each_page_before_it_reads_the_next(h: Harness) -> None:
    for n in range(250):
        status = CardStatus.VOIDED if n % 5 == 0 else CardStatus.ACTIVE
        h.at.insert(
            GiftCards.TABLE,
            {GiftCards.MASKED_CODE: "\u2022" * 8 + f"{n:04d}", GiftCards.STATUS: status},
        )
    setup, out = setup_of(h), io.StringIO()
    pages = setup.bulk.iter_card_rows
    written_before_each_page: list[int] = []

    def watched(status: CardStatus | None = None) -> Iterator[list[CardRow]]:
        for page in pages(status):
            written_before_each_page.append(out.getvalue().count("\n"))
            yield page

    setup.bulk.iter_card_rows = watched  # type: ignore[method-assign]
    assert export_cards(setup, None, out) == 250
    assert written_before_each_page == [1, 101, 201]  # the header, then a page at a time
    assert export_cards(setup_of(h), CardStatus.VOIDED, io.StringIO()) == 50


def test_export_file_is_written_whole_never_over_a_file_or_through_a_link(tmp_path: Path) -> None:
    target = tmp_path / "cards.csv"
    with file_in_place(target, force=False) as handle:
        handle.write("a,b\r\n")
    assert (
        target.read_bytes() == b"\xef\xbb\xbfa,b\r\n" and oct(target.stat().st_mode)[-3:] == "600"
    )
    with pytest.raises(ImportRefused, match="exists: add --force"):
        file_in_place(target, force=False).__enter__()
    with file_in_place(target, force=True) as handle:
        handle.write("c\r\n")
    assert target.read_bytes().endswith(b"c\r\n")
    link = tmp_path / "link.csv"
    link.symlink_to(tmp_path / "elsewhere.csv")
    for force in (False, True):
        with pytest.raises(ImportRefused, match="symbolic link"):
            file_in_place(link, force=force).__enter__()
    assert not (tmp_path / "elsewhere.csv").exists()
    with pytest.raises(RuntimeError), file_in_place(tmp_path / "half.csv", force=False) as handle:
        handle.write("x")
        raise RuntimeError("interrupted")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cards.csv", "link.csv"]


# --- through the command line ---------------------------------------------------------------


@pytest.fixture
def wired(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, h: Harness) -> Harness:
    """``giftbridge`` with no credentials, its Airtable the fakes (no sandbox started)."""
    for name in list(os.environ):
        if name.startswith("GIFTBRIDGE_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GIFTBRIDGE_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setattr(bootstrap, "connect", lambda settings, demo=False: (settings, lambda: None))
    monkeypatch.setattr(bootstrap, "bulk_setup", lambda settings, retry: setup_of(h))
    return h


def test_import_and_export_run_from_the_command_line(
    wired: Harness, order: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["cards", "import", str(order), "--no-wait"]) == 0
    out = capsys.readouterr().out
    assert "note: no credentials set: this command starts its own sandbox" in out
    assert len(bulk_ids(wired)) == 12
    wired.run()
    target = tmp_path / "cards.csv"
    assert cli.main(["cards", "export", "--out", str(target)]) == 0
    assert f"exported 12 cards to {target} (masked codes only)" in capsys.readouterr().err
    assert len(list(csv.DictReader(io.StringIO(target.read_text("utf-8-sig"))))) == 12
    assert cli.main(["cards", "export", "--out", str(target)]) == 1
    assert "exists: add --force" in capsys.readouterr().err
    assert cli.main(["cards", "export", "--status", "voided"]) == 0
    captured = capsys.readouterr()
    assert captured.out.splitlines() == [",".join(COLUMNS)]
    assert "exported 0 Voided cards" in captured.err
    with pytest.raises(SystemExit):
        cli.main(["cards", "export", "--status", "lost"])
    assert "'lost' is not a status" in capsys.readouterr().err
