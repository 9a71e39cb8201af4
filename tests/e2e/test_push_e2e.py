"""Push end to end: the daemon as ``giftbridge run`` assembles it, with a 60-second tick, against
the stand-ins over HTTP. A form submission is finished within seconds (not at the next tick);
the daemon's own writes never wake it; a deleted webhook, a lost cursor and an expired webhook
are each replaced and nothing is lost; a ping with a bad MAC is refused and runs nothing."""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from cards.vocab import Metric
from config.settings import PushMode
from daemon.push_state import FILENAME
from sandbox.stack import Sandbox
from tests.e2e.push_daemon import Daemon, running_daemon, sandbox_trio

FAST = 6.0  # seconds: far below the 60 s tick, with room for a busy test machine


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[Sandbox]:
    with sandbox_trio(tmp_path) as trio:
        yield trio


def _webhooks(sandbox: Sandbox) -> dict[str, dict[str, object]]:
    with sandbox.airtable.lock:
        return {h["id"]: h for h in sandbox.airtable.webhooks.describe()}


def _counter(daemon: Daemon, name: str, labels: dict[str, str] | None = None) -> float:
    value = daemon.service.metrics.registry.get_sample_value(name, labels or {})
    return value or 0.0


def test_poll_forms_are_served_in_seconds_own_writes_never_wake_a_deleted_webhook_is_replaced(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    with running_daemon(sandbox, tmp_path / "daemon") as daemon:
        push = daemon.service.push
        assert push is not None
        wakeups = push.waker.wakeups
        started = time.monotonic()
        code = daemon.issue_card()
        assert time.monotonic() - started < FAST
        fields, seconds = daemon.wait_final(daemon.redeem(code))
        assert fields["Status"] == "Done" and fields["Outcome"] == "Success"
        assert seconds < FAST
        notices = daemon.sandbox.klaviyo.events_for(Metric.STORE_NOTICE.value)
        redemptions = [n for n in notices if n.properties["notice"] == "redemption"]
        assert [n.properties["outcome"] for n in redemptions] == ["Success"]

        time.sleep(1.5)  # three more payload reads after all the daemon's own writes
        assert push.waker.wakeups == wakeups + 2  # the two forms, nothing else
        [(old, hook)] = _webhooks(sandbox).items()
        assert hook["payloadCount"] == 2  # its own writes never even made a payload
        assert _counter(daemon, "giftbridge_push_healthy") == 1
        assert _counter(daemon, "giftbridge_push_wakeups_total") == push.waker.wakeups
        assert "poll, healthy" in daemon.service.about()["push"]

        with sandbox.airtable.lock:  # an operator deletes the webhook: the next form's
            base = sandbox.airtable.find_base(daemon.base.id)  # payload goes nowhere
            sandbox.airtable.webhooks.delete(base, old)  # type: ignore[arg-type]
        fields, seconds = daemon.wait_final(daemon.redeem(code))
        assert fields["Outcome"] == "Success" and seconds < FAST  # the new one's full poll
        assert list(_webhooks(sandbox)) not in ([], [old])


def _post(port: int, body: bytes, headers: dict[str, str]) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("POST", "/airtable/notify", body=body, headers=headers)
        return conn.getresponse().status
    finally:
        conn.close()


def test_notify_refuses_a_bad_mac_and_serves_forms_through_the_endpoint(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    with running_daemon(sandbox, tmp_path / "daemon", PushMode.NOTIFY) as daemon:
        [(hook_id, hook)] = _webhooks(sandbox).items()
        assert hook["notificationUrl"] == f"http://127.0.0.1:{daemon.port}/airtable/notify"
        body = json.dumps({"base": {"id": daemon.base.id}, "webhook": {"id": hook_id}}).encode()
        forged = "hmac-sha256=" + hmac.new(b"guess", body, hashlib.sha256).hexdigest()
        runs, reads = daemon.store_runs(), daemon.payload_reads()
        with capture_logs() as logs:
            assert _post(daemon.port, body, {"X-Airtable-Content-MAC": forged}) == 401
            assert _post(daemon.port, body, {}) == 401
        time.sleep(1.0)
        rejected = [e for e in logs if e["event"] == "push.notification_rejected"]
        assert [e["reason"] for e in rejected] == ["MAC does not match"] * 2
        assert daemon.store_runs() == runs  # nothing run
        assert daemon.payload_reads() == reads  # nothing read: idle notify mode reads nothing

        code = daemon.issue_card()
        fields, seconds = daemon.wait_final(daemon.redeem(code))
        assert fields["Outcome"] == "Success" and seconds < FAST
        accepted = {"result": "accepted"}
        assert _counter(daemon, "giftbridge_push_notifications_total", accepted) >= 2
        assert daemon.payload_reads() - reads <= 4  # one read per ping (and per page)
        result = _webhooks(sandbox)[hook_id]["lastNotificationResult"]
        assert isinstance(result, dict) and result["success"] is True


def test_after_a_restart_a_lost_cursor_or_an_expired_webhook_is_replaced_and_nothing_is_lost(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    state = tmp_path / "daemon"
    with running_daemon(sandbox, state) as daemon:
        code = daemon.issue_card()
        old = daemon.service.push.loop.webhook_id if daemon.service.push else None
    for loss in ("lost cursor", "expired webhook"):
        assert old is not None
        if loss == "lost cursor":
            (state / FILENAME).unlink()
        else:
            sandbox.airtable.webhooks.expire(old)
        waiting = daemon.redeem(code)  # submitted while the daemon is down
        with running_daemon(sandbox, state) as again:
            fields, _ = again.wait_final(waiting)
            assert fields["Outcome"] == "Success", loss
            push = again.service.push
            assert push is not None and push.loop.webhook_id not in (None, old), loss
            fields, seconds = again.wait_final(again.redeem(code))
            assert fields["Outcome"] == "Success" and seconds < FAST, loss
            old = push.loop.webhook_id
