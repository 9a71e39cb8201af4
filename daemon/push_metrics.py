"""Prometheus metrics of push, registered on the daemon's own registry (:mod:`daemon.metrics`).

Created once per process by the composition root when push is on; the webhook calls
themselves are also counted with every other outside call (``giftbridge_outside_calls``).
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge


class PushMetrics:
    def __init__(self, registry: CollectorRegistry, mode: str) -> None:
        r = registry
        self.healthy = Gauge(
            "giftbridge_push_healthy",
            "1 while the Airtable webhook is kept and read (the safety-net poll is slow); "
            "0 while the daemon polls every tick instead.",
            registry=r,
        )
        self.mode = Gauge(
            "giftbridge_push_mode", "The push mode in use (value 1).", ["mode"], registry=r
        )
        self.mode.labels(mode).set(1)
        self.payload_reads = Counter(
            "giftbridge_push_payload_reads", "Webhook payload reads.", registry=r
        )
        self.payloads = Counter("giftbridge_push_payloads", "Webhook payloads read.", registry=r)
        self.wakeups = Counter(
            "giftbridge_push_wakeups",
            "Times a payload made the store prong run at once.",
            registry=r,
        )
        self.notifications = Counter(
            "giftbridge_push_notifications",
            "Airtable notification pings at /airtable/notify, by result.",
            ["result"],
            registry=r,
        )
        self.webhooks_created = Counter(
            "giftbridge_push_webhooks_created",
            "Webhooks created (first start, or one was lost).",
            registry=r,
        )
        self.last_read = Gauge(
            "giftbridge_push_last_payload_read_timestamp_seconds",
            "Unix time of the last successful payload read.",
            registry=r,
        )
