"""``giftbridge check --rehearse`` over HTTP against the stand-ins: every step done for real and
proved, nothing that looks like business left behind, safe to run twice and to interrupt."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path

import pytest

from cards.ledger import is_rehearsal
from cards.money import Money
from cards.vocab import Metric, RequestStatus
from clients.records import TransactionResult
from config.layout import Receipts, StoreRedemptions
from daemon import bootstrap, bootstrap_check, cli, rehearsal, rehearsal_ports
from daemon.metrics import Metrics
from sandbox.stack import Sandbox
from tests.daemon.test_check_command import SECRET_NAMES, stand_ins

pytestmark = pytest.mark.slow
__all__ = ["stand_ins"]  # the fixture, shared with the check tests
ALERTS_TO = "ops@example.com"
REQUEST_TABLES = ("Store Redemptions", "Creation Requests", "Balance Checks", "Card Actions")


@pytest.fixture
def rehearsing(stand_ins: Sandbox, monkeypatch: pytest.MonkeyPatch) -> Iterator[Sandbox]:
    monkeypatch.setenv("GIFTBRIDGE_ALERT_EMAIL", ALERTS_TO)
    yield stand_ins


def _receipts(sandbox: Sandbox) -> list[dict[str, object]]:
    return [r["fields"] for r in sandbox.airtable.base().records(Receipts.TABLE)]


def _request_rows(sandbox: Sandbox) -> list[dict[str, object]]:
    base = sandbox.airtable.base()
    return [r for table in REQUEST_TABLES for r in base.records(table)]


def test_the_rehearsal_proves_each_step_and_is_safe_to_run_twice(
    rehearsing: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    secrets = [rehearsing.environment()[n] for n in SECRET_NAMES]
    for run in (1, 2):
        time.sleep(1.1)  # each command has its own limiter: let the base's 1 s window pass
        assert cli.main(["check", "--rehearse"]) == 0
        out, err = capsys.readouterr()
        assert err == "" and not [s for s in secrets if s in out]
        proved = [line for line in out.splitlines() if line.startswith("proved: ")]
        assert len(proved) == 6, out
        assert "Shopify created a card of 5.00 USD" in proved[0]
        assert "debited 0.01 USD (balance 4.99 USD)" in proved[1]
        assert "balance 5.00 USD" in proved[1]
        assert "deactivated" in proved[2]
        assert ALERTS_TO in proved[3]
        assert "5 receipts marked rehearsal" in proved[4]
        assert all(t in proved[5] for t in REQUEST_TABLES)
        assert out.splitlines()[-1] == "rehearsal: every step passed"
        assert out.count("left behind: ") == 2
        cards = rehearsing.shopify.state()["cards"]
        assert len(cards) == run
    cards = rehearsing.shopify.state()["cards"]
    assert all(not c["enabled"] for c in cards)  # each deactivated: never spendable
    notes = {c["note"] for c in cards}
    assert len(notes) == 2 and all(n.startswith("giftbridge rehearsal:") for n in notes)
    for card in cards:
        moves = [
            (t["kind"], Decimal(str(t["amount"])))
            for t in rehearsing.shopify.state()["card_transactions"]
            if t["gift_card_id"] == card["id"]
        ]
        assert sorted(moves) == [("credit", Decimal("0.01")), ("debit", Decimal("0.01"))]
    receipts = _receipts(rehearsing)
    assert len(receipts) == 10  # five a run, each marked: the books leave them out
    assert all(is_rehearsal(str(r[Receipts.REFERENCE]), str(r[Receipts.DETAILS])) for r in receipts)
    assert _request_rows(rehearsing) == []  # the test rows were deleted
    alerts = rehearsing.klaviyo.events_for(Metric.ALERT.value, ALERTS_TO)
    assert len(alerts) == 2 and len({a.unique_id for a in alerts}) == 2
    assert all(a.properties["cause"] == "rehearsal" for a in alerts)
    assert not (Path.cwd() / "state" / rehearsal_ports.JOURNAL).exists()


@dataclass
class InterruptedShop:
    """The real adapter, with Ctrl-C pressed while the credit is on its way."""

    shop: rehearsal_ports.RehearsalShop

    def __getattr__(self, name: str) -> object:
        return getattr(self.shop, name)

    def credit(self, card_id: str, amount: Money, note: str) -> TransactionResult:
        raise KeyboardInterrupt


def test_an_interrupted_rehearsal_says_so_and_the_next_one_cleans_up(
    rehearsing: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    settings, stop = bootstrap.connect(bootstrap.load(), quiet=True)
    clients = bootstrap.build_clients(settings, Metrics())
    try:
        setup = bootstrap_check.rehearsal_setup(settings)
        ports = bootstrap_check.rehearsal_ports(settings, clients)
        interrupted = replace(ports, shop=InterruptedShop(ports.shop))  # type: ignore[arg-type]
        lines: list[str] = []
        with pytest.raises(KeyboardInterrupt):
            rehearsal.rehearse(setup, interrupted, lines.append)
        assert "interrupted" in lines[-1] and "clean up" in lines[-1]
        (card,) = rehearsing.shopify.state()["cards"]
        assert card["enabled"]  # left behind: debited, not credited back, not deactivated
        journal = rehearsal_ports.Journal.load(setup.state_dir / rehearsal_ports.JOURNAL)
        assert journal is not None and journal.card_id == card["id"]
        assert journal.code_sealed and card["code"] not in journal.code_sealed.lower()
        # A test row an interrupted run left in a request table:
        rehearsing.airtable.base().create(
            StoreRedemptions.TABLE,
            [{StoreRedemptions.STAFF_NAME: "giftbridge rehearsal x", "Status": "Rejected"}],
        )
        lines.clear()
        report = rehearsal.rehearse(setup, ports, lines.append)
        assert report.ok, lines
        assert (
            f"rehearsal: deactivated the card {card['id']} an interrupted rehearsal made" in lines
        )
        assert "rehearsal: deleted 1 test row(s) an earlier rehearsal left" in lines
    finally:
        clients.close()
        stop()
    cards = rehearsing.shopify.state()["cards"]
    assert len(cards) == 2 and not any(c["enabled"] for c in cards)
    assert _request_rows(rehearsing) == []
    assert RequestStatus.REJECTED.value == "Rejected"
