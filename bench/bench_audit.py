"""A full audit of 10,000 cards against the sandbox's real limits, with a till redeeming beside it.

Targets (issue 15), with nothing drifted:
- Shopify: the audit spends the cost bucket at no less than 80% of the rate it allows while
  leaving room for redemptions (its restore rate less what the till used);
- Airtable: at most 1 request per 90 cards (Gift Cards read 100 a page, never per card);
- a store redemption submitted during the audit is finished within 4 s at p99.
Also reported: the full pass's wall time, its runs, and the till's share of each limit.

    .venv/bin/python -m bench.bench_audit [--cards 10000] [--spacing 6]

Setup (not measured): the sandbox in its own process (so its formula evaluation over 10,000
rows shares no GIL with the daemon) with Airtable's 5 requests/s and Shopify's bucket of 1,000
points restoring 50/s; the cards written straight into its two stores (giftbridge's notes in
Shopify, mirrored rows in Gift Cards, synced a day ago); one card issued through the store
prong for the till. The daemon side is this process: one set of shared limiters (Shopify's
keeps 20% of its bucket from bulk work), the audit prong run after run (45 s budget each, as the
scheduler does) until its full pass ends, and a till thread submitting a redemption every few
seconds and running the store prong at once (as push does). Exit status 0 when every target
holds.
"""

from __future__ import annotations

import argparse
import multiprocessing
import statistics
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from multiprocessing.connection import Connection
from typing import Any

from bench.harness import Adapters, start_in_memory
from cards.codes import unseal
from cards.vocab import CardStatus, Kind
from clients.factory import (
    Limiters,
    build_airtable,
    build_certificates,
    build_email,
    build_shopify,
)
from clients.ports import Priority, current_priority
from clients.ratelimit import PriorityGate
from config.layout import CreationRequests, GiftCards, StoreRedemptions, Stores
from config.settings import PREFIX, Settings
from daemon import bootstrap
from daemon.clock import SystemClock
from daemon.logging import configure as configure_logging
from daemon.wiring import card_config
from prongs import audit
from prongs.audit import AuditConfig, AuditProgress
from prongs.audit_state import MemoryStore
from prongs.card_locks import CardLocks
from prongs.deps import Deps
from prongs.report import Budget, OpenGate
from prongs.store_context import StoreConfig
from prongs.store_transactions import run_once as store_once
from sandbox.stack import Sandbox

MIN_SHOPIFY_SHARE = 0.8
MAX_CARDS_PER_REQUEST = 90
P99_SECONDS = 4.0
RUN_BUDGET = 45.0
AUDIT_OPERATIONS = {"GiftCardsAudit", "GiftCardTransactions"}


def seed(sandbox: Sandbox, cards: int) -> None:
    """Cards in Shopify with giftbridge's notes, and their mirrored rows, as of a day ago."""
    shop, base = sandbox.shopify, sandbox.airtable.base()
    then = datetime.now(UTC).replace(microsecond=0) - timedelta(days=1)
    rows = []
    for n in range(cards):
        card = shop.issue_card("50.00", source="api_client", note=f"giftbridge order:7:8:{n + 1}")
        card.created_at = card.updated_at = then
        gid = f"gid://shopify/GiftCard/{card.number}"
        rows.append(
            {
                GiftCards.SHOPIFY_GIFT_CARD_ID: gid,
                GiftCards.ORIGIN_KEY: f"order:7:8:{n + 1}",
                GiftCards.STATUS: CardStatus.ACTIVE.value,
                GiftCards.KIND: Kind.GIFT_CARD.value,
                GiftCards.CURRENCY: "USD",
                GiftCards.INITIAL_VALUE: 50.0,
                GiftCards.BALANCE: 50.0,
                GiftCards.MASKED_CODE: "••••••••" + card.code[-4:].upper(),
                GiftCards.LAST_CHARACTERS: card.code[-4:].upper(),
                GiftCards.ISSUED_AT: then.isoformat(),
                GiftCards.LAST_SYNCED_AT: (then + timedelta(seconds=1)).isoformat(),
            }
        )
    base.create(GiftCards.TABLE, rows)


def _serve(conn: Connection, cards: int) -> None:
    """The sandbox in its own process: seed, then answer the parent's record requests (what
    staff type into the forms) until it is done, then send the Shopify operations it saw."""
    configure_logging(secrets=[], level="WARNING")
    sandbox = start_in_memory()
    try:
        began = time.monotonic()
        seed(sandbox, cards)
        conn.send((sandbox.environment(), time.monotonic() - began))
        base = sandbox.airtable.base()
        while True:
            message = conn.recv()
            if message[0] == "create":
                conn.send(str(base.create(message[1], [message[2]])[0]["id"]))
            elif message[0] == "fields":
                conn.send(dict((base.record(message[1]) or {}).get("fields", {})))
            elif message[0] == "first":
                conn.send(str(base.records(message[1])[0]["id"]))
            else:
                break
        with sandbox.shopify.lock:
            ops = [
                (o.operation_name, o.actual_cost or 0, o.outcome)
                for o in sandbox.shopify.operations
            ]
        conn.send(ops)
    finally:
        sandbox.stop()


@dataclass
class Forms:
    """Records written and read in the sandbox's process, as staff's forms and eyes would."""

    conn: Connection
    lock: threading.Lock = field(default_factory=threading.Lock)

    def create(self, table: str, fields: dict[str, Any]) -> str:
        with self.lock:
            self.conn.send(("create", table, fields))
            return str(self.conn.recv())

    def fields(self, record_id: str) -> dict[str, Any]:
        with self.lock:
            self.conn.send(("fields", record_id))
            answer: dict[str, Any] = self.conn.recv()
            return answer

    def first(self, table: str) -> str:
        with self.lock:
            self.conn.send(("first", table))
            return str(self.conn.recv())


class CountingGate:
    """Counts a limiter's admissions by priority (the audit alone runs at BULK here)."""

    def __init__(self, gate: PriorityGate) -> None:
        self.by_priority: Counter[Priority] = Counter()
        acquire = gate.acquire

        def counted(cost: float = 1.0, *, max_wait: float | None = None) -> float:
            waited = acquire(cost, max_wait=max_wait)
            self.by_priority[current_priority()] += 1
            return waited

        gate.acquire = counted  # type: ignore[method-assign]


@dataclass
class Till:
    """Redemptions submitted every ``spacing`` seconds, each handled at once."""

    forms: Forms
    deps: Deps
    config: StoreConfig
    code: str
    store_id: str
    spacing: float
    latencies: list[float] = field(default_factory=list)
    outcomes: Counter[str] = field(default_factory=Counter)
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        while not self.stop.wait(self.spacing):
            row = {
                StoreRedemptions.CODE: self.code,
                StoreRedemptions.AMOUNT: 1,
                StoreRedemptions.STORE: [self.store_id],
                StoreRedemptions.STAFF_NAME: "Bench",
            }
            submitted = time.monotonic()
            record = self.forms.create(StoreRedemptions.TABLE, row)
            store_once(self.deps, self.config, Budget(SystemClock(), RUN_BUDGET), OpenGate())
            self.latencies.append(time.monotonic() - submitted)
            outcome = self.forms.fields(record).get(StoreRedemptions.OUTCOME)
            self.outcomes[str(outcome)] += 1


def issue_till_card(forms: Forms, deps: Deps, config: StoreConfig) -> tuple[str, str]:
    store_id = forms.first(Stores.TABLE)
    request = {
        CreationRequests.PURCHASER_NAME: "Till",
        CreationRequests.PURCHASER_EMAIL: "till@example.com",
        CreationRequests.AMOUNT: 1000,
        CreationRequests.CHANNEL: "Store",
        CreationRequests.STORE: [store_id],
    }
    created = forms.create(CreationRequests.TABLE, request)
    store_once(deps, config, Budget(SystemClock(), 120), OpenGate())
    (card_id,) = forms.fields(created)[CreationRequests.GIFT_CARD]
    sealed = forms.fields(card_id)[GiftCards.CODE_SEALED]
    return unseal(sealed, config.card.code_key).reveal(), store_id


def _settings(environment: dict[str, str]) -> Settings:
    values: dict[str, Any] = {k.removeprefix(PREFIX).lower(): v for k, v in environment.items()}
    return Settings(**values, _env_file=None)  # type: ignore[call-arg]


def build_adapters(settings: Settings, limiters: Limiters) -> tuple[Adapters, Deps, StoreConfig]:
    """The daemon's adapters over one set of limiters, and its deps (one card-lock book)."""
    configs = bootstrap.adapter_configs(settings)
    adapters = Adapters(
        build_airtable(configs.airtable, limiters),
        build_shopify(configs.shopify, limiters),
        build_email(configs.klaviyo, limiters),
    )
    deps = Deps(
        adapters.airtable,
        adapters.shopify,
        adapters.email,
        build_certificates(),
        SystemClock(),
        CardLocks(),
    )
    return adapters, deps, StoreConfig(card=card_config(settings))


@dataclass
class Measured:
    seconds: float
    runs: int
    longest: float  # the longest run (the lease is 90 s)
    progress: AuditProgress
    airtable: CountingGate
    till: Till
    errors: list[str]


def measure(environment: dict[str, str], forms: Forms, spacing: float) -> tuple[Measured, Adapters]:
    limiters = Limiters()
    airtable = CountingGate(limiters.airtable)
    adapters, deps, store_config = build_adapters(_settings(environment), limiters)
    code, store_id = issue_till_card(forms, deps, store_config)
    airtable.by_priority.clear()  # the till card's issuance ran at bulk priority too
    progress = AuditProgress(MemoryStore())
    progress.request_full()
    config = AuditConfig(currency="USD")
    till = Till(forms, deps, store_config, code, store_id, spacing)
    till_thread = threading.Thread(target=till.run, name="till", daemon=True)
    till_thread.start()
    started, runs, errors, longest = time.monotonic(), 0, [], 0.0
    while progress.state.last_full_finished_at is None and runs < 200:
        runs += 1
        began = time.monotonic()
        report = audit.run_once(
            deps, config, Budget(SystemClock(), RUN_BUDGET), OpenGate(), progress=progress
        )
        longest = max(longest, time.monotonic() - began)
        errors += report.errors
    seconds = time.monotonic() - started
    till.stop.set()
    till_thread.join(60)
    return Measured(seconds, runs, longest, progress, airtable, till, errors), adapters


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cards", type=int, default=10_000)
    parser.add_argument("--spacing", type=float, default=6.0, help="seconds between redemptions")
    args = parser.parse_args(argv)
    configure_logging(secrets=[], level="WARNING")
    context = multiprocessing.get_context("spawn")
    ours, theirs = context.Pipe()
    child = context.Process(target=_serve, args=(theirs, args.cards), daemon=True)
    child.start()
    try:
        environment, seeded = ours.recv()
        print(f"seeded {args.cards} cards and rows in {seeded:.1f} s", flush=True)
        m, adapters = measure(environment, Forms(ours), args.spacing)
        adapters.close()
        ours.send(("done",))
        operations = ours.recv()
    finally:
        child.join(60)
        if child.is_alive():
            child.terminate()
    return report(m, operations, args.cards)


def report(m: Measured, operations: list[tuple[str | None, int, str]], cards: int) -> int:
    restore = 50.0
    audit_points = sum(cost for name, cost, _ in operations if name in AUDIT_OPERATIONS)
    till_points = sum(cost for name, cost, _ in operations if name not in AUDIT_OPERATIONS)
    throttled = sum(1 for _, _, outcome in operations if outcome == "throttled")
    audit_rate, till_rate = audit_points / m.seconds, till_points / m.seconds
    allowed = restore - till_rate
    share = audit_rate / allowed
    with_bucket = audit_points / (restore * m.seconds + 1000 - till_points)
    requests = m.airtable.by_priority[Priority.BULK]
    per_request = m.progress.tally.cards_compared / max(1, requests)
    lat = m.till.latencies
    p99 = sorted(lat)[min(len(lat) - 1, round(0.99 * (len(lat) - 1)))] if lat else 0.0
    rows = [
        ("cards compared", f"{m.progress.tally.cards_compared} of {cards}", ""),
        ("full pass wall time", f"{m.seconds:.0f} s in {m.runs} runs (budget 45 s)", ""),
        ("longest run", f"{m.longest:.1f} s", "< 90 s (the lease)"),
        ("drift found", str(m.progress.tally.drift_found), "0"),
        ("Shopify points, audit", f"{audit_points} ({audit_rate:.1f}/s)", ""),
        ("Shopify points, till", f"{till_points} ({till_rate:.2f}/s)", ""),
        (
            "audit / (restore - till)",
            f"{share:.2f} of {allowed:.1f}/s",
            f">= {MIN_SHOPIFY_SHARE}",
        ),
        ("audit / all the bucket gave", f"{with_bucket:.2f} (restore + starting bucket)", ""),
        ("throttled answers", str(throttled), ""),
        ("Airtable requests, audit", f"{requests}: {per_request:.0f} cards a request", ""),
        ("", "", f">= {MAX_CARDS_PER_REQUEST} cards a request"),
        (
            "redemptions: p50 / p99 / max",
            f"{statistics.median(lat or [0]):.2f} / {p99:.2f} / {max(lat or [0]):.2f} s "
            f"({len(lat)}, {dict(m.till.outcomes)})",
            f"p99 <= {P99_SECONDS} s",
        ),
        ("audit run errors", str(len(m.errors)), "0"),
    ]
    width = max(len(r[0]) for r in rows)
    for name, value, target in rows:
        print(f"{name:<{width}}  {value:<52} {target}")
    ok = (
        m.progress.tally.cards_compared >= cards
        and share >= MIN_SHOPIFY_SHARE
        and per_request >= MAX_CARDS_PER_REQUEST
        and p99 <= P99_SECONDS
        and not m.errors
        and m.longest < 90
        and m.progress.tally.drift_found == 0
        and set(m.till.outcomes) <= {"Success"}
    )
    print("targets met" if ok else "TARGET MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
