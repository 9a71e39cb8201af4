"""An in-memory Klaviyo implementing EmailPort; drops repeats of (email, metric, unique_id)."""

from __future__ import annotations

from clients.records import EmailEvent
from tests.fakes.world import Injector


class FakeEmail:
    def __init__(self, injector: Injector) -> None:
        self.injector = injector
        self.events: list[EmailEvent] = []
        self.duplicates = 0
        self._seen: set[tuple[str, str, str]] = set()

    def send(self, event: EmailEvent) -> None:
        def accept() -> None:
            key = (event.email.lower(), event.metric.value, event.unique_id)
            if key in self._seen:
                self.duplicates += 1
                return
            self._seen.add(key)
            self.events.append(event)

        self.injector.call("klaviyo.send", accept)

    def by_unique_id(self, unique_id: str) -> list[EmailEvent]:
        return [e for e in self.events if e.unique_id == unique_id]
