"""The daemon's lifecycle in one class: start, stop, signals, sd_notify, heartbeats, watchdog.

Start: check the timing order (call timeout < run budget < lease < watchdog interval), read the
Status rows (creating missing ones: this also proves Airtable answers), log the idle request
budget, open the HTTP endpoint, start the scheduler, then ``READY=1``.

Run: every tick the ``status-board`` job reads all Status rows once and writes idle heartbeats
(at most once a minute per prong); each prong's job runs it through :class:`ProngRunner`. With
push (:mod:`daemon.push`) the store prong also runs the moment a request table changes, and
while push is healthy the Status read, the heartbeats and the store prong's full poll follow the
slower cadence of :mod:`daemon.cadence`. While
every prong keeps finishing runs (see :mod:`daemon.health`) the watchdog thread sends
``WATCHDOG=1`` every half interval; a hung prong silences it, so systemd restarts the process.

Stop (SIGTERM, SIGINT or :meth:`request_stop`): ``STOPPING=1``; the stop flag every run's Budget
watches goes up, so in-flight runs end at their next recovery point and release their leases; no
new run starts; we wait up to ``stop_timeout`` for them, close the endpoint and return 0 (1 if a
run did not finish in time: a thread cannot be killed, the caller exits the process anyway).
"""

from __future__ import annotations

import functools
import os
import secrets
import signal
import socket
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import FrameType

import structlog
from apscheduler.schedulers.background import BackgroundScheduler

from cards.vocab import ProngState
from clients.ports import AirtablePort, Clock
from clients.records import StatusRow
from daemon import statuspage_business
from daemon.alert_watch import AlertWatch
from daemon.backoff import Backoff
from daemon.cadence import idle_figures
from daemon.clock import SystemClock
from daemon.health import HealthBook
from daemon.http import HttpEndpoint
from daemon.lease import HEARTBEAT_SECONDS, StatusBoard
from daemon.leases import Leases, dead_owners
from daemon.metrics import Metrics, default_metrics
from daemon.notify import Notifier, check_timing, watchdog_seconds
from daemon.ownership import lease_length
from daemon.push_wiring import PushSetup
from daemon.report_files import latest_report
from daemon.runner import ProngJob, ProngRunner, RunOutcome, StopSignal
from daemon.scheduler import build_scheduler, quiet_scheduler_logs
from daemon.summary import BusinessSummary
from prongs.alerts import Alerts

log = structlog.get_logger(__name__)

IDLE_BUDGET_PER_SECOND = 0.5
BOARD_JOB = "status-board"
SUMMARY_JOB = "business-summary"
ALERTS_JOB = "alerts"


@dataclass(frozen=True, slots=True)
class ServiceConfig:
    """Every knob of the lifecycle (the composition root fills it from Settings).

    - ``tick_seconds``: how often each prong runs (and the Status rows are read);
    - ``call_timeout_seconds`` < ``run_budget_seconds`` < ``lease_seconds``: one outside call,
      one run, one lease; a run longer than the lease counts as hung;
    - ``http_host``/``http_port``: the endpoint (port None: no endpoint, e.g. ``once``);
    - ``stop_timeout_seconds``: how long a stop waits for in-flight runs (default: the run
      budget; the unit's ``TimeoutStopSec=`` must be longer);
    - ``about``: extra lines for the status page (mode, version).
    """

    tick_seconds: float = 15.0
    call_timeout_seconds: float = 10.0
    run_budget_seconds: float = 45.0
    lease_seconds: float = 90.0
    http_host: str = "127.0.0.1"
    http_port: int | None = 8377
    stop_timeout_seconds: float | None = None
    about: Mapping[str, str] | None = None

    @property
    def stall_seconds(self) -> float:
        """No run finished for this long (not hung, not paused): the prong is stuck."""
        return self.lease_seconds + 2 * self.tick_seconds

    @property
    def stop_timeout(self) -> float:
        return self.stop_timeout_seconds or self.run_budget_seconds


def make_owner() -> str:
    """hostname:pid:random, so two processes (or a restart with the same pid) never match."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


class Service:
    def __init__(
        self,
        config: ServiceConfig,
        airtable: AirtablePort,
        jobs: Sequence[ProngJob],
        *,
        clock: Clock | None = None,
        notifier: Notifier | None = None,
        metrics: Metrics | None = None,
        owner: str | None = None,
        environ: Mapping[str, str] | None = None,
        summary: BusinessSummary | None = None,
        state_dir: Path | None = None,
        notices: Callable[[], Mapping[str, str]] | None = None,
        push: PushSetup | None = None,
        alerts: Alerts | None = None,
    ) -> None:
        if not jobs or len({j.name for j in jobs}) != len(jobs):
            raise ValueError("the service needs at least one prong job, each with its own name")
        self.config = config
        self.jobs = {job.name: job for job in jobs}
        self.clock = clock or SystemClock()
        self.notifier = notifier or Notifier.from_env(environ)
        self.watchdog_seconds = watchdog_seconds(environ)
        self.metrics = metrics or default_metrics()
        self.owner = owner or make_owner()
        self.push = push
        self.stop_signal = StopSignal()
        names = list(self.jobs)
        self.health = HealthBook(
            names, self.clock, hung_after=config.lease_seconds, stall_after=config.stall_seconds
        )
        self.board = StatusBoard(airtable, names, self.clock)
        self.leases = Leases(
            self.board,
            names,
            self.owner,
            self.clock,
            lease_seconds=self.lease_seconds,
            margin=self.effect_margin,
            dead_owners=dead_owners(state_dir, self.owner),
        )
        self.runner = ProngRunner(
            leases=self.leases,
            health=self.health,
            metrics=self.metrics,
            backoff=Backoff(config.tick_seconds),
            clock=self.clock,
            stop=self.stop_signal,
            run_budget_seconds=config.run_budget_seconds,
        )
        self.summary = summary  # the status page's business figures (a refresh every few min)
        self.alert_watch = (  # Giftbridge Alert for stuck and Needs Attention requests, and
            AlertWatch(alerts, self.health, summary, self.clock, status_url=self.status_url)
            if alerts is not None  # prongs failing every run for 10 minutes (ALERT_EMAIL)
            else None
        )
        self.state_dir = state_dir  # where `giftbridge report` writes: /report serves the newest
        self._notices = notices  # lines only while something is wrong (Shopify calls stopped)
        self.http: HttpEndpoint | None = None
        self._scheduler: BackgroundScheduler | None = None
        self._watchdog_thread: threading.Thread | None = None
        self._wake = threading.Event()  # set by request_stop from other threads (never handlers)
        self._withheld = False
        self._started_at: datetime | None = None
        self._signal: int | None = None

    # --- the lease's timing ---------------------------------------------------------------
    @property
    def effect_margin(self) -> float:
        """Effects stop this long before the lease runs out: longer than one outside call."""
        return self.config.call_timeout_seconds + 5.0

    @property
    def lease_seconds(self) -> float:
        """The lease this process advertises: long enough for the slowest renewal in force
        (every Status read, with push healthy) to land while it is still good."""
        slowest = HEARTBEAT_SECONDS
        if self.push is not None:
            slowest = max(slowest, self.push.cadence.healthy_cadence.heartbeat_seconds)
        c = self.config
        return lease_length(
            c.lease_seconds, slowest, c.tick_seconds, c.call_timeout_seconds, self.effect_margin
        )

    # --- checks ---------------------------------------------------------------------------
    def preflight(self) -> None:
        """The checks before READY=1; raises SettingsError or the Airtable error."""
        c = self.config
        check_timing(
            call_timeout=c.call_timeout_seconds,
            run_budget=c.run_budget_seconds,
            lease=c.lease_seconds,
            watchdog=self.watchdog_seconds,
        )
        self._log_idle_budget()
        self.leases.read_and_claim()  # the rows (missing ones created), and the free leases

    def _log_idle_budget(self) -> None:
        polls = sum(job.airtable_polls_per_tick for job in self.jobs.values())
        healthy = self.push.cadence.healthy_cadence if self.push is not None else None
        figures = idle_figures(self.config.tick_seconds, polls, healthy)
        level = log.warning if max(figures.values()) > IDLE_BUDGET_PER_SECOND else log.info
        level("idle_airtable_budget", queue_polls=polls, **figures)

    # --- the periodic work (the scheduler's jobs; tests call them directly) ----------------
    def board_tick(self) -> None:
        """Read all Status rows once; mark Paused prongs; write idle heartbeats when due (with
        push, only as often as the cadence in force says)."""
        every = HEARTBEAT_SECONDS
        if self.push is not None:
            if not self.push.cadence.status_read_due(self.clock.monotonic()):
                return
            every = self.push.cadence.heartbeat_every()
        self._read_board(heartbeat_every=every)

    def _read_board(self, *, heartbeat_every: float | None) -> None:
        """One read of the Status rows (our leases checked, free ones claimed), Paused noted,
        and the held leases renewed when due."""
        try:
            if self.stop_signal.is_set():
                return  # a stopping process claims nothing
            self.leases.read_and_claim()
            for prong, row in self.status_rows().items():
                if row is not None:
                    self.health.set_paused(prong, row.state is ProngState.PAUSED)
            if heartbeat_every is not None:
                self.leases.renew_if_due(heartbeat_every)
        except Exception as exc:  # Airtable down: the prongs will say so too; keep ticking
            self.metrics.status_errors.labels("board").inc()
            log.warning("status.board_failed", error=str(exc))

    def watchdog_tick(self) -> bool:
        """Ping systemd if every prong is progressing; returns whether a ping was due."""
        progressing, problems = self.health.progressing()
        if progressing:
            if self._withheld:
                log.info("watchdog.resumed")
                self._withheld = False
            self.notifier.watchdog()
            return True
        if not self._withheld:
            log.error("watchdog.withheld", problems=problems)
            self.notifier.status("not progressing: " + "; ".join(problems))
            self._withheld = True
        return False

    def _watchdog_loop(self, interval: float) -> None:
        while not self.stop_signal.is_set():
            self.watchdog_tick()
            self._wake.wait(interval)

    # --- lifecycle ------------------------------------------------------------------------
    def start(self) -> None:
        self.preflight()
        self._started_at = self.clock.now()
        self.health.restart_baseline()
        if self.config.http_port is not None:
            self.http = HttpEndpoint(
                self.config.http_host,
                self.config.http_port,
                health=self.health,
                metrics=self.metrics,
                status_rows=self.status_rows,
                about=self.about,
                business=self.business_html,
                latest_report=self.latest_report,
                notify=self.push.notification
                if self.push and self.push.serves_notifications
                else None,
            ).start()
        jobs: list[tuple[str, Callable[[], object]]] = [(BOARD_JOB, self.board_tick)]
        if self.summary is not None:  # due every few minutes; a tick before that does nothing
            jobs.append((SUMMARY_JOB, self.summary.tick))
        if self.alert_watch is not None:  # in memory; reads Receipts only for a new cause
            jobs.append((ALERTS_JOB, self.alert_watch.tick))
        jobs += [(name, self._scheduled(job)) for name, job in self.jobs.items()]
        quiet_scheduler_logs()
        self._scheduler = build_scheduler(jobs, self.config.tick_seconds)
        self._scheduler.start()
        if self.push is not None:
            self.push.waker.attach(self._scheduler, self.push.prong)
            self.push.loop.start()
        self.notifier.ready(f"running {len(self.jobs)} prongs as {self.owner}")
        if self.watchdog_seconds is not None:
            self._watchdog_thread = threading.Thread(
                target=self._watchdog_loop,
                args=(self.watchdog_seconds / 2,),
                name="watchdog",
                daemon=True,
            )
            self._watchdog_thread.start()
        log.info("service.started", owner=self.owner, prongs=list(self.jobs))

    def _scheduled(self, job: ProngJob) -> Callable[[], object]:
        """A prong's scheduled function: the runner's, wrapped by push for the store prong."""
        run = functools.partial(self.runner.run_scheduled, job)
        if self.push is None or job.name != self.push.prong:
            return run
        reread = functools.partial(self._reread_if_paused, job.name)
        return self.push.scheduled(run, self.health, self.clock, before_woken_run=reread)

    def _reread_if_paused(self, prong: str) -> None:
        """A woken run of a prong cached as Paused re-reads the Status rows first: with push
        the rows are read rarely, and an operator may have resumed it since."""
        cached = self.board.cached(prong)
        if cached is not None and cached.state is ProngState.PAUSED:
            self._read_board(heartbeat_every=None)

    def request_stop(self) -> None:
        """Ask the service to stop (any thread; signal handlers use the flag alone)."""
        self.stop_signal.request()
        self._wake.set()

    def wait(self, poll: float = 0.25) -> None:
        """Block until a stop is requested (the flag is polled: handlers set no Event)."""
        while not self.stop_signal.is_set():
            self._wake.wait(poll)

    def shutdown(self) -> bool:
        """Stop at a recovery point; True when every in-flight run finished in time."""
        log.info("service.stopping", signal=self._signal, running=sorted(self.health.running()))
        self.notifier.stopping()
        self.stop_signal.stop()
        self._wake.set()
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=False)  # no new runs; in-flight ones see the flag
        if self.push is not None:
            self.push.loop.stop(timeout=2.0)  # a call in flight ends by its own timeout
        clean = self.health.wait_idle(self.config.stop_timeout)
        if not clean:
            log.error("service.stop_timeout", still_running=sorted(self.health.running()))
        else:  # every run ended at a recovery point: the leases go, for the next process
            self.leases.release_all()
        if self.http is not None:
            self.http.stop()
        if self._watchdog_thread is not None:
            self._watchdog_thread.join(timeout=5)
        log.info("service.stopped", clean=clean)
        return clean

    def run(self) -> int:
        """The daemon: start, serve until SIGTERM/SIGINT, stop; 0 on a clean stop."""
        with self.signals_handled():
            self.start()
            self.wait()
            return 0 if self.shutdown() else 1

    def run_once(self, prongs: Sequence[str] | None = None) -> list[RunOutcome]:
        """One run of each prong (or the named ones) through the same runner, in order."""
        names = list(prongs) if prongs else list(self.jobs)
        unknown = [n for n in names if n not in self.jobs]
        if unknown:
            raise ValueError(f"unknown prong {unknown[0]!r}; known: {', '.join(self.jobs)}")
        check_timing(
            call_timeout=self.config.call_timeout_seconds,
            run_budget=self.config.run_budget_seconds,
            lease=self.config.lease_seconds,
            watchdog=None,
        )
        self.leases.read_and_claim(names)
        outcomes = []
        try:
            with self.signals_handled():
                for name in names:
                    if self.stop_signal.is_set():
                        break
                    outcomes.append(self.runner.run(self.jobs[name]))
        finally:
            self.leases.release_all()
        return outcomes

    @contextmanager
    def signals_handled(self) -> Iterator[None]:
        """SIGTERM and SIGINT request a stop (main thread only; elsewhere a no-op)."""
        if threading.current_thread() is not threading.main_thread():
            yield
            return

        def handler(signum: int, _: FrameType | None) -> None:
            self._signal = signum  # plain assignments only: see StopSignal
            self.stop_signal.request()

        previous = {s: signal.signal(s, handler) for s in (signal.SIGTERM, signal.SIGINT)}
        try:
            yield
        finally:
            for signum, old in previous.items():
                signal.signal(signum, old)

    # --- what the endpoint shows ------------------------------------------------------------
    def status_rows(self) -> dict[str, StatusRow | None]:
        return {name: self.board.cached(name) for name in self.jobs}

    def business_html(self) -> str:
        summary = self.summary
        return statuspage_business.render(
            summary.latest() if summary else None,
            summary.last_error if summary else "no summary in this process",
            latest_report(self.state_dir) if self.state_dir else None,
        )

    @property
    def status_url(self) -> str | None:
        """The status page, for alerts' links (None without an endpoint)."""
        c = self.config
        return f"http://{c.http_host}:{c.http_port}/" if c.http_port is not None else None

    def latest_report(self) -> Path | None:
        found = latest_report(self.state_dir) if self.state_dir else None
        return found.path if found else None

    def about(self) -> dict[str, str]:
        """The status page's first lines; ``notices`` adds one per trouble (an empty value:
        nothing to say, e.g. ``shopify`` while Shopify calls go on)."""
        info = dict(self.config.about or {})
        for name, line in (self._notices() if self._notices else {}).items():
            if line:
                info[name] = line
        info["owner"] = self.owner
        if self._started_at is not None:
            info["started"] = self._started_at.strftime("%Y-%m-%d %H:%M:%S UTC")
        info["tick"] = f"{self.config.tick_seconds:g} s"
        if self.push is not None:
            info["push"] = self.push.status_line()
        return info
