"""The service with push, tick by tick on a fake clock: while push is healthy the Status read,
the heartbeats and the store prong's full poll follow the slow cadence, exactly as
daemon.cadence accounts for them; when push is not healthy, everything is every tick again."""

from __future__ import annotations

from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from config.settings import PushMode
from daemon.cadence import CadenceSwitch, healthy_push
from daemon.metrics import Metrics
from daemon.push import PushConfig, PushLoop
from daemon.push_keeper import WebhookKeeper
from daemon.push_metrics import PushMetrics
from daemon.push_schedule import StoreWaker
from daemon.push_state import WebhookStateFile
from daemon.push_wiring import PushSetup
from daemon.service import Service
from tests.daemon.conftest import (
    PURCHASES,
    REDEMPTIONS,
    STORE,
    RecordingNotifier,
    airtable_calls,
    idle_job,
    idle_store_job,
    small_config,
)
from tests.fakes import World

TICK = 15.0


def _push(world: World, mode: PushMode, tmp_path: Path) -> PushSetup:
    """Push as the service sees it; its thread never starts here (no webhook calls)."""
    keeper = WebhookKeeper(
        None,  # type: ignore[arg-type]
        WebhookStateFile(tmp_path),
        world.clock,
        base_id="appPushServiceTst",
        notification_url=None,
        request_tables=(),
    )
    cadence = CadenceSwitch(TICK, healthy_push(mode, 2.5))
    loop = PushLoop(
        PushConfig(mode),
        keeper,
        StoreWaker(world.clock),
        world.clock,
        PushMetrics(CollectorRegistry(), mode.value),
        on_health=cadence.set_push_healthy,
    )
    return PushSetup(loop, loop.waker, cadence)


def _service(world: World, push: PushSetup) -> Service:
    jobs = [idle_store_job(world.airtable), idle_job(PURCHASES), idle_job(REDEMPTIONS)]
    service = Service(
        small_config(tick_seconds=TICK),
        world.airtable,
        jobs,
        clock=world.clock,
        notifier=RecordingNotifier(),
        metrics=Metrics(),
        owner="host-a:1:aaaaaa",
        environ={},
        push=push,
    )
    service.preflight()
    return service


def _ticks(service: Service, seconds: float, world: World) -> list[str]:
    """What the scheduler does for ``seconds``; returns the Airtable calls made."""
    before = len(airtable_calls(world))
    scheduled = {name: service._scheduled(job) for name, job in service.jobs.items()}
    for _ in range(round(seconds / TICK)):
        service.board_tick()
        for run in scheduled.values():
            run()
        world.clock.advance(TICK)
    return airtable_calls(world)[before:]


@pytest.mark.parametrize(
    ("mode", "window", "queue_polls", "status_reads", "heartbeats"),
    [
        (PushMode.POLL, 600, 10 * 4, 2, 2),  # safety net each minute, Status every 5 minutes
        (PushMode.NOTIFY, 1200, 2 * 4, 2, 2),  # everything every 10 minutes
    ],
)
def test_healthy_push_slows_every_idle_call_to_its_cadence(
    world: World,
    tmp_path: Path,
    mode: PushMode,
    window: int,
    queue_polls: int,
    status_reads: int,
    heartbeats: int,
) -> None:
    push = _push(world, mode, tmp_path)
    service = _service(world, push)
    _ticks(service, 60, world)  # warm up: rows read, first heartbeats written
    push.cadence.set_push_healthy(True)
    calls = _ticks(service, window, world)
    assert calls.count("airtable.list") == queue_polls + status_reads
    assert calls.count("airtable.update") == heartbeats  # one batched write each time
    assert len(calls) == queue_polls + status_reads + heartbeats
    cadence = push.cadence.healthy_cadence
    payload_reads = window / cadence.payload_seconds if cadence.payload_seconds else 0
    measured = (len(calls) + payload_reads) / window
    budget = 0.5 if mode is PushMode.POLL else 0.04
    assert measured <= budget
    assert measured == pytest.approx(cadence.requests_per_second(4), abs=0.002)
    assert service.health.progressing() == (True, [])  # slow runs are not stalls


def test_without_healthy_push_everything_is_every_tick_again(world: World, tmp_path: Path) -> None:
    push = _push(world, PushMode.NOTIFY, tmp_path)
    service = _service(world, push)
    push.cadence.set_push_healthy(True)
    _ticks(service, 600, world)
    push.cadence.set_push_healthy(False)
    calls = _ticks(service, 60, world)
    # 4 ticks x (1 Status read + 4 queue polls) + one batched heartbeat a minute
    assert calls.count("airtable.list") == 4 * 5
    assert calls.count("airtable.update") == 1


def test_a_wake_runs_the_store_prong_between_safety_nets(world: World, tmp_path: Path) -> None:
    push = _push(world, PushMode.NOTIFY, tmp_path)
    service = _service(world, push)
    push.cadence.set_push_healthy(True)
    _ticks(service, 600, world)
    runs = next(v.runs for v in service.health.views() if v.name == STORE)
    push.waker.wake("a form")
    _ticks(service, TICK, world)
    assert next(v.runs for v in service.health.views() if v.name == STORE) == runs + 1
