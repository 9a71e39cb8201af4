"""Alerts for Needs Attention and stuck requests and for a prong failing every run for 10
minutes: once per cause and subject, across restarts, with an Alert Sent receipt each."""

from __future__ import annotations

from datetime import timedelta

from cards.vocab import Metric, ReceiptAction, RequestStatus
from clients.report_records import AIRTABLE_WEB
from config.layout import Receipts, StoreRedemptions
from daemon.alert_watch import AlertWatch
from daemon.health import HealthBook, RunRecord, RunResult
from prongs.alerts import Alerts
from tests.daemon.service_kit import BASE_ID, add_request, build_business, summary_for
from tests.fakes import World

OPERATOR = "ops@example.com"
PRONG = "store-transactions"


def watch(
    world: World, health: HealthBook | None = None, email: str | None = OPERATOR
) -> AlertWatch:
    """A fresh watch, as a (re)started process builds one; its summary read once."""
    summary, _ = summary_for(world)
    summary.tick()
    book = health or HealthBook([PRONG], world.clock, hung_after=90, stall_after=120)
    alerts = Alerts(world.deps(), email, attempts=2, pause_seconds=0)
    return AlertWatch(alerts, book, summary, world.clock, status_url="http://127.0.0.1:8377/")


def alerts_sent(world: World) -> dict[str, dict[str, object]]:
    return {
        str(e.properties["cause"]) + " " + str(e.properties["subject"]): dict(e.properties)
        for e in world.email.events
        if e.metric == Metric.ALERT
    }


def stuck_world() -> tuple[World, dict[str, str]]:
    world = World.build()
    ids = build_business(world)
    world.airtable.created[ids["stuck"]] = world.clock.now() - timedelta(minutes=15)
    world.airtable.created[ids["fresh"]] = world.clock.now() - timedelta(minutes=5)
    return world, ids


def test_needs_attention_and_stuck_requests_are_alerted_once_across_restarts() -> None:
    world, ids = stuck_world()
    first = watch(world)
    assert first.tick() == 2
    sent = alerts_sent(world)
    assert set(sent) == {f"needs-attention {ids['attention']}", f"stuck-processing {ids['stuck']}"}
    attention = sent[f"needs-attention {ids['attention']}"]
    assert str(attention["link"]).startswith(f"{AIRTABLE_WEB}/{BASE_ID}/")
    assert "Error" in str(attention["message"]) and "7KQ2" in str(attention["message"])
    reads = world.injector.count("airtable.list")
    assert first.tick() == 0 and world.injector.count("airtable.list") == reads  # in memory
    assert watch(world).tick() == 0  # a restarted process: the receipts say it was done
    assert len(alerts_sent(world)) == 2 and world.email.duplicates == 0
    receipts = [
        r for r in world.airtable.receipts() if r[Receipts.ACTION] == ReceiptAction.ALERT_SENT
    ]
    assert sorted(r[Receipts.REFERENCE] for r in receipts) == sorted(
        [
            f"alert:needs-attention:{ids['attention']}:alert-sent",
            f"alert:stuck-processing:{ids['stuck']}:alert-sent",
        ]
    )


def test_old_needs_attention_history_is_not_mailed() -> None:
    world = World.build()
    old = add_request(world, StoreRedemptions.TABLE, RequestStatus.NEEDS_ATTENTION, "Error")
    world.airtable.created[old] = world.clock.now() - timedelta(days=3)
    assert watch(world).tick() == 0


def test_a_prong_failing_every_run_for_ten_minutes_is_alerted_once_per_outage() -> None:
    world = World.build()
    health = HealthBook([PRONG], world.clock, hung_after=90, stall_after=120)
    watcher = watch(world, health)

    def runs(result: RunResult, minutes: int) -> None:
        for _ in range(minutes * 4):
            health.started(PRONG)
            world.clock.advance(15)
            detail = "Retryable: airtable down" if result is RunResult.FAILED else None
            health.finished(PRONG, RunRecord(world.clock.now(), 1.0, result, detail=detail))
            watcher.tick()

    runs(RunResult.FAILED, 9)
    assert alerts_sent(world) == {}
    runs(RunResult.FAILED, 3)
    (first,) = alerts_sent(world).values()
    assert first["cause"] == "prong-failing" and str(first["subject"]).startswith(f"{PRONG}@")
    assert "airtable down" in str(first["message"]) and first["link"] == "http://127.0.0.1:8377/"
    runs(RunResult.FAILED, 10)
    assert len(alerts_sent(world)) == 1  # the same outage
    runs(RunResult.OK, 1)
    runs(RunResult.FAILED, 11)
    assert len(alerts_sent(world)) == 2  # a new outage


def test_without_alert_email_nothing_is_read_or_sent() -> None:
    world, _ = stuck_world()
    watcher = watch(world, email=None)
    calls = len(world.injector.calls)
    assert watcher.tick() == 0 and len(world.injector.calls) == calls


def test_a_failing_email_is_tried_again_next_tick() -> None:
    world, _ = stuck_world()
    watcher = watch(world)
    for _ in range(4):  # two alerts, two attempts each
        world.injector.arm("klaviyo.send", "fail_before")
    assert watcher.tick() == 0
    assert watcher.tick() == 2
    assert len(alerts_sent(world)) == 2
