"""``giftbridge report`` end to end: real prongs sell and redeem over HTTP against the sandbox,
then the report reads the base through the real adapter and writes what the cards say.

Also the adapter's own reads against the sandbox's Airtable: pages of 100, the date bounds, the
flagged requests (Needs Attention; Processing since before a cut-off, by LAST_MODIFIED_TIME of
Status), and the table ids the links use.
"""

from __future__ import annotations

import argparse
import csv
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cards.vocab import ReceiptAction, RequestStatus
from clients.airtable_budget import airtable_limiter
from clients.airtable_reports import AirtableReports
from clients.factory import Limiters, build_reports
from config.layout import CreationRequests, Receipts, StoreRedemptions
from daemon.report_command import cmd_report
from tests.configs import airtable_config
from tests.prongs_shopify.online_sandbox import AIRTABLE_TOKEN, Online, online

pytestmark = pytest.mark.slow


def _csv(directory: Path, name: str) -> dict[str, list[str]]:
    with (directory / name).open(newline="", encoding="utf-8") as handle:
        return {row[0]: row[1:] for row in csv.reader(handle)}


@pytest.fixture(scope="module")
def shop() -> Iterator[Online]:
    with online() as running:
        yield running


@pytest.fixture(scope="module")
def reports(shop: Online) -> Iterator[AirtableReports]:
    limiters = Limiters(airtable=airtable_limiter(200))
    source = build_reports(airtable_config(shop.settings, AIRTABLE_TOKEN), limiters)
    yield source
    source.close()


def test_the_report_of_a_day_of_trading(shop: Online, tmp_path: Path) -> None:
    shop.sell_at_till("50.00", "ann@example.com")
    shop.sell_at_till("30.00", "bob@example.com")
    shop.store()
    shop.redeem_at_till(shop.issued_code("ann@example.com"), "12.50")
    shop.store()
    now = datetime.now(UTC)
    shop.base.create(  # a go-live rehearsal's receipt: left out of every figure
        Receipts.TABLE,
        [
            {
                Receipts.REFERENCE: "rehearsal:redeem:recX:redeemed",
                Receipts.ACTION: ReceiptAction.REDEEMED.value,
                Receipts.AMOUNT: 1.0,
                Receipts.AT: now.isoformat(),
            }
        ],
    )
    args = argparse.Namespace(start=None, end=None, out=str(tmp_path))
    assert cmd_report(args, shop.settings) == 0
    summary = _csv(tmp_path, "summary-USD.csv")
    assert summary["Issued"] == ["80.00"]
    assert summary["Redeemed in store"] == ["12.50"]
    assert summary["Owed at the end of the period"] == ["67.50"]
    reconciliation = _csv(tmp_path, "reconciliation-USD.csv")
    assert reconciliation["The formula holds"] == ["", "yes"]
    assert reconciliation["Active cards' balances today"] == ["", "67.50"]
    assert reconciliation["Difference (balances - books)"] == ["", "0.00"]
    assert _csv(tmp_path, "issued-by-store-USD.csv")["Main Street"] == ["2", "80.00"]
    page = (tmp_path / "report.html").read_text("utf-8")
    assert "Receipts of a go-live rehearsal (and of its cards): 1" in page
    assert "✓ The books reconcile" in page


def test_receipts_are_read_a_page_of_100_at_a_time_within_the_dates(
    shop: Online, reports: AirtableReports
) -> None:
    start = datetime(2020, 1, 1, tzinfo=UTC)
    rows = [
        {
            Receipts.REFERENCE: f"adjust:old:{i}:adjusted",
            Receipts.ACTION: ReceiptAction.ADJUSTED.value,
            Receipts.AMOUNT: 1.0,
            Receipts.AT: (start + timedelta(hours=i)).isoformat(),
        }
        for i in range(150)
    ]
    shop.base.create(Receipts.TABLE, rows)
    pages = list(reports.iter_receipts(start, start + timedelta(hours=150)))
    assert [len(p) for p in pages] == [100, 50]
    assert len({r.reference for page in pages for r in page}) == 150
    later = list(reports.iter_receipts(start + timedelta(hours=100), start + timedelta(hours=110)))
    assert sum(len(p) for p in later) == 10


def test_flagged_requests_and_table_ids_for_the_links(
    shop: Online, reports: AirtableReports
) -> None:
    (attention, processing) = shop.base.create(
        StoreRedemptions.TABLE,
        [
            {StoreRedemptions.STATUS: RequestStatus.NEEDS_ATTENTION.value},
            {StoreRedemptions.STATUS: RequestStatus.PROCESSING.value},
        ],
    )
    shop.base.create(CreationRequests.TABLE, [{CreationRequests.STATUS: "Done"}])
    now = datetime.now(UTC)
    soon = {r.record_id: r.stuck for r in reports.flagged_requests(now + timedelta(minutes=1))}
    assert soon[attention["id"]] is False and soon[processing["id"]] is True
    earlier = {r.record_id for r in reports.flagged_requests(now - timedelta(minutes=10))}
    assert attention["id"] in earlier and processing["id"] not in earlier
    ids = reports.table_ids()
    schema = {t["name"]: t["id"] for t in shop.base.schema()["tables"]}
    assert ids[StoreRedemptions.TABLE] == schema[StoreRedemptions.TABLE]
    assert ids[StoreRedemptions.TABLE].startswith("tbl")


def test_an_expired_page_iterator_restarts_without_yielding_a_record_twice(
    shop: Online, reports: AirtableReports
) -> None:
    start = datetime(2021, 1, 1, tzinfo=UTC)
    rows = [
        {
            Receipts.REFERENCE: f"adjust:restart:{i}:adjusted",
            Receipts.ACTION: ReceiptAction.ADJUSTED.value,
            Receipts.AMOUNT: 1.0,
            Receipts.AT: (start + timedelta(minutes=i)).isoformat(),
        }
        for i in range(250)
    ]
    shop.base.create(Receipts.TABLE, rows)
    pages = reports.iter_receipts(start, start + timedelta(days=1))
    seen = [r.reference for r in next(pages)]
    shop.airtable_sandbox.expire_iterators()  # the next page's offset is no longer valid
    for page in pages:
        seen += [r.reference for r in page]
    assert len(seen) == len(set(seen)) == 250
