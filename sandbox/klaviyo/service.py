"""``KlaviyoSandbox``: accepted events, the dedupe rule, faults, limits and the request log."""

from __future__ import annotations

import threading
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from sandbox.faults import FaultPlan
from sandbox.httpkit import RequestLog, RequestLogEntry
from sandbox.klaviyo.ratelimit import FixedWindowLimiter
from sandbox.klaviyo.validation import parse_event_time

DEFAULT_API_KEY = "pk_sandbox_giftbridge_0000000000"
_IDENTIFIERS = ("email", "phone_number", "external_id", "anonymous_id", "_kx")


@dataclass(frozen=True, slots=True)
class AcceptedEvent:
    metric: str
    email: str | None
    unique_id: str | None
    properties: dict[str, Any]
    time: str  # ISO 8601, the event's time (the arrival time when the body had none)
    value: float | None
    value_currency: str | None
    profile: dict[str, Any]  # the profile attributes as sent, nulls removed
    received_at: float  # seconds since the epoch


def _profile_key(profile: dict[str, Any]) -> tuple[str, str]:
    if profile.get("id"):
        return ("id", str(profile["id"]))
    attributes = profile["attributes"]
    for name in _IDENTIFIERS:
        if attributes.get(name):
            value = str(attributes[name])
            return (name, value.lower() if name == "email" else value)
    raise ValueError("profile without an identifier")  # validation rules this out


class KlaviyoSandbox:
    """One Klaviyo account: ``burst_limit``/``steady_limit`` of None turn that limit off."""

    def __init__(
        self,
        api_key: str = DEFAULT_API_KEY,
        *,
        burst_limit: int | None = 350,
        steady_limit: int | None = 3_500,
        burst_window: float = 1.0,
        steady_window: float = 60.0,
    ) -> None:
        self.api_key = api_key
        policies = [(n, w) for n, w in ((burst_limit, burst_window),
                                        (steady_limit, steady_window)) if n is not None]
        self.limiter = FixedWindowLimiter(policies)
        self.faults = FaultPlan()
        self.log = RequestLog()
        self.lock = threading.Lock()
        self._events: list[AcceptedEvent] = []
        self._keys: set[tuple[Any, ...]] = set()
        self._duplicates = 0

    def record(self, body: dict[str, Any]) -> bool:
        """Keep a validated event; False when it repeats (profile, metric, unique_id)."""
        attributes = body["data"]["attributes"]
        profile = attributes["profile"]["data"]
        metric = attributes["metric"]["data"]["attributes"]["name"]
        received = time.time()
        raw_time = attributes.get("time")
        moment = parse_event_time(raw_time) if raw_time else datetime.fromtimestamp(received, UTC)
        # Without a unique_id Klaviyo dedupes on the time to the second.
        unique = attributes.get("unique_id") or moment.replace(microsecond=0).isoformat()
        key = (_profile_key(profile), metric, unique)
        event = AcceptedEvent(
            metric=metric,
            email=profile["attributes"].get("email"),
            unique_id=attributes.get("unique_id"),
            properties=attributes["properties"],
            time=moment.isoformat(),
            value=attributes.get("value"),
            value_currency=attributes.get("value_currency"),
            profile={k: v for k, v in profile["attributes"].items() if v is not None},
            received_at=received,
        )
        with self.lock:
            if key in self._keys:
                self._duplicates += 1
                return False
            self._keys.add(key)
            self._events.append(event)
            return True

    @property
    def events(self) -> list[AcceptedEvent]:
        with self.lock:
            return list(self._events)

    def events_for(
        self, metric: str | None = None, email: str | None = None
    ) -> list[AcceptedEvent]:
        return [
            e for e in self.events
            if (metric is None or e.metric == metric)
            and (email is None or (e.email or "").lower() == email.lower())
        ]

    @property
    def duplicates(self) -> int:
        with self.lock:
            return self._duplicates

    @property
    def request_log(self) -> list[RequestLogEntry]:
        return self.log.entries()

    def reset(self) -> None:
        with self.lock:
            self._events.clear()
            self._keys.clear()
            self._duplicates = 0
        self.faults.clear()
        self.limiter.reset()
        self.log.clear()

    def state(self) -> dict[str, Any]:
        return {"events": [asdict(e) for e in self.events], "duplicates": self.duplicates}
