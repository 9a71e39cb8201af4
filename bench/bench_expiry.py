"""One expiry run over 10,000 cards, 300 of them due, while store redemptions keep coming.

Targets (issue 14): the run's Airtable requests are the filtered read plus batched writes, at
most 1 request per 8 cards changed; its Shopify cost is reported; and no store redemption
submitted during the run waits past the 4 s p99 from submission to its store notice. The exit
status holds the run to the least its outcomes can cost (pages of 100, 100 references a read,
10 records a write, plus 2) and prints whether 1 per 8 was met: it cannot be when more than
about one change in twenty is an expiry, which needs a row write and a receipt.

    .venv/bin/python -m bench.bench_expiry [--cards 10000] [--expired 100] [--reminded 200]

Setup (not measured): the three stand-ins in this process with their real limits (Airtable
5 requests/s, Shopify's 1,000-point bucket restoring 50/s, Klaviyo's limits); 10,000 cards
written straight into the sandboxes' stores (Shopify card and Gift Cards row, the shop in
America/New_York): ``--expired`` past their date (a tenth of them with a date an operator
changed in Shopify: mirrored, most then expired), ``--reminded`` within 30 days (a third within
7, one in ten with no holder email), the rest expiring 31 days to 5 years on.

Measured: the expiry prong's runs (the daemon's 45 s budget each; a run cut short is followed at
once, as the daemon's schedule does) with its own Airtable adapter (its HTTP responses counted)
on the limiters it shares with the store prong; the Shopify cost of its queries (the sandbox's
operation log); and, meanwhile, a redemption every ``--spacing`` seconds handled by the store
prong started at once (as push does), timed from submission to the store notice's arrival in
the Klaviyo sandbox.
"""

from __future__ import annotations

import argparse
import math
import statistics
import threading
import time
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from bench.harness import settings_for, start_in_memory
from cards.codes import Code, digest
from cards.vocab import CardSource, CardStatus, Kind, Metric
from clients.factory import (
    Limiters,
    build_airtable,
    build_certificates,
    build_email,
    build_shopify,
)
from config.layout import GiftCards, Receipts, StoreRedemptions, Stores
from config.settings import Settings
from daemon import bootstrap
from daemon.clock import SystemClock
from daemon.logging import configure as configure_logging
from prongs.card_locks import CardLocks
from prongs.deps import CardConfig, Deps
from prongs.expiry import run_once as expiry_once
from prongs.expiry_run import ExpiryConfig
from prongs.report import Budget, OpenGate, RunReport
from prongs.store_context import StoreConfig
from prongs.store_transactions import run_once as store_once
from sandbox.shopify.giftcards import issue_card
from sandbox.stack import Sandbox

ZONE = "America/New_York"
PENALTY = 2.0  # Airtable's 429 silence, short for a bench
RUN_BUDGET = 45.0  # RUN_BUDGET_SECONDS' default
TILL_CODE = "TQ7BENCH2XYZ"
EXPIRY_OPERATIONS = {"ShopTimezone", "GiftCardsByIds"}
P99_TARGET = 4.0
CARDS_PER_REQUEST_TARGET = 8.0


@dataclass
class Plan:
    cards: int
    expired: int
    reminded: int


@dataclass
class Seeded:
    store_id: str
    changed_expected: int


def seed(sandbox: Sandbox, plan: Plan, pepper: str) -> Seeded:
    """Every card straight into the stand-ins' stores; the till's card among them."""
    shop, base = sandbox.shopify, sandbox.airtable.base()
    shop.timezone = ZONE
    today = datetime.now(ZoneInfo(ZONE)).date()
    rows: list[dict[str, Any]] = []
    with shop.lock:
        for n in range(plan.cards):
            expires, shopify_expires, holder = _dates(n, plan, today)
            value = 25 + n % 76
            card = issue_card(
                shop.data,
                shop.now(),
                code=None,
                value=Decimal(value),
                currency="USD",
                expires_on=shopify_expires,
                note=f"giftbridge bench:{n}",
            )
            rows.append(_row(card.number, value, expires, holder, n))
        till = issue_card(
            shop.data, shop.now(), code=TILL_CODE, value=Decimal(10000), currency="USD"
        )
    till_row = _row(till.number, 10000, None, "till@example.com", plan.cards)
    till_row[GiftCards.CODE_DIGEST] = digest(Code.parse(TILL_CODE), pepper)
    base.create(GiftCards.TABLE, [*rows, till_row])
    store_id = str(base.records(Stores.TABLE)[0]["id"])
    return Seeded(store_id, plan.expired + plan.reminded)


def _dates(n: int, plan: Plan, today: date) -> tuple[date, date | None, str | None]:
    holder: str | None = f"holder{n}@example.com"
    if n < plan.expired:
        airtable = today - timedelta(days=1 + n % 20)
        if n % 10 == 0:  # an operator changed it in Shopify: earlier, or (1 in 5) much later
            shopify = airtable + timedelta(days=400) if n % 50 == 0 else airtable - timedelta(3)
            return airtable, shopify, holder
        return airtable, airtable, holder
    if n < plan.expired + plan.reminded:
        k = n - plan.expired
        ahead = k % 7 if k % 3 == 0 else 8 + k % 23  # a third within 7 days
        if k % 10 == 0:
            holder = None
        day = today + timedelta(days=ahead)
        return day, day, holder
    day = today + timedelta(days=31 + (n * 37) % 1795)
    return day, day, holder


def _row(
    number: int, value: int, expires: date | None, holder: str | None, n: int
) -> dict[str, Any]:
    row: dict[str, Any] = {
        GiftCards.SHOPIFY_GIFT_CARD_ID: f"gid://shopify/GiftCard/{number}",
        GiftCards.MASKED_CODE: f"••••••••{n % 10000:04d}",
        GiftCards.STATUS: CardStatus.ACTIVE.value,
        GiftCards.KIND: Kind.GIFT_CARD.value,
        GiftCards.SOURCE: CardSource.STORE.value,
        GiftCards.CURRENCY: "USD",
        GiftCards.INITIAL_VALUE: value,
        GiftCards.BALANCE: value,
        GiftCards.ORIGIN_KEY: f"bench:{n}",
    }
    if expires is not None:
        row[GiftCards.EXPIRES_ON] = expires.isoformat()
    if holder is not None:
        row[GiftCards.RECIPIENT_EMAIL] = holder
    return row


@dataclass
class Wiring:
    store: Deps
    expiry: Deps
    store_config: StoreConfig
    expiry_config: ExpiryConfig
    expiry_requests: Counter[str] = field(default_factory=Counter)
    closers: list[Any] = field(default_factory=list)


def wire(sandbox: Sandbox, settings: Settings) -> Wiring:
    """As the daemon: one limiter per service shared by both prongs, one set of card locks.
    The expiry prong gets its own Airtable adapter so its HTTP responses can be counted."""
    configs = bootstrap.adapter_configs(settings)
    airtable_config = replace(configs.airtable, penalty=PENALTY)
    limiters, locks, clock = Limiters(), CardLocks(), SystemClock()
    store_airtable = build_airtable(airtable_config, limiters)
    expiry_airtable = build_airtable(airtable_config, limiters)
    shopify = build_shopify(configs.shopify, limiters)
    email = build_email(configs.klaviyo, limiters)
    certificates = build_certificates()
    c = sandbox.credentials
    card = CardConfig(
        currency="USD",
        business_name="Bench Books",
        code_length=12,
        limits=settings.amount_limits,
        expiry=settings.expiry,
        pepper=c.code_pepper,
        code_key=c.code_key,
    )
    wiring = Wiring(
        Deps(store_airtable, shopify, email, certificates, clock, locks),
        Deps(expiry_airtable, shopify, email, certificates, clock, locks),
        StoreConfig(card=card),
        ExpiryConfig(business_name="Bench Books"),
        closers=[store_airtable.close, expiry_airtable.close, shopify.close, email.close],
    )
    session = expiry_airtable._t.api.session

    def count(response: Any, *args: Any, **kwargs: Any) -> None:
        wiring.expiry_requests[response.request.method] += 1

    session.hooks["response"].append(count)
    return wiring


@dataclass
class Tills:
    submitted: dict[str, float] = field(default_factory=dict)
    noticed: dict[str, float] = field(default_factory=dict)


def measure(plan: Plan, spacing: float) -> int:
    sandbox = start_in_memory(airtable_penalty=PENALTY)
    try:
        settings = settings_for(sandbox)
        t0 = time.monotonic()
        seeded = seed(sandbox, plan, sandbox.credentials.code_pepper)
        print(f"seeded {plan.cards} cards in {time.monotonic() - t0:.1f} s", flush=True)
        wiring = wire(sandbox, settings)
        try:
            return _run(sandbox, wiring, seeded, spacing)
        finally:
            for close in wiring.closers:
                close()
    finally:
        sandbox.stop()


def _run(sandbox: Sandbox, wiring: Wiring, seeded: Seeded, spacing: float) -> int:
    reports: list[RunReport] = []
    clock = SystemClock()

    def expire() -> None:
        while True:
            report = expiry_once(
                wiring.expiry, wiring.expiry_config, Budget(clock, RUN_BUDGET), OpenGate()
            )
            reports.append(report)
            if not report.budget_exhausted:
                return

    operations_before = len(sandbox.shopify.operations)
    started = time.monotonic()
    runner = threading.Thread(target=expire, name="expiry")
    runner.start()
    tills = Tills()
    base = sandbox.airtable.base()
    while runner.is_alive():
        row = {
            StoreRedemptions.CODE: TILL_CODE,
            StoreRedemptions.AMOUNT: 1,
            StoreRedemptions.STORE: [seeded.store_id],
        }
        rid = str(base.create(StoreRedemptions.TABLE, [row])[0]["id"])
        tills.submitted[rid] = time.time()
        store_once(wiring.store, wiring.store_config, Budget(clock, RUN_BUDGET), OpenGate())
        time.sleep(spacing)
    runner.join()
    elapsed = time.monotonic() - started
    for event in sandbox.klaviyo.events_for(Metric.STORE_NOTICE.value):
        rid = (event.unique_id or "").split(":")[1] if event.unique_id else ""
        if rid in tills.submitted:
            tills.noticed[rid] = event.received_at
    ops = [
        o
        for o in list(sandbox.shopify.operations)[operations_before:]
        if o.operation_name in EXPIRY_OPERATIONS
    ]
    written = [
        r
        for r in base.records(Receipts.TABLE)
        if str(r["fields"].get(Receipts.REFERENCE, "")).startswith(("expire:", "remind:"))
    ]
    return _report(reports, elapsed, wiring, ops, tills, seeded, len(written))


def _report(
    reports: list[RunReport],
    elapsed: float,
    wiring: Wiring,
    ops: list[Any],
    tills: Tills,
    seeded: Seeded,
    receipts: int,
) -> int:
    outcomes: Counter[str] = Counter()
    for report in reports:
        outcomes.update(report.outcomes)
    errors = [e for r in reports for e in r.errors]
    changed = sum(
        outcomes[k]
        for k in ("Expired", "Expiry Mirrored", "Reminder Sent", "No Holder Email", "Email Failed")
    )
    requests = sum(wiring.expiry_requests.values())
    per_request = changed / requests if requests else 0.0
    print(
        f"expiry: {len(reports)} run(s) in {elapsed:.1f} s; outcomes {dict(outcomes)}; "
        f"errors {errors[:3]}"
    )
    print(
        f"Airtable: {requests} requests ({dict(wiring.expiry_requests)}) for {changed} cards "
        f"changed: {per_request:.2f} cards per request (target >= {CARDS_PER_REQUEST_TARGET:g})"
    )
    requested = sum(o.requested_cost for o in ops)
    actual = sum(o.actual_cost or 0 for o in ops)
    print(
        f"Shopify: {len(ops)} queries ({Counter(o.operation_name for o in ops)}), cost "
        f"{requested} points requested, {actual} actual"
    )
    waits = [tills.noticed[r] - tills.submitted[r] for r in tills.noticed]
    missing = len(tills.submitted) - len(tills.noticed)
    if waits:
        ordered = sorted(waits)
        p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
        print(
            f"redemptions during the run: {len(waits)}; submission -> store notice p50 "
            f"{statistics.median(waits):.2f} s, p99 {p99:.2f} s, max {max(waits):.2f} s "
            f"(target p99 <= {P99_TARGET:g} s); without a notice: {missing}"
        )
    else:
        p99 = float("inf")
        print("no redemption was noticed during the run")
    floor = _floor(outcomes, receipts)
    print(
        f"the least this run could cost: {floor} requests ({changed / floor:.2f} cards per "
        f"request): pages of 100 due cards, 100 reminder references a read, and 10 records a "
        f"write for {outcomes['Expired'] + outcomes['Expiry Mirrored']} card rows and "
        f"{receipts} receipts"
    )
    ok = not errors and changed == seeded.changed_expected and p99 <= P99_TARGET and missing == 0
    ok = ok and requests <= floor + 2  # the filtered read plus batched writes, nothing else
    eight = per_request >= CARDS_PER_REQUEST_TARGET
    print(
        f"1 request per {CARDS_PER_REQUEST_TARGET:g} cards changed: {'met' if eight else 'missed'}"
        + ("" if eight else " (an expired card needs a row write and a receipt: see the README)")
    )
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


def _floor(outcomes: Counter[str], receipts: int) -> int:
    """Requests a run of these outcomes needs at least, by Airtable's page and batch sizes."""
    reminders = sum(outcomes[k] for k in ("Reminder Sent", "No Holder Email", "Email Failed"))
    rows = outcomes["Expired"] + outcomes["Expiry Mirrored"]
    due = rows + reminders
    return (
        math.ceil(due / 100)
        + math.ceil(reminders / 100)
        + math.ceil(rows / 10)
        + math.ceil(receipts / 10)
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--cards", type=int, default=10_000)
    parser.add_argument("--expired", type=int, default=100)
    parser.add_argument("--reminded", type=int, default=200)
    parser.add_argument("--spacing", type=float, default=1.0, help="seconds between redemptions")
    parser.add_argument("--log-level", default="WARNING")
    args = parser.parse_args(argv)
    configure_logging(level=args.log_level, json_lines=False)  # to stderr, codes masked
    return measure(Plan(args.cards, args.expired, args.reminded), args.spacing)


if __name__ == "__main__":
    raise SystemExit(main())
