"""The status page's business: headline figures from the summary, the requests that need a
person (with links), stuck requests in /metrics, and a refresh every few minutes only."""

from __future__ import annotations

import http.client
from datetime import timedelta
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from cards.money import Money
from cards.report_figures import Tally
from daemon.http import HttpEndpoint
from daemon.metrics import Metrics
from daemon.service import Service
from daemon.summary import BusinessSummary, SummaryPlan
from tests.daemon.conftest import PURCHASES, idle_job, small_config
from tests.daemon.service_kit import BASE_ID, build_business, summary_for
from tests.fakes import World
from tests.fakes.airtable_reports import FakeReports


def usd(value: str) -> Money:
    return Money.of(value, "USD")


@pytest.fixture
def business(world: World) -> dict[str, str]:
    ids = build_business(world)
    reports_clock = world.clock.now()
    # FakeReports reads these as when each request's Status became Processing.
    world.airtable.created[ids["stuck"]] = reports_clock - timedelta(minutes=15)
    world.airtable.created[ids["fresh"]] = reports_clock - timedelta(minutes=5)
    return ids


def test_headline_figures_come_from_the_summary(world: World, business: dict[str, str]) -> None:
    summary, _ = summary_for(world)
    assert summary.latest() is None
    assert summary.tick()
    snapshot = summary.latest()
    assert snapshot is not None
    dollars = snapshot.headline["USD"]
    assert dollars.owed == usd("110.00")  # 40 + 70; the rehearsal card's 5 is left out
    assert dollars.issued_today == Tally(1, usd("50.00"))
    assert dollars.issued_month == Tally(3, usd("95.00"))  # a voided card was still sold
    assert dollars.redeemed_today == Tally(1, usd("10.00"))
    assert dollars.redeemed_month == Tally(3, usd("65.00"))  # last month's 1.00 is not
    euros = snapshot.headline["EUR"]
    assert euros.owed == Money.of("30.00", "EUR")
    assert euros.issued_today == Tally(1, Money.of("30.00", "EUR"))


def test_needs_attention_and_stuck_requests_are_listed_and_counted(
    world: World, business: dict[str, str]
) -> None:
    metrics = Metrics()
    summary, _ = summary_for(world, metrics)
    summary.tick()
    snapshot = summary.latest()
    assert snapshot is not None
    flagged = {(r.record_id, r.stuck) for r in snapshot.flagged}
    assert flagged == {(business["attention"], False), (business["stuck"], True)}
    samples = {
        (s.name, s.labels.get("table")): s.value
        for family in text_string_to_metric_families(metrics.exposition().decode())
        for s in family.samples
        if s.name == "giftbridge_stuck_requests"
    }
    assert samples[("giftbridge_stuck_requests", "Creation Requests")] == 1
    assert samples[("giftbridge_stuck_requests", "Store Redemptions")] == 0


def test_a_refresh_every_few_minutes_never_per_tick(world: World, business: dict[str, str]) -> None:
    summary, reports = summary_for(world)
    summary.tick()
    first = reports.pages_read
    assert first > 0
    for _ in range(10):  # ten ticks of 15 s: 150 s, inside the 5 minutes
        world.clock.advance(15)
        assert not summary.tick()
    assert reports.pages_read == first
    world.clock.advance(300)
    assert summary.tick() and reports.pages_read > first


def test_a_big_base_stretches_the_interval_to_keep_within_its_budget(world: World) -> None:
    build_business(world)
    reports = FakeReports(world.airtable)
    plan = SummaryPlan(interval=300, rate=0.001, liability_rate=0.001)
    summary = BusinessSummary(reports, world.clock, base_id=BASE_ID, shop_currency="USD", plan=plan)
    summary.tick()
    snapshot = summary.latest()
    assert snapshot is not None and snapshot.every_seconds > 300
    world.clock.advance(301)
    pages = reports.pages_read
    assert summary.tick()  # the requests that need a person: four listings, every 5 minutes
    again = summary.latest()
    assert again is not None and again.refreshed_at == snapshot.refreshed_at  # not the month
    assert reports.pages_read - pages <= 4


def test_a_failed_refresh_keeps_the_figures_and_says_why(
    world: World, business: dict[str, str]
) -> None:
    summary, _ = summary_for(world)
    summary.tick()
    world.clock.advance(301)
    world.injector.arm("airtable.list", "fail_before")
    summary.tick()
    snapshot = summary.latest()
    assert snapshot is not None and snapshot.error is not None and "Retryable" in snapshot.error
    assert snapshot.headline["USD"].owed == usd("110.00")
    world.clock.advance(45)
    assert not summary.tick()  # a failed refresh is tried again after about a minute
    world.clock.advance(16)
    assert summary.tick()
    snapshot = summary.latest()
    assert snapshot is not None and snapshot.error is None


def _get(port: int, path: str) -> tuple[int, str]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read().decode()
    finally:
        conn.close()


def test_the_page_shows_the_business_with_links_to_airtable(
    world: World, business: dict[str, str], tmp_path: Path
) -> None:
    summary, reports = summary_for(world)
    service = Service(
        small_config(http_port=0),
        world.airtable,
        [idle_job(PURCHASES)],
        clock=world.clock,
        metrics=Metrics(),
        owner="till-host:4242:abcdef",
        environ={},
        summary=summary,
        state_dir=tmp_path,
    )
    summary.tick()
    endpoint = HttpEndpoint(
        "127.0.0.1",
        0,
        health=service.health,
        metrics=service.metrics,
        status_rows=service.status_rows,
        about=service.about,
        business=service.business_html,
        latest_report=service.latest_report,
    ).start()
    try:
        status, page = _get(endpoint.port, "/")
        assert status == 200
        table_id = reports.table_ids()["Store Redemptions"]
        link = f"https://airtable.com/{BASE_ID}/{table_id}/{business['attention']}"
        assert link in page
        assert "Store redemption" in page and "Needs Attention (Error)" in page
        assert "left in Processing for more than 10 minutes" in page
        assert business["fresh"] not in page
        assert "110.00" in page and "Owed on cards (USD)" in page
        assert "Online purchases" in page and "running on host till-host" in page
        assert "width=device-width" in page
        assert "giftbridge report" in page and _get(endpoint.port, "/report")[0] == 404
        report = tmp_path / "reports" / "2026-11-22T120000Z" / "report.html"
        report.parent.mkdir(parents=True)
        report.write_text("<!doctype html><p>the report</p>", encoding="utf-8")
        assert "href='/report'" in _get(endpoint.port, "/")[1]
        assert _get(endpoint.port, "/report") == (200, "<!doctype html><p>the report</p>")
    finally:
        endpoint.stop()
