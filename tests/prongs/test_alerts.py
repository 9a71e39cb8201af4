"""Giftbridge Alert: once per cause and subject, across restarts and crashes, over the fakes."""

from __future__ import annotations

import contextlib

import pytest
import structlog

from cards.vocab import Audience, Metric, ReceiptAction, ReceiptSource
from config.layout import Receipts
from prongs.alerts import AlertResult, Alerts
from tests.fakes import SimulatedCrash, World

OPERATOR = "ops@example.com"
REC = "recAAAAAAAAAAAAAA"
KEY = f"alert:needs-attention:{REC}"
LINK = f"https://airtable.com/appX/tblY/{REC}"


def alerts(world: World, email: str | None = OPERATOR) -> Alerts:
    """A fresh Alerts, as a fresh process builds it, over the world's fakes."""
    return Alerts(world.deps(), email, attempts=2, pause_seconds=0)


def needs_attention(world: World, email: str | None = OPERATOR) -> AlertResult:
    return alerts(world, email).send("needs-attention", REC, "Redemption needs a person.", LINK)


def alert_receipts(world: World) -> list[dict[str, object]]:
    return [r for r in world.airtable.receipts() if r[Receipts.ACTION] == ReceiptAction.ALERT_SENT]


def test_an_alert_goes_to_the_operator_with_the_contract_properties() -> None:
    world = World.build()
    assert needs_attention(world) == AlertResult.SENT
    (event,) = world.email.events
    assert (event.metric, event.email) == (Metric.ALERT, OPERATOR)
    assert event.unique_id == f"{KEY}:{Audience.OPERATOR.value}"
    assert dict(event.properties) == {
        "cause": "needs-attention",
        "subject": REC,
        "message": "Redemption needs a person.",
        "link": LINK,
    }
    (receipt,) = alert_receipts(world)
    assert receipt[Receipts.REFERENCE] == f"{KEY}:alert-sent"
    assert receipt[Receipts.SOURCE] == ReceiptSource.DAEMON


def test_once_per_cause_and_subject_even_across_fresh_processes() -> None:
    world = World.build()
    assert needs_attention(world) == AlertResult.SENT
    assert needs_attention(world) == AlertResult.ALREADY_SENT  # a restarted process
    other = alerts(world).send("needs-attention", "recBBBBBBBBBBBBBB", "Another one.")
    assert other == AlertResult.SENT
    another_cause = alerts(world).send("stuck-processing", REC, "Processing for 11 minutes.")
    assert another_cause == AlertResult.SENT
    assert len(world.email.events) == 3 and world.email.duplicates == 0
    assert len(alert_receipts(world)) == 3


@pytest.mark.parametrize("mode", ["crash_before", "crash_after", "drop_after"])
@pytest.mark.parametrize("operation", ["airtable.list", "klaviyo.send", "airtable.upsert"])
def test_a_crash_at_any_call_ends_in_one_email_and_one_receipt(operation: str, mode: str) -> None:
    world = World.build()
    world.injector.arm(operation, mode)
    with contextlib.suppress(SimulatedCrash):
        needs_attention(world)
    world.injector.disarm()
    for _ in range(2):  # fresh processes until the alert is recorded, then no more
        needs_attention(world)
    assert [e.unique_id for e in world.email.events] == [f"{KEY}:operator"]
    assert len(alert_receipts(world)) == 1


def test_a_crash_after_the_email_before_the_receipt_relies_on_klaviyos_unique_id() -> None:
    world = World.build()
    world.injector.arm("airtable.upsert", "crash_before")
    with pytest.raises(SimulatedCrash):
        needs_attention(world)
    assert len(world.email.events) == 1 and alert_receipts(world) == []
    assert needs_attention(world) == AlertResult.SENT  # sent again: Klaviyo drops the repeat
    assert world.email.duplicates == 1 and len(world.email.events) == 1
    assert len(alert_receipts(world)) == 1


def test_an_email_that_keeps_failing_writes_no_receipt_and_is_tried_again() -> None:
    world = World.build()
    world.injector.arm("klaviyo.send", "fail_before")
    world.injector.arm("klaviyo.send", "fail_before")
    assert needs_attention(world) == AlertResult.FAILED
    assert world.email.events == [] and alert_receipts(world) == []
    assert needs_attention(world) == AlertResult.SENT
    assert len(alert_receipts(world)) == 1


def test_without_alert_email_nothing_is_sent_or_read_and_a_debug_line_says_so() -> None:
    world = World.build()
    with structlog.testing.capture_logs() as logs:
        assert needs_attention(world, email=None) == AlertResult.NOT_CONFIGURED
    assert world.injector.calls == []
    assert [(line["log_level"], line["key"]) for line in logs] == [("debug", KEY)]
    assert "ALERT_EMAIL" in logs[0]["event"]
