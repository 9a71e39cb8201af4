"""``AirtableSandbox``: the state behind the HTTP app, and the Python API tests inspect it by.

The aiohttp app runs on its own thread (``ServiceThread``) while a test reads or seeds the
state from another, so every access goes through ``lock``.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from sandbox.airtable.listing import Iterators
from sandbox.airtable.metadata import (
    add_missing_fields,
    apply_layout,
    create_table,
    render_schema,
)
from sandbox.airtable.ratelimit import BaseRateLimiter
from sandbox.airtable.records import Writer, delete_records
from sandbox.airtable.render import render_record
from sandbox.airtable.snapshot import dump_bases, load_bases
from sandbox.airtable.store import Base, Table, utc_now
from sandbox.airtable.webhooks import WEBHOOK_LIFETIME_SECONDS, WebhookHub
from sandbox.faults import FaultPlan
from sandbox.httpkit import RequestLog, RequestLogEntry, write_json_atomically

DEFAULT_TOKEN = "patSandboxToken000.giftbridge-sandbox"
DEFAULT_BASE_ID = "appGiftbridgeSbx0"
DEFAULT_USER_ID = "usrGiftbridgeSbx0"
ALL_SCOPES = (
    "data.records:read", "data.records:write", "schema.bases:read", "schema.bases:write",
    "webhook:manage",
)


class AirtableSandbox:
    """Bases, faults, rate limit and request log of one Airtable stand-in.

    ``layout`` (a parsed ``airtable-base.json``) is applied to the first base; without it the
    base starts empty, as ``giftbridge base init`` expects. With ``snapshot_path`` the state is
    loaded from that file when it exists, and saved to it by the app (at most once a second,
    and on shutdown). Webhooks (``webhooks``) live in memory only: after a restart a client finds
    its webhook gone, as after Airtable deleted an expired one. ``webhook_lifetime_seconds``
    (7 days, as Airtable) is how long a webhook lives without a refresh or a payload read.
    """

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        base_id: str = DEFAULT_BASE_ID,
        *,
        rate_limit: int | None = 5,
        penalty_seconds: float = 30.0,
        iterator_ttl_seconds: float = 60.0,
        layout: Mapping[str, Any] | None = None,
        base_name: str = "giftbridge sandbox",
        snapshot_path: Path | None = None,
        scopes: Sequence[str] = ALL_SCOPES,
        webhook_lifetime_seconds: float = WEBHOOK_LIFETIME_SECONDS,
    ) -> None:
        self.token = token
        self.default_base_id = base_id
        self.scopes = list(scopes)
        self.lock = threading.RLock()
        self.faults = FaultPlan()
        self.log = RequestLog()
        self.limiter = BaseRateLimiter(rate_limit, penalty_seconds=penalty_seconds)
        self.iterators = Iterators(iterator_ttl_seconds)
        self.webhooks = WebhookHub(self.lock, lifetime_seconds=webhook_lifetime_seconds)
        self.snapshot_path = snapshot_path
        self.dirty = False
        self._bases: dict[str, Base] = {}
        if snapshot_path is not None and snapshot_path.exists():
            data = json.loads(snapshot_path.read_text("utf-8"))
            self._bases = {b.id: b for b in load_bases(data)}
            saved = self._bases.get(base_id)
            if layout is not None and saved is not None and add_missing_fields(saved, layout):
                self.dirty = True  # a snapshot of an older layout gains the new fields
        else:
            self.add_base(base_id, base_name, layout)

    # -- bases ------------------------------------------------------------------------------

    def add_base(
        self, base_id: str, name: str = "giftbridge sandbox",
        layout: Mapping[str, Any] | None = None,
    ) -> BaseHandle:
        with self.lock:
            base = Base(base_id, name)
            if layout is not None:
                apply_layout(base, layout)
            self._bases[base_id] = base
            self.dirty = True
            return BaseHandle(self, base)

    def find_base(self, base_id: str) -> Base | None:
        return self._bases.get(base_id)

    def bases(self) -> list[Base]:
        return list(self._bases.values())

    def base(self, base_id: str | None = None) -> BaseHandle:
        found = self._bases.get(base_id or self.default_base_id)
        if found is None:
            raise KeyError(f"no base {base_id!r} in the sandbox")
        return BaseHandle(self, found)

    # -- test hooks -------------------------------------------------------------------------

    @property
    def request_log(self) -> list[RequestLogEntry]:
        return self.log.entries()

    def reset(self) -> None:
        """Forget records, files, iterators, webhooks, faults, penalties and the log; keep the
        schema."""
        with self.lock:
            for base in self._bases.values():
                base.clear_records()
            self.iterators.clear()
            self.webhooks.clear()
            self.faults.clear()
            self.limiter.reset()
            self.log.clear()
            self.dirty = True

    def expire_iterators(self) -> None:
        """Make every open pagination offset fail, as after an Airtable restart."""
        self.iterators.clear()

    def state(self) -> dict[str, Any]:
        with self.lock:
            return {"bases": {
                b.id: {"name": b.name,
                       "tables": {t.name: BaseHandle(self, b).records(t.name) for t in b.tables}}
                for b in self._bases.values()
            }}

    # -- persistence ------------------------------------------------------------------------

    def save_snapshot(self) -> bool:
        """Write the snapshot file if there is one and something changed; True when written."""
        if self.snapshot_path is None:
            return False
        with self.lock:
            if not self.dirty:
                return False
            data = dump_bases(list(self._bases.values()))
            self.dirty = False
        write_json_atomically(self.snapshot_path, data)
        return True


class BaseHandle:
    """Python access to one base: read records as the API shows them, seed, inspect schema."""

    def __init__(self, sandbox: AirtableSandbox, base: Base) -> None:
        self._sandbox = sandbox
        self._base = base
        self.id = base.id

    def _table(self, name: str) -> Table:
        table = self._base.table(name)
        if table is None:
            raise KeyError(f"no table {name!r} in base {self.id}")
        return table

    def table_names(self) -> list[str]:
        with self._sandbox.lock:
            return [t.name for t in self._base.tables]

    def records(self, table: str, origin: str = "") -> list[dict[str, Any]]:
        """Every record of ``table`` in creation order, with fields by name."""
        with self._sandbox.lock:
            found = self._table(table)
            return [render_record(origin, self._base, found, r) for r in found.records.values()]

    def record(self, record_id: str, origin: str = "") -> dict[str, Any] | None:
        with self._sandbox.lock:
            located = self._base.locate(record_id)
            if located is None:
                return None
            return render_record(origin, self._base, *located)

    def create(
        self,
        table: str,
        rows: Sequence[Mapping[str, Any]],
        *,
        typecast: bool = False,
        source: str = "client",
    ) -> list[dict[str, Any]]:
        """Create records through the API's validation (no rate limit, faults or log), in one
        transaction that webhooks see as coming from ``source`` (default: a person in
        Airtable's interface; ``formSubmission``: a form, see :meth:`submit_form`)."""
        created: list[dict[str, Any]] = []
        with self._sandbox.lock, self._sandbox.webhooks.transaction(self._base, source):
            found = self._table(table)
            for start in range(0, len(rows), 10):
                body = {"records": [{"fields": dict(r)} for r in rows[start:start + 10]],
                        "typecast": typecast}
                created += Writer(self._base, found, body, "", utc_now()).create()["records"]
            self._sandbox.dirty = True
        return created

    def submit_form(self, table: str, fields: Mapping[str, Any]) -> dict[str, Any]:
        """One record as a staff or customer form creates it (webhook source
        ``formSubmission``)."""
        return self.create(table, [fields], source="formSubmission")[0]

    def update(
        self, table: str, record_id: str, fields: Mapping[str, Any], *, source: str = "client"
    ) -> dict[str, Any]:
        with self._sandbox.lock, self._sandbox.webhooks.transaction(self._base, source):
            writer = Writer(self._base, self._table(table), {"fields": dict(fields)}, "",
                            utc_now())
            self._sandbox.dirty = True
            return writer.update_one(record_id, replace=False)

    def delete(self, table: str, record_id: str, *, source: str = "client") -> None:
        with self._sandbox.lock, self._sandbox.webhooks.transaction(self._base, source):
            delete_records(self._base, self._table(table), [record_id], utc_now())
            self._sandbox.dirty = True

    def create_table(self, body: Mapping[str, Any]) -> dict[str, Any]:
        with self._sandbox.lock:
            table = create_table(self._base, dict(body))
            self._sandbox.dirty = True
            return {"id": table.id, "name": table.name}

    def schema(self) -> dict[str, Any]:
        """The Metadata API's read-back of the base."""
        with self._sandbox.lock:
            return render_schema(self._base)

    def attachment_content(self, attachment_id: str) -> bytes:
        with self._sandbox.lock:
            return self._base.attachments[attachment_id].content
