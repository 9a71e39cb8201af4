"""The push loop against the Airtable stand-in over HTTP, one step at a time: the webhook's
life (create, resume, lost cursor, deleted, expired, refreshed, stale ones), payload reading and
wake-ups, notifications with their MAC, and falling back to polling when push fails."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import stat
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
from pyairtable import Api
from structlog.testing import capture_logs

from config.layout import CreationRequests, StoreRedemptions, Stores
from config.settings import PushMode
from daemon.push import PushLoop
from daemon.push_state import FILENAME
from sandbox.airtable.webhook_spec import SOURCES
from tests.clients.conftest import AIRTABLE_TOKEN, BASE_ID
from tests.daemon.push_rig import PushRig, serving_rig

NOTIFY_URL = "http://127.0.0.1:9/airtable/notify"  # nobody listens: pings fail


@pytest.fixture
def rig_factory(tmp_path: Path) -> Iterator[Callable[..., PushRig]]:
    with ExitStack() as stack:
        yield lambda **kwargs: stack.enter_context(serving_rig(tmp_path / "state", **kwargs))


@pytest.fixture
def rig(rig_factory: Callable[..., PushRig]) -> PushRig:
    return rig_factory()


def started(rig: PushRig, **kwargs: object) -> PushLoop:
    """A loop that made its first step (webhook ready, first read done), woken flag cleared."""
    loop = rig.loop(**kwargs)  # type: ignore[arg-type]
    loop.step()
    loop.waker.take()
    return loop


def test_first_start_creates_the_webhook_and_wakes_the_store_once(rig: PushRig) -> None:
    loop = rig.loop()
    loop.step()
    [hook] = rig.hooks().values()
    sources = set(hook["specification"]["options"]["filters"]["fromSources"])
    assert sources == SOURCES - {"publicApi"}  # every source Airtable names but its own API
    assert loop.waker.take()  # a new webhook knows nothing of the past: one full poll
    assert rig.health == [True] and rig.alerts == []
    saved = rig.state_dir / FILENAME
    assert stat.S_IMODE(saved.stat().st_mode) == 0o600
    data = json.loads(saved.read_text())
    assert data["webhook_id"] == hook["id"] and data["cursor"] == 1
    assert data["mac_secret_base64"] not in repr(loop.keeper.state)


def test_a_form_wakes_the_store_and_the_daemons_own_writes_do_not(rig: PushRig) -> None:
    loop = started(rig)
    rig.submit(StoreRedemptions.TABLE)
    rig.advance(loop.step())
    assert loop.waker.take()
    assert loop.keeper.state is not None and loop.keeper.state.cursor == 2

    api = Api(AIRTABLE_TOKEN, endpoint_url=rig.url)  # the daemon's own writes: publicApi
    api.table(BASE_ID, StoreRedemptions.TABLE).create({StoreRedemptions.CODE: "OWN"})
    rig.advance(loop.step())
    assert not loop.waker.take() and loop.keeper.state.cursor == 2  # not even a payload

    rig.base.create(Stores.TABLE, [{Stores.NAME: "Edited by hand"}])  # not a request table
    rig.advance(loop.step())
    assert not loop.waker.take() and loop.keeper.state.cursor == 3  # read, and left alone

    rig.submit(CreationRequests.TABLE)
    loop.step()
    assert loop.waker.take()
    api.session.close()


def test_a_restart_resumes_the_saved_webhook_and_cursor(rig: PushRig) -> None:
    first = started(rig)
    rig.submit()
    first.step()
    assert first.keeper.state is not None
    webhook = first.keeper.state.webhook_id

    again = rig.loop()
    again.step()
    assert again.keeper.state is not None
    assert again.keeper.state.webhook_id == webhook and again.keeper.state.cursor == 2
    assert list(rig.hooks()) == [webhook]
    assert not again.waker.take()  # nothing missed: no extra poll
    rig.submit()
    again.step()
    assert again.waker.take()


def test_a_lost_cursor_makes_a_new_webhook_and_deletes_the_stale_one(
    rig_factory: Callable[..., PushRig],
) -> None:
    rig = rig_factory(webhook_lifetime_seconds=3600.0)  # expiring within days: nobody keeps it
    old = started(rig)
    assert old.keeper.state is not None
    (rig.state_dir / FILENAME).unlink()
    rig.submit()  # while the daemon is down: its payload is lost with the cursor

    fresh = rig.loop()
    with capture_logs() as logs:
        fresh.step()
    assert fresh.keeper.state is not None
    assert list(rig.hooks()) == [fresh.keeper.state.webhook_id] != [old.keeper.state.webhook_id]
    assert fresh.waker.take()  # the full poll finds the submission the cursor forgot
    created = [e for e in logs if e["event"] == "push.webhook_created"]
    assert created and "STATE_DIR was lost" in created[0]["reason"]


def test_two_giftbridges_on_one_base_never_delete_each_others_webhook(
    rig_factory: Callable[..., PushRig],
) -> None:
    rig = rig_factory()  # Airtable's 7 days: a webhook read and refreshed is never stale
    one = started(rig)
    rig.state_dir = rig.state_dir.with_name("other-state")
    other = started(rig)
    for _ in range(3):
        one.step()
        other.step()
    assert len(rig.hooks()) == 2
    rig.submit()
    one.step()
    other.step()
    assert one.waker.take() and other.waker.take()


def test_a_deleted_webhook_is_replaced_at_the_next_read(rig: PushRig) -> None:
    loop = started(rig)
    assert loop.keeper.state is not None
    gone = loop.keeper.state.webhook_id
    with rig.sandbox.lock:
        rig.sandbox.webhooks.delete(rig.sandbox.find_base(BASE_ID), gone)  # type: ignore[arg-type]
    rig.submit()  # recorded by nobody
    loop.step()
    assert loop.keeper.state.webhook_id not in (gone, None)
    assert list(rig.hooks()) == [loop.keeper.state.webhook_id]
    assert loop.waker.take()  # the safety net's full poll, at once
    assert rig.health == [True] and rig.alerts == []


def test_an_expired_webhook_is_replaced_at_the_next_check(rig: PushRig) -> None:
    loop = started(rig, check_seconds=60.0)
    assert loop.keeper.state is not None
    expired = loop.keeper.state.webhook_id
    rig.sandbox.webhooks.expire(expired)
    rig.advance(30)
    loop.step()
    assert loop.keeper.state.webhook_id == expired  # not checked yet
    rig.advance(30)
    loop.step()
    assert loop.keeper.state.webhook_id != expired
    assert rig.hooks()[loop.keeper.state.webhook_id]["isHookEnabled"]
    assert expired not in rig.hooks()
    assert loop.waker.take()


def test_a_webhook_that_expired_while_the_daemon_was_down_is_replaced_at_start(
    rig: PushRig,
) -> None:
    first = started(rig)
    assert first.keeper.state is not None
    rig.sandbox.webhooks.expire(first.keeper.state.webhook_id)
    again = rig.loop()
    again.step()
    assert again.keeper.state is not None
    assert again.keeper.state.webhook_id != first.keeper.state.webhook_id
    assert again.waker.take()


def test_a_cursor_airtable_refuses_is_a_lost_cursor(rig: PushRig) -> None:
    loop = started(rig)
    assert loop.keeper.state is not None
    old = loop.keeper.state.webhook_id
    loop.keeper.state = loop.keeper.state.at(99)
    loop.step()
    assert loop.keeper.state.webhook_id != old and loop.keeper.state.cursor == 1
    assert loop.waker.take()


def test_the_webhook_is_refreshed_daily(rig: PushRig) -> None:
    loop = started(rig)

    def refreshes() -> int:
        return sum(1 for e in rig.sandbox.request_log if e.path.endswith("/refresh"))

    rig.advance(86_399)
    loop.step()
    assert refreshes() == 0
    rig.advance(1)
    loop.step()
    assert refreshes() == 1


def test_failing_calls_fall_back_to_polling_and_alert_then_recover(rig: PushRig) -> None:
    loop = started(rig)
    rig.sandbox.faults.add("airtable.payloads", "fail_before", times=1000)
    elapsed = 0.0
    while rig.health == [True]:
        delay = loop.step()
        rig.advance(delay)
        elapsed += delay
        assert elapsed < 60
    assert elapsed >= 10  # a passing failure is not a fall-back
    assert rig.health == [True, False]
    assert len(rig.alerts) == 1 and "failing" in rig.alerts[0]
    assert loop.view().healthy is False
    rig.sandbox.faults.clear()
    rig.advance(loop.step())
    loop.step()
    assert rig.health == [True, False, True] and len(rig.alerts) == 1


def test_setting_up_a_webhook_that_keeps_failing_is_an_alert(rig: PushRig) -> None:
    rig.sandbox.faults.add("airtable.webhooks", "fail_before", times=1000)
    loop = rig.loop()
    for _ in range(10):
        rig.advance(loop.step())
    assert rig.health == [False] and len(rig.alerts) == 1
    assert loop.view().webhook_id is None


# --- notify mode -----------------------------------------------------------------------------
def _ping(loop: PushLoop, secret: bytes | None = None) -> tuple[bytes, str]:
    state = loop.keeper.state
    assert state is not None
    body = json.dumps(
        {"base": {"id": BASE_ID}, "webhook": {"id": state.webhook_id}, "timestamp": "x"}
    ).encode()
    key = secret or base64.b64decode(state.mac_secret_base64)
    return body, "hmac-sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest()


def test_notify_reads_payloads_on_a_verified_ping_only(rig: PushRig) -> None:
    loop = started(rig, mode=PushMode.NOTIFY, url=NOTIFY_URL)
    assert rig.hooks()[loop.webhook_id or ""]["notificationUrl"] == NOTIFY_URL
    rig.submit()
    reads = rig.payload_reads()
    rig.advance(loop.step())
    assert rig.payload_reads() == reads and not loop.waker.pending  # no ping, no read

    body, mac = _ping(loop, secret=b"not the secret")
    with capture_logs() as logs:
        assert loop.notification(body, {"x-airtable-content-mac": mac}) == 401
        assert loop.notification(body, {}) == 401
    assert [e["event"] for e in logs] == ["push.notification_rejected"] * 2
    loop.step()
    assert rig.payload_reads() == reads and not loop.waker.pending  # nothing read, nothing run

    body, mac = _ping(loop)
    assert loop.notification(body, {"x-airtable-content-mac": mac}) == 204
    loop.step()
    assert rig.payload_reads() == reads + 1 and loop.waker.take()


def test_notify_reads_payloads_with_the_safety_net_when_no_ping_comes(rig: PushRig) -> None:
    loop = started(rig, mode=PushMode.NOTIFY, url=NOTIFY_URL)
    rig.submit()
    rig.advance(599)
    loop.step()
    assert not loop.waker.pending
    rig.advance(1)
    loop.step()
    assert loop.waker.take()


def test_notify_is_unhealthy_while_airtable_cannot_reach_public_url(rig: PushRig) -> None:
    loop = started(rig, mode=PushMode.NOTIFY, url=NOTIFY_URL, check_seconds=60.0)
    rig.submit()  # Airtable pings NOTIFY_URL: connection refused
    deadline = time.monotonic() + 5
    while rig.hooks()[loop.webhook_id or ""]["lastNotificationResult"] is None:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    rig.advance(60)
    loop.step()
    assert rig.health == [True, False]
    assert "cannot reach PUBLIC_URL" in rig.alerts[0]
    body, mac = _ping(loop)  # then a ping gets through (the proxy is fixed)
    assert loop.notification(body, {"x-airtable-content-mac": mac}) == 204
    loop.step()
    assert rig.health == [True, False, True] and len(rig.alerts) == 1


def test_the_hourly_check_stands_in_for_a_read_when_nothing_is_new(rig: PushRig) -> None:
    loop = started(rig, check_seconds=60.0)
    reads = rig.payload_reads()
    rig.advance(60)
    loop.step()  # the list shows the cursor Airtable would answer: no read
    assert rig.payload_reads() == reads
    rig.submit()
    rig.advance(60)
    loop.step()
    assert rig.payload_reads() == reads + 1 and loop.waker.take()


def test_no_reads_while_the_store_prong_runs_and_one_right_after(rig: PushRig) -> None:
    loop = started(rig)
    running = [True]
    loop.store_running = lambda: running[0]
    reads = rig.payload_reads()
    rig.submit()
    loop.step()
    loop.step()
    assert rig.payload_reads() == reads and not loop.waker.pending
    running[0] = False
    loop.nudge()  # the run ended
    assert loop._event.is_set()  # the thread steps at once
    loop.step()
    assert rig.payload_reads() == reads + 1 and loop.waker.take()
    loop._event.clear()
    loop.nudge()  # nothing was put off this time: no extra read
    assert not loop._event.is_set()


def test_notify_does_not_spin_while_a_read_waits_for_the_store_run(rig: PushRig) -> None:
    loop = started(rig, mode=PushMode.NOTIFY, url=NOTIFY_URL)
    loop.store_running = lambda: True
    body, mac = _ping(loop)
    assert loop.notification(body, {"x-airtable-content-mac": mac}) == 204
    assert loop.step() > 1.0  # no read, and no busy loop until the run ends
    loop.store_running = lambda: False
    loop.nudge()
    assert loop._event.is_set()
