"""Bulk issuance against the sandbox with its real rate limits, while store redemptions arrive.

The issue's target: 500 rows imported with ``giftbridge cards import`` while tills redeem cards;
cards issued per second at no less than 80% of the binding outside limit, the Airtable requests
per card, and a store redemption submitted mid-import finished within 4 s at p99.

    .venv/bin/python -m bench.bench_bulk [--rows 500] [--spacing 5]

Setup (not measured): the three stand-ins in this process with their real limits (Airtable 5
requests a second per base and 30 s of silence after a 429, Shopify's 1,000-point bucket
restoring 50 a second, Klaviyo 350 a second and 3,500 a minute); a few live cards for the tills;
a CSV file of a company's order (gifts from "Acme Corp", no purchaser email: one email a card).
Measured: giftbridge in its own process (``bench.bulk_worker``: the store prong run after run and
the import command following its batch, over one set of limiters), from the command's start to
the last row final, while this process submits a redemption every ``--spacing`` seconds (as a
form would: not through the API) and watches each to its final Status every 50 ms.

Usage per card comes from the stand-ins' own logs over that window, everything included (the
import's upserts, the command's polls, the prong's queue polls, the redemptions). A service's
steady limit allows at most ``limit / usage per card`` cards a second; the smallest is the
binding limit. Exit status 0 when every row is Created, the rate is at least 0.8 of the binding
limit, the redemptions' p99 is at most 4 s, and no 429 (or THROTTLED) occurred.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from bench.bench_backlog import KLAVIYO_PER_SECOND, SHOPIFY_RESTORE
from bench.bench_store_latency import p99
from bench.harness import start_in_memory
from cards.codes import digest, generate, seal
from config.layout import CreationRequests, GiftCards, StoreRedemptions, Stores
from sandbox.httpkit import RequestLogEntry
from sandbox.stack import Sandbox

AIRTABLE_PER_SECOND = 5.0
FINAL = {"Done", "Rejected", "Needs Attention"}
TILL_CARDS, TILL_VALUE = 4, Decimal("500.00")


def order_file(path: Path, rows: int) -> None:
    lines = ["recipient_name,recipient_email,amount,purchaser_name,theme,message"]
    lines += [
        f"Employee {n},employee{n}@acme.example,{25 + n % 4 * 25}.00,Acme Corp,Thank You,"
        f'"Thank you for {2020 + n % 5}, Employee {n}!"'
        for n in range(1, rows + 1)
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def till_codes(sandbox: Sandbox, pepper: str, code_key: str) -> list[str]:
    """Live cards for the tills, made directly in the stand-ins (as bench_backlog does)."""
    codes, rows = [], []
    for n in range(TILL_CARDS):
        code = generate(12)
        issued = sandbox.shopify.issue_card(TILL_VALUE, code.reveal(), note=f"giftbridge till:{n}")
        rows.append(
            {
                GiftCards.CODE_DIGEST: digest(code, pepper),
                GiftCards.CODE_SEALED: seal(code, code_key),
                GiftCards.MASKED_CODE: code.masked,
                GiftCards.LAST_CHARACTERS: code.last4,
                GiftCards.SHOPIFY_GIFT_CARD_ID: f"gid://shopify/GiftCard/{issued.number}",
                GiftCards.ORIGIN_KEY: f"till:{n}",
                GiftCards.STATUS: "Active",
                GiftCards.CURRENCY: "USD",
                GiftCards.INITIAL_VALUE: float(TILL_VALUE),
                GiftCards.BALANCE: float(TILL_VALUE),
            }
        )
        codes.append(code.reveal())
    sandbox.airtable.base().create(GiftCards.TABLE, rows)
    return codes


@dataclass
class Tills:
    """Redemptions submitted while the batch is issued, each watched to its final Status."""

    sandbox: Sandbox
    codes: list[str]
    store_id: str
    spacing: float
    stop: threading.Event = field(default_factory=threading.Event)
    submitted: dict[str, float] = field(default_factory=dict)
    finished: dict[str, float] = field(default_factory=dict)
    picked: dict[str, float] = field(default_factory=dict)

    def run(self) -> None:
        base = self.sandbox.airtable.base()
        while not self.stop.is_set() and not base.records(CreationRequests.TABLE):
            time.sleep(0.05)  # the import has begun writing
        next_at = time.monotonic() + self.spacing
        while not self.stop.is_set():
            now = time.monotonic()
            if now >= next_at and not self.batch_final(base):
                self.submit(len(self.submitted))
                next_at = now + self.spacing
            self.watch()
            time.sleep(0.05)
        deadline = time.monotonic() + 30
        while len(self.finished) < len(self.submitted) and time.monotonic() < deadline:
            self.watch()
            time.sleep(0.02)

    def submit(self, n: int) -> None:
        row = {
            StoreRedemptions.CODE: self.codes[n % len(self.codes)],
            StoreRedemptions.AMOUNT: 1.0,
            StoreRedemptions.STORE: [self.store_id],
            StoreRedemptions.STAFF_NAME: "Bench",
        }
        (record,) = self.sandbox.airtable.base().create(StoreRedemptions.TABLE, [row])
        self.submitted[record["id"]] = time.monotonic()

    @staticmethod
    def batch_final(base: Any) -> bool:
        """Every row of the import is final: the tills stop submitting (the worker then drains
        what was submitted and stops; the import's figures end here anyway)."""
        rows = base.records(CreationRequests.TABLE)
        return bool(rows) and all(r["fields"].get(CreationRequests.STATUS) in FINAL for r in rows)

    def watch(self) -> None:
        base = self.sandbox.airtable.base()
        for rid in [r for r in self.submitted if r not in self.finished]:
            status = (base.record(rid) or {}).get("fields", {}).get(StoreRedemptions.STATUS)
            if status == "Processing":
                self.picked.setdefault(rid, time.monotonic())
            if status in FINAL:
                self.picked.setdefault(rid, time.monotonic())
                self.finished[rid] = time.monotonic()


def run_worker(sandbox: Sandbox, path: Path, store: str) -> dict[str, object]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIFTBRIDGE_")}
    env.update(sandbox.environment())
    command = [sys.executable, "-m", "bench.bulk_worker", "--file", str(path), "--store", store]
    done = subprocess.run(command, env=env, stdout=subprocess.PIPE, check=False, text=True)  # noqa: S603
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if not lines:
        raise SystemExit(f"the worker printed no result (exit {done.returncode})")
    result: dict[str, object] = json.loads(lines[-1])
    return result


# --- figures --------------------------------------------------------------------------------


@dataclass
class Figures:
    rows: int
    created: int
    seconds: float  # the command's start to the last row final
    airtable: int
    airtable_by_operation: Counter[str]
    shopify_cost: float
    klaviyo: int
    limited: int  # 429s and THROTTLED answers, every service
    cpu: float  # giftbridge's process
    redemptions: list[float]  # submission to final, seconds
    picked: list[float]  # picked up to final
    left: int  # redemptions not final by the end
    errors: list[str]
    before_429: list[str] = field(default_factory=list)  # what arrived in the second before

    def per_card(self, total: float) -> float:
        return total / self.rows

    @property
    def rate(self) -> float:
        return self.created / self.seconds

    def limits(self) -> dict[str, float]:
        """Cards a second each service's steady limit allows at the measured usage."""
        return {
            "airtable": AIRTABLE_PER_SECOND / max(self.per_card(self.airtable), 1e-9),
            "shopify": SHOPIFY_RESTORE / max(self.per_card(self.shopify_cost), 1e-9),
            "klaviyo": KLAVIYO_PER_SECOND / max(self.per_card(self.klaviyo), 1e-9),
        }


def figures(sandbox: Sandbox, tills: Tills, result: dict[str, object], rows: int) -> Figures:
    since, until = float(str(result["started"])), float(str(result["finished"]))
    air = [e for e in sandbox.airtable.request_log if since <= e.time <= until]
    kla = [e for e in sandbox.klaviyo.request_log if since <= e.time <= until]
    with sandbox.shopify.lock:
        ops = [o for o in sandbox.shopify.operations if since <= o.at.timestamp() <= until]
    requests = sandbox.airtable.base().records(CreationRequests.TABLE)
    created = sum(1 for r in requests if r["fields"].get(CreationRequests.OUTCOME) == "Created")
    limited = sum(1 for e in [*air, *kla] if e.status == 429)
    limited += sum(1 for o in ops if o.outcome == "throttled")
    return Figures(
        rows=rows,
        created=created,
        seconds=until - since,
        airtable=len(air),
        airtable_by_operation=Counter(f"{e.operation} {e.table or ''}".strip() for e in air),
        shopify_cost=float(sum(o.actual_cost or 0 for o in ops)),
        klaviyo=len(kla),
        limited=limited,
        cpu=float(str(result["cpu"])),
        redemptions=[tills.finished[r] - tills.submitted[r] for r in tills.finished],
        picked=[tills.finished[r] - tills.picked[r] for r in tills.finished],
        left=len(tills.submitted) - len(tills.finished),
        errors=[str(e) for e in result.get("errors", []) or []],  # type: ignore[attr-defined]
        before_429=_before_first_429(air),
    )


def _before_first_429(entries: list[RequestLogEntry]) -> list[str]:
    """The requests the sandbox counted in the second before the first 429 (arrival times):
    where they bunch, something delayed them between the limiter and the sandbox."""
    first = next((e for e in entries if e.status == 429), None)
    if first is None:
        return []
    window = [e for e in entries if first.time - 1.0 <= e.time <= first.time]
    return [
        f"{e.time - first.time:+.3f} s {e.status} {e.operation} {e.table or ''}" for e in window
    ]


def report(f: Figures) -> int:
    limits = f.limits()
    binding = min(limits, key=lambda k: limits[k])
    ratio = f.rate / limits[binding]
    late = p99(f.redemptions) if f.redemptions else float("inf")
    table = [
        ("rows issued", f"{f.created} of {f.rows} Created in {f.seconds:.1f} s", ""),
        ("cards issued per second", f"{f.rate:.2f}", ""),
        ("Airtable requests per card", f"{f.per_card(f.airtable):.2f} (all traffic)", ""),
        ("Shopify cost per card", f"{f.per_card(f.shopify_cost):.1f} points", ""),
        ("Klaviyo requests per card", f"{f.per_card(f.klaviyo):.2f}", ""),
        *[
            (f"max rate by {k}", f"{v:.2f}/s", "binding" if k == binding else "")
            for k, v in limits.items()
        ],
        ("rate / binding limit", f"{ratio:.2f}", ">= 0.8"),
        (
            "giftbridge CPU per card",
            f"{f.cpu / f.rows * 1000:.0f} ms ({f.cpu / f.seconds:.0%} of a core)",
            "",
        ),
        ("redemptions during the import", f"{len(f.redemptions)} finished, {f.left} left", ""),
        (
            "redemption, submitted to final",
            f"p50 {sorted(f.redemptions)[len(f.redemptions) // 2]:.2f} s, p99 {late:.2f} s"
            if f.redemptions
            else "none",
            "p99 <= 4 s",
        ),
        ("redemption, picked up to final", f"max {max(f.picked, default=0):.2f} s", ""),
        ("429 / THROTTLED answers", str(f.limited), "0"),
        ("run errors", str(len(f.errors)), ""),
    ]
    width = max(len(r[0]) for r in table)
    for name, value, target in table:
        print(f"{name:<{width}}  {value:<40} {target}")
    print("Airtable requests by operation and table:")
    for what, count in f.airtable_by_operation.most_common():
        print(f"  {what:<40} {count:>6}  {count / f.rows:.3f} a card")
    for line in f.errors[:5]:
        print(f"  error: {line}")
    for line in f.before_429:
        print(f"  before the 429: {line}")
    ok = f.created == f.rows and ratio >= 0.8 and late <= 4.0 and f.left == 0 and f.limited == 0
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


def measure(rows: int, spacing: float) -> int:
    sandbox = start_in_memory()
    try:
        env = sandbox.environment()
        codes = till_codes(sandbox, env["GIFTBRIDGE_CODE_PEPPER"], env["GIFTBRIDGE_CODE_KEY"])
        stores = sandbox.airtable.base().records(Stores.TABLE)
        store = next(s for s in stores if s["fields"].get(Stores.ACTIVE))
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "acme-order.csv"
            order_file(path, rows)
            tills = Tills(sandbox, codes, store["id"], spacing)
            watcher = threading.Thread(target=tills.run)
            watcher.start()
            print(f"importing {rows} rows while a till redeems every {spacing:g} s ...", flush=True)
            try:
                result = run_worker(sandbox, path, str(store["fields"][Stores.NAME]))
            finally:
                tills.stop.set()
                watcher.join()
        return report(figures(sandbox, tills, result, rows))
    finally:
        for thread in sandbox.threads:
            thread.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rows", type=int, default=500)
    parser.add_argument("--spacing", type=float, default=5.0, help="seconds between redemptions")
    args = parser.parse_args(argv)
    return measure(args.rows, args.spacing)


if __name__ == "__main__":
    raise SystemExit(main())
