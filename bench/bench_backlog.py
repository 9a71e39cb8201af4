"""Draining a backlog of store redemptions against the sandbox with its real rate limits.

DESIGN.md's target: a backlog of 500 redemptions drains at no less than 80% of the rate of the
binding outside limit, with at most 0.6 Airtable requests per redemption on average.

    .venv/bin/python -m bench.bench_backlog [--redemptions 500] [--budget 45]

Setup (not measured): the three sandboxes in this process with their real limits (Airtable 5
requests/s per base and a 30 s silence after a 429, Shopify's 1000-point bucket restoring 50/s,
Klaviyo 350/s and 3,500/min); as many cards as redemptions, made directly in the sandboxes
(Shopify ``issue_card``, Gift Cards rows with digest and sealed code), one redemption queued per
card. Measured: the store prong's ``run_once`` with the real adapters and shared limiters, back
to back (each daemon tick, without the wait between ticks) until a run finds nothing to do.

Usage per redemption comes from the sandboxes' own logs. A service's steady limit allows at most
``limit / usage`` redemptions per second; the smallest is the binding limit, and the drain rate
is compared with it. Shopify's bucket starts full (1,000 points: a hundred debits at once), which
flatters that ratio, so the bench also compares the drain time with the least time the three
limits allow for the same usage, bursts included; both must reach 0.8. Exit status 0 when every
target holds and no 429 (or THROTTLED) occurred.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from bench.harness import build, settings_for, start_in_memory
from cards.codes import digest, generate, seal
from cards.vocab import CardSource, CardStatus, Kind
from config.layout import GiftCards, StoreRedemptions, Stores
from daemon.clock import SystemClock
from daemon.logging import configure as configure_logging
from prongs.deps import Deps
from prongs.report import Budget, OpenGate, RunReport
from prongs.store_context import StoreConfig
from prongs.store_transactions import run_once
from sandbox.stack import Sandbox

VALUE, AMOUNT = Decimal("50.00"), Decimal("5.00")
AIRTABLE_PER_SECOND = 5.0
SHOPIFY_BUCKET, SHOPIFY_RESTORE = 1000.0, 50.0
KLAVIYO_BURST, KLAVIYO_PER_SECOND = 350.0, 3500.0 / 60.0
MAX_AIRTABLE_PER_REDEMPTION, MIN_RATIO = 0.6, 0.8
FINAL = {"Done", "Rejected", "Needs Attention"}


@dataclass
class Usage:
    redemptions: int
    seconds: float
    runs: int
    airtable: int
    shopify_cost: float
    klaviyo: int
    rate_limited: int  # 429s and THROTTLED answers, every service
    airtable_429: int  # the Airtable sandbox's own count of requests its limit answered 429
    done: int
    errors: list[str]

    def per(self, total: float) -> float:
        return total / self.redemptions

    @property
    def rate(self) -> float:
        return self.redemptions / self.seconds

    def limits(self) -> dict[str, float]:
        """Redemptions per second each service's steady limit allows at the measured usage."""
        return {
            "airtable": AIRTABLE_PER_SECOND / max(self.per(self.airtable), 1e-9),
            "shopify": SHOPIFY_RESTORE / max(self.per(self.shopify_cost), 1e-9),
            "klaviyo": KLAVIYO_PER_SECOND / max(self.per(self.klaviyo), 1e-9),
        }

    def fastest_drain(self) -> float:
        """Seconds a perfect client needs for this usage, spending each bucket's burst first."""
        return max(
            self.airtable / AIRTABLE_PER_SECOND,
            max(0.0, self.shopify_cost - SHOPIFY_BUCKET) / SHOPIFY_RESTORE,
            max(0.0, self.klaviyo - KLAVIYO_BURST) / KLAVIYO_PER_SECOND,
        )


def seed(sandbox: Sandbox, config: StoreConfig, count: int) -> None:
    """``count`` live cards and one redemption of each, straight into the sandboxes."""
    base, now = sandbox.airtable.base(), datetime.now(UTC).isoformat()
    stores = [r["id"] for r in base.records(Stores.TABLE)]
    cards, requests = [], []
    for n in range(count):
        code = generate(config.card.code_length)
        issued = sandbox.shopify.issue_card(VALUE, code.reveal(), note=f"giftbridge bench:{n}")
        cards.append(
            {
                GiftCards.CODE_DIGEST: digest(code, config.card.pepper),
                GiftCards.CODE_SEALED: seal(code, config.card.code_key),
                GiftCards.MASKED_CODE: code.masked,
                GiftCards.LAST_CHARACTERS: code.last4,
                GiftCards.SHOPIFY_GIFT_CARD_ID: f"gid://shopify/GiftCard/{issued.number}",
                GiftCards.ORIGIN_KEY: f"bench:{n}",
                GiftCards.STATUS: CardStatus.ACTIVE.value,
                GiftCards.KIND: Kind.GIFT_CARD.value,
                GiftCards.SOURCE: CardSource.STORE.value,
                GiftCards.CURRENCY: config.card.currency,
                GiftCards.INITIAL_VALUE: float(VALUE),
                GiftCards.BALANCE: float(VALUE),
                GiftCards.ISSUED_AT: now,
            }
        )
        requests.append(
            {
                StoreRedemptions.CODE: code.reveal(),
                StoreRedemptions.AMOUNT: float(AMOUNT),
                StoreRedemptions.STORE: [stores[n % len(stores)]],
                StoreRedemptions.STAFF_NAME: "Bench",
            }
        )
    base.create(GiftCards.TABLE, cards)
    base.create(StoreRedemptions.TABLE, requests)


def clear_logs(sandbox: Sandbox) -> None:
    sandbox.airtable.log.clear()
    sandbox.airtable.limiter.reset()  # the counts of 429s start from zero (the seeding is ours)
    sandbox.shopify.log.clear()
    with sandbox.shopify.lock:
        sandbox.shopify.operations.clear()
    sandbox.klaviyo.log.clear()


def drain(
    deps: Deps, config: StoreConfig, budget: float, max_runs: int
) -> tuple[float, list[RunReport]]:
    """Runs back to back until one finds nothing; seconds until the last one that found work."""
    clock, reports = SystemClock(), list[RunReport]()
    started = drained = time.monotonic()
    while len(reports) < max_runs:
        report = run_once(deps, config, Budget(clock, budget), OpenGate())
        reports.append(report)
        if not report.found_work:
            break
        drained = time.monotonic()
        print(
            f"  run {len(reports)}: {report.processed} finished in "
            f"{drained - started:.1f} s so far; errors {len(report.errors)}",
            flush=True,
        )
    return drained - started, reports


def usage(sandbox: Sandbox, count: int, seconds: float, reports: list[RunReport]) -> Usage:
    air = sandbox.airtable.request_log
    kla = sandbox.klaviyo.request_log
    with sandbox.shopify.lock:
        ops = list(sandbox.shopify.operations)
    records = sandbox.airtable.base().records(StoreRedemptions.TABLE)
    done = sum(1 for r in records if r["fields"].get(StoreRedemptions.STATUS) == "Done")
    limited = sum(1 for e in [*air, *kla] if e.status == 429)
    limited += sum(1 for op in ops if op.outcome == "throttled")
    return Usage(
        redemptions=count,
        seconds=seconds,
        runs=len(reports),
        airtable=len(air),
        shopify_cost=float(sum(op.actual_cost or 0 for op in ops)),
        klaviyo=len(kla),
        rate_limited=limited,
        airtable_429=sum(c["answered_429"] for c in sandbox.airtable.limiter.counts().values()),
        done=done,
        errors=[e for r in reports for e in r.errors],
    )


def report(u: Usage) -> int:
    limits = u.limits()
    binding = min(limits, key=lambda k: limits[k])
    ratio = u.rate / limits[binding]
    efficiency = u.fastest_drain() / u.seconds  # the stricter view when a burst helped
    per_air = u.per(u.airtable)
    rows = [
        ("redemptions drained", f"{u.done} of {u.redemptions} Done in {u.runs} runs", ""),
        ("time", f"{u.seconds:.1f} s", ""),
        ("redemptions/s", f"{u.rate:.2f}", ""),
        ("Airtable requests/redemption", f"{per_air:.3f}", f"<= {MAX_AIRTABLE_PER_REDEMPTION}"),
        ("Shopify cost/redemption", f"{u.per(u.shopify_cost):.1f} points", ""),
        ("Klaviyo requests/redemption", f"{u.per(u.klaviyo):.2f}", ""),
        *[
            (f"max rate by {k}", f"{v:.2f}/s", "binding" if k == binding else "")
            for k, v in limits.items()
        ],
        ("rate / binding limit", f"{ratio:.2f}", f">= {MIN_RATIO}"),
        ("... counting each bucket's burst at start", f"{efficiency:.2f}", f">= {MIN_RATIO}"),
        ("429 / THROTTLED answers", str(u.rate_limited), "0"),
        ("... Airtable's own count of 429s answered", str(u.airtable_429), "0"),
        ("run errors", str(len(u.errors)), ""),
    ]
    width = max(len(r[0]) for r in rows)
    for name, value, target in rows:
        print(f"{name:<{width}}  {value:<32} {target}")
    for line in u.errors[:5]:
        print(f"  error: {line}")
    ok = (
        u.done == u.redemptions
        and per_air <= MAX_AIRTABLE_PER_REDEMPTION
        and min(ratio, efficiency) >= MIN_RATIO
        and u.rate_limited == 0
        and u.airtable_429 == 0
    )
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


def measure(count: int, budget: float, max_runs: int) -> int:
    sandbox = start_in_memory()
    try:
        adapters, deps, config = build(sandbox, settings_for(sandbox))
        try:
            print(f"seeding {count} cards and {count} redemptions ...", flush=True)
            seed(sandbox, config, count)
            clear_logs(sandbox)
            print("draining ...", flush=True)
            seconds, reports = drain(deps, config, budget, max_runs)
            return report(usage(sandbox, count, seconds, reports))
        finally:
            adapters.close()
    finally:
        for thread in sandbox.threads:
            thread.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--redemptions", type=int, default=500)
    parser.add_argument("--budget", type=float, default=45.0, help="run budget, seconds")
    parser.add_argument("--max-runs", type=int, default=40)
    parser.add_argument("--log-level", default="WARNING")
    args = parser.parse_args(argv)
    configure_logging(level=args.log_level, json_lines=False)  # to stderr, codes masked
    return measure(args.redemptions, args.budget, args.max_runs)


if __name__ == "__main__":
    raise SystemExit(main())
