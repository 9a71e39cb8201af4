"""Bulk issuance end to end: ``cards import`` and ``cards export`` against the sandbox over HTTP,
with the store prong running beside them as the daemon runs it.

One scenario, built once per module: the prong loops on its own thread (one Airtable limiter
shared with the command, as in one process; speed is the benchmark's business); a card is sold
at a counter; a 12-row company order is imported and followed to the end; while its cards are
being issued, a till redeems the counter card; the same file is imported again; every card is
exported. The tests read what happened.
"""

from __future__ import annotations

import argparse
import csv
import io
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from cards.bulk import check_file
from cards.vocab import Metric
from clients.airtable_budget import airtable_limiter
from clients.factory import Limiters, build_airtable, build_bulk
from config.layout import CreationRequests, GiftCards, Receipts, StoreRedemptions
from daemon import cli
from daemon.bootstrap import BulkSetup
from daemon.cards_export import export_cards
from daemon.cards_import import Console, checked_file, import_batch
from daemon.clock import SystemClock
from tests.configs import airtable_config
from tests.e2e.store_helpers import StoreWorld, store_online
from tests.prongs_shopify.online_sandbox import AIRTABLE_TOKEN

pytestmark = pytest.mark.slow
C, G = CreationRequests, GiftCards
ROWS = 12


def order_csv() -> bytes:
    lines = ["Recipient Name;Recipient Email;Amount;Purchaser Name;Purchaser Email;Theme;Message"]
    lines += [
        f"Employee {n};e{n}@acme.example;{20 + n},50;Acme Corp;hr@acme.example;Thank You;"
        f'"Thanks for a great year,\nEmployee {n}!"'
        for n in range(1, ROWS + 1)
    ]
    return ("\ufeff" + "\r\n".join(lines) + "\r\n").encode("utf-8")


class Daemon:
    """The store prong, run after run on its own thread, as the scheduler runs it."""

    def __init__(self, world: StoreWorld) -> None:
        self.world = world
        self.stop = threading.Event()
        self.errors: list[str] = []
        self.thread = threading.Thread(target=self.loop, daemon=True)

    def loop(self) -> None:
        while not self.stop.is_set():
            report = self.world.run()
            self.errors += report.errors
            if not report.found_work:
                self.stop.wait(0.2)


@dataclass
class Scenario:
    world: StoreWorld
    batch: str
    first: tuple[int, list[str]]
    again: tuple[int, list[str]]
    export: str
    counter_request: str
    redemption: str
    daemon_errors: list[str] = field(default_factory=list)

    def bulk_rows(self) -> list[dict[str, Any]]:
        return [r for r in self.world.online.rows(C.TABLE) if r.get(C.BATCH) == self.batch]


def run_import(setup: BulkSetup, path: Path, *flags: str) -> tuple[int, list[str]]:
    args: argparse.Namespace = cli.build_parser().parse_args(["cards", "import", str(path), *flags])
    out = io.StringIO()
    console = Console(out, interactive=False)
    checked = checked_file(args, setup.currency, setup.limits, console)
    assert checked is not None, out.getvalue()
    code = import_batch(args, checked, setup, console, SystemClock())
    return code, out.getvalue().splitlines()


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scenario]:
    with store_online() as world:
        online = world.online
        config = airtable_config(online.settings, AIRTABLE_TOKEN, penalty=0.5)
        limiters = Limiters(airtable=airtable_limiter(50))  # one limiter, as one process
        airtable, bulk = build_airtable(config, limiters), build_bulk(config, limiters)
        world = replace(world, deps=replace(world.deps, airtable=airtable))
        setup = BulkSetup(airtable, bulk, "USD", online.settings.amount_limits, lambda: None)
        counter = world.creation("30.00", email="walkin@example.com")
        world.run()
        code = world.code_for("walkin@example.com")
        daemon = Daemon(world)
        daemon.thread.start()
        path = tmp_path_factory.mktemp("bulk") / "acme-order.csv"
        path.write_bytes(order_csv())
        batch = check_file(path.read_bytes(), currency="USD", limits=setup.limits).batch
        till: dict[str, Any] = {}

        def redeem_once_the_batch_is_under_way() -> None:
            while not daemon.stop.is_set():  # the first group's Pending rows are its intent
                if any(r.get(G.SOURCE) == "Bulk" for r in online.rows(G.TABLE)):
                    till["id"] = world.redemption(code, "5.00")
                    return
                time.sleep(0.05)

        watcher = threading.Thread(target=redeem_once_the_batch_is_under_way, daemon=True)
        watcher.start()
        try:
            first = run_import(setup, path)
            watcher.join(timeout=30)
            again = run_import(setup, path)
            out = io.StringIO()
            export_cards(setup, None, out)
        finally:
            daemon.stop.set()
            daemon.thread.join(timeout=60)
            airtable.close()
            bulk.close()
        s = Scenario(world, batch, first, again, out.getvalue(), counter, till["id"])
        s.daemon_errors = daemon.errors
        yield s


def _at(text: Any) -> float:
    return datetime.fromisoformat(str(text).replace("Z", "+00:00")).timestamp()


def test_a_twelve_row_import_issues_twelve_cards_with_one_issued_email_each(
    scenario: Scenario,
) -> None:
    code, lines = scenario.first
    assert code == 0, lines
    assert lines[0] == (
        f"acme-order.csv: {ROWS} cards worth 324.00 USD in total "
        f"(batch {scenario.batch}, semicolon-separated)"
    )
    assert lines[-2:] == [f"batch {scenario.batch}: {ROWS} rows", f"  Created  {ROWS:>5}"]
    rows = scenario.bulk_rows()
    assert len(rows) == ROWS and {r[C.STATUS] for r in rows} == {"Done"}
    world = scenario.world
    for row in rows:
        card = world.row(str(row[C.GIFT_CARD][0]))
        assert (card[G.SOURCE], card[G.STATUS], card[G.THEME]) == ("Bulk", "Active", "Thank You")
        issued = world.events(f"create:{row['id']}:recipient")
        assert len(issued) == 1 and issued[0].metric == Metric.ISSUED.value
        assert issued[0].email == row[C.RECIPIENT_EMAIL]
        assert issued[0].properties["message"] == row[C.MESSAGE]
        world.assert_mirrored(str(row[C.GIFT_CARD][0]), str(row[C.AMOUNT]))
    issued_all = [e for e in world.online.klaviyo.events if e.metric == Metric.ISSUED.value]
    assert len(issued_all) == ROWS + 1  # and the counter sale's
    assert scenario.daemon_errors == []


def test_importing_the_same_file_again_creates_nothing(scenario: Scenario) -> None:
    code, lines = scenario.again
    assert code == 0
    assert f"batch {scenario.batch} was imported before: nothing new to create" in lines
    assert len(scenario.bulk_rows()) == ROWS
    shop = scenario.world.online.shop
    with shop.lock:
        assert len(shop.data.cards) == ROWS + 1


def test_a_redemption_submitted_mid_batch_is_finished_before_the_batch(scenario: Scenario) -> None:
    world = scenario.world
    redemption = world.row(scenario.redemption)
    assert redemption[StoreRedemptions.STATUS] == "Done"
    done = [_at(r[C.PROCESSED_AT]) for r in scenario.bulk_rows()]
    assert _at(redemption[StoreRedemptions.PROCESSED_AT]) < max(done)


def test_the_export_holds_every_card_and_no_plaintext_code(scenario: Scenario) -> None:
    world = scenario.world
    codes = [
        str(e.properties["code"]) for e in world.online.klaviyo.events if "code" in e.properties
    ]
    assert len(codes) == ROWS + 1
    text = scenario.export.casefold()
    for code in codes:
        assert code.casefold() not in text
        assert code[:8].casefold() not in text  # not even most of one
    rows = list(csv.DictReader(io.StringIO(scenario.export)))
    assert len(rows) == ROWS + 1
    bulk = [r for r in rows if r["source"] == "Bulk"]
    assert len(bulk) == ROWS and {r["purchaser_name"] for r in bulk} == {"Acme Corp"}
    masked = {r["masked_code"] for r in rows}
    assert masked == {"\u2022" * 8 + c[-4:].upper() for c in codes}
    assert {r["initial_value"] for r in bulk} == {f"{20 + n}.50" for n in range(1, ROWS + 1)}
    receipts = world.receipts()
    assert all(
        receipts[f"create:{r['id']}:purchased"][Receipts.SOURCE] == "Manual"
        for r in scenario.bulk_rows()
    )
