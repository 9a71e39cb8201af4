"""The endpoint over real HTTP on loopback: /healthz rules, /metrics exposition, the page."""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator

import pytest
from prometheus_client.parser import text_string_to_metric_families

from config.layout import Status
from daemon.health import HealthBook, RunRecord, RunResult
from daemon.http import EndpointError, HttpEndpoint, health_document
from daemon.metrics import Metrics
from daemon.service import Service
from tests.daemon.conftest import (
    PURCHASES,
    STORE,
    WorkJob,
    build_service,
    idle_job,
    small_config,
    status_row,
)
from tests.fakes import FakeClock, World


def _get(port: int, path: str) -> tuple[int, str, str]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.getheader("Content-Type", ""), response.read().decode()
    finally:
        conn.close()


@pytest.fixture
def served(world: World) -> Iterator[tuple[Service, int]]:
    jobs = [WorkJob(STORE, items=2).job(), idle_job(PURCHASES)]
    service, _ = build_service(world, jobs, config=small_config(http_port=0))
    service.preflight()
    endpoint = HttpEndpoint(
        "127.0.0.1",
        0,
        health=service.health,
        metrics=service.metrics,
        status_rows=service.status_rows,
        about=service.about,
    ).start()
    try:
        yield service, endpoint.port
    finally:
        endpoint.stop()


def _book(clock: FakeClock) -> HealthBook:
    return HealthBook([STORE, PURCHASES], clock, hung_after=90, stall_after=120)


def _record(clock: FakeClock, result: RunResult) -> RunRecord:
    return RunRecord(clock.now(), 0.1, result)


def test_healthz_is_200_with_details_while_runs_finish(served: tuple[Service, int]) -> None:
    service, port = served
    for job in service.jobs.values():
        service.runner.run(job)
    status, kind, body = _get(port, "/healthz")
    assert status == 200 and kind == "application/json"
    document = json.loads(body)
    assert document["status"] == "ok" and document["problems"] == []
    assert document["prongs"][STORE]["state"] == "idle"
    assert document["prongs"][STORE]["runs"] == 1


def test_healthz_is_503_when_a_prong_is_hung(served: tuple[Service, int], world: World) -> None:
    service, port = served
    service.health.started(STORE)
    world.clock.advance(91)
    service.health.finished(PURCHASES, _record(world.clock, RunResult.OK))
    status, _, body = _get(port, "/healthz")
    assert status == 503
    assert json.loads(body)["prongs"][STORE]["state"] == "hung"


def test_healthz_fails_only_after_ten_minutes_of_nothing_but_failures() -> None:
    clock = FakeClock()
    book = _book(clock)
    for i in range(40):  # a failed run every 15 s for 9 min 45 s
        clock.advance(15 if i else 0)
        book.finished(STORE, _record(clock, RunResult.FAILED))
        book.finished(PURCHASES, _record(clock, RunResult.OK))
    assert health_document(book)[0] == 200
    clock.advance(15)
    book.finished(STORE, _record(clock, RunResult.FAILED))  # 10 minutes of failures
    book.finished(PURCHASES, _record(clock, RunResult.OK))
    status, body = health_document(book)
    assert status == 503 and body["prongs"][STORE]["state"] == "failing"
    book.finished(STORE, _record(clock, RunResult.SKIPPED))  # a skip proves nothing
    assert health_document(book)[0] == 503
    book.finished(STORE, _record(clock, RunResult.OK))  # one success clears it
    assert health_document(book)[0] == 200


def test_a_success_in_between_restarts_the_ten_minutes() -> None:
    clock = FakeClock()
    book = _book(clock)
    for i in range(60):
        result = RunResult.OK if i == 30 else RunResult.FAILED
        book.finished(STORE, _record(clock, result))
        book.finished(PURCHASES, _record(clock, RunResult.OK))
        clock.advance(15)
    assert health_document(book)[0] == 200  # 15 minutes, but a success 7.5 minutes ago


def test_a_paused_prong_never_makes_healthz_fail() -> None:
    clock = FakeClock()
    book = _book(clock)
    book.set_paused(STORE, True)
    book.finished(PURCHASES, _record(clock, RunResult.OK))
    clock.advance(100)
    book.finished(PURCHASES, _record(clock, RunResult.OK))
    status, body = health_document(book)
    assert status == 200 and body["prongs"][STORE]["state"] == "paused"


def test_metrics_exposition_parses(served: tuple[Service, int]) -> None:
    service, port = served
    for job in service.jobs.values():
        service.runner.run(job)
    service.metrics.outside_call("shopify", "giftCardDebit", 0.2, error="RateLimited")
    service.metrics.rate_limit_wait("airtable", 1.5)
    service.metrics.set_queue_depth("Store Redemptions", 4)
    status, kind, body = _get(port, "/metrics")
    assert status == 200 and kind.startswith("text/plain")
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(body)
        for s in family.samples
    }
    assert samples[("giftbridge_runs_total", (("prong", STORE), ("result", "ok")))] == 1
    assert samples[("giftbridge_outcomes_total", (("outcome", "Success"), ("prong", STORE)))] == 2
    assert ("giftbridge_run_seconds_count", (("prong", STORE),)) in samples
    errors = (("kind", "RateLimited"), ("service", "shopify"))
    assert samples[("giftbridge_outside_errors_total", errors)] == 1
    waits = (("service", "airtable"),)
    assert samples[("giftbridge_rate_limit_wait_seconds_total", waits)] == 1.5
    assert samples[("giftbridge_queue_depth", (("queue", "Store Redemptions"),))] == 4


def test_the_status_page_shows_each_prong_for_a_person(
    served: tuple[Service, int], world: World
) -> None:
    service, port = served
    record = str(status_row(world, STORE)["id"])
    world.airtable.tables[Status.TABLE][record][Status.LAST_ERROR] = "<script>x</script>"
    for job in service.jobs.values():
        service.runner.run(job)
    status, kind, page = _get(port, "/")
    assert status == 200 and kind.startswith("text/html")
    assert "http-equiv=refresh" in page
    assert STORE in page and PURCHASES in page
    assert "Success 2" in page  # the store run's outcomes
    assert "<script>" not in page  # everything is escaped
    assert _get(port, "/nope")[0] == 404


def test_metrics_registries_are_independent() -> None:
    a, b = Metrics(), Metrics()
    a.run_skipped(STORE, "paused")
    assert b'reason="paused"' not in b.exposition()
    assert b'reason="paused"' in a.exposition()


def test_a_taken_port_is_one_clear_error(served: tuple[Service, int]) -> None:
    service, port = served
    second = HttpEndpoint(
        "127.0.0.1",
        port,
        health=service.health,
        metrics=service.metrics,
        status_rows=service.status_rows,
        about=service.about,
    )
    with pytest.raises(EndpointError, match=f"127.0.0.1:{port}.*GIFTBRIDGE_HTTP_PORT"):
        second.start()
