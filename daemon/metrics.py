"""Prometheus metrics: one small registry the daemon, the adapters and the limiters increment.

The composition root owns one :class:`Metrics` and hands its methods to whatever needs them
(adapters take plain callables, so ``clients/`` never imports ``daemon/``). Code that cannot be
handed one may use :func:`default_metrics`, created on first use (never at import). Tests build
their own instance, so registries never leak between tests.

Label values are bounded: prong names, service names (airtable, shopify, klaviyo), outcome
vocabularies and error class names; never record ids or codes.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

RUN_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 30, 45, 60, 90, 180)
CALL_BUCKETS = (0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30)


def _labels(names: str) -> list[str]:
    return names.split()


class Metrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = r = registry or CollectorRegistry()
        self.runs = Counter(
            "giftbridge_runs", "Prong runs by result.", _labels("prong result"), registry=r
        )
        self.skips = Counter(
            "giftbridge_run_skips", "Skipped runs by reason.", _labels("prong reason"), registry=r
        )
        self.outcomes = Counter(
            "giftbridge_outcomes",
            "Records finished, by Outcome.",
            _labels("prong outcome"),
            registry=r,
        )
        self.run_seconds = Histogram(
            "giftbridge_run_seconds",
            "Run duration.",
            _labels("prong"),
            buckets=RUN_BUCKETS,
            registry=r,
        )
        self.running = Gauge(
            "giftbridge_prong_running", "1 while a run is in flight.", _labels("prong"), registry=r
        )
        self.last_success = Gauge(
            "giftbridge_prong_last_success_timestamp_seconds",
            "Unix time of the last good run.",
            _labels("prong"),
            registry=r,
        )
        self.calls = Counter(
            "giftbridge_outside_calls",
            "Calls to outside services.",
            _labels("service operation"),
            registry=r,
        )
        self.call_seconds = Histogram(
            "giftbridge_outside_call_seconds",
            "Outside call latency.",
            _labels("service"),
            buckets=CALL_BUCKETS,
            registry=r,
        )
        self.errors = Counter(
            "giftbridge_outside_errors",
            "Failed outside calls by error class.",
            _labels("service kind"),
            registry=r,
        )
        self.rate_limit_waits = Counter(
            "giftbridge_rate_limit_waits",
            "Waits at a rate limiter.",
            _labels("service"),
            registry=r,
        )
        self.rate_limit_wait_seconds = Counter(
            "giftbridge_rate_limit_wait_seconds",
            "Seconds waited at rate limiters.",
            _labels("service"),
            registry=r,
        )
        self.queue_depth = Gauge(
            "giftbridge_queue_depth", "Records waiting, when known.", _labels("queue"), registry=r
        )
        self.status_errors = Counter(
            "giftbridge_status_errors",
            "Failed Status table calls.",
            _labels("operation"),
            registry=r,
        )
        # Kept by daemon.summary's refresh (every few minutes), never by a per-tick poll.
        self.stuck_requests = Gauge(
            "giftbridge_stuck_requests",
            "Requests left Processing for more than 10 minutes, by table.",
            _labels("table"),
            registry=r,
        )
        self._depths: dict[str, int] = {}
        self._lock = threading.Lock()

    # --- what the runner records ----------------------------------------------------------
    def run_finished(
        self,
        prong: str,
        result: str,
        seconds: float,
        outcomes: Mapping[str, int],
        finished_at: float,
    ) -> None:
        self.runs.labels(prong, result).inc()
        self.run_seconds.labels(prong).observe(seconds)
        for outcome, count in outcomes.items():
            self.outcomes.labels(prong, outcome).inc(count)
        if result == "ok":
            self.last_success.labels(prong).set(finished_at)

    def run_skipped(self, prong: str, reason: str) -> None:
        self.runs.labels(prong, "skipped").inc()
        self.skips.labels(prong, reason).inc()

    # --- what adapters and limiters record --------------------------------------------------
    def outside_call(
        self, service: str, operation: str, seconds: float, error: str | None = None
    ) -> None:
        """One outside call; ``error`` is the error class name when it failed."""
        self.calls.labels(service, operation).inc()
        self.call_seconds.labels(service).observe(seconds)
        if error:
            self.errors.labels(service, error).inc()

    def rate_limit_wait(self, service: str, seconds: float) -> None:
        self.rate_limit_waits.labels(service).inc()
        self.rate_limit_wait_seconds.labels(service).inc(seconds)

    def set_queue_depth(self, queue: str, depth: int) -> None:
        self.queue_depth.labels(queue).set(depth)
        with self._lock:
            self._depths[queue] = depth

    def queue_depths(self) -> dict[str, int]:
        with self._lock:
            return dict(self._depths)

    def exposition(self) -> bytes:
        """The Prometheus text format of everything above."""
        return generate_latest(self.registry)


_default: Metrics | None = None
_default_lock = threading.Lock()


def default_metrics() -> Metrics:
    """The process-wide instance, created on first use."""
    global _default
    with _default_lock:
        if _default is None:
            _default = Metrics()
        return _default
