"""Real giftbridge processes against a sandbox started in the test's process (its real Airtable
limit of 5 requests a second, and its counts of the 429s it answered), with cards and requests
seeded straight into the stand-ins, as Airtable's forms would (no API budget used)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from cards.codes import digest, generate, seal
from cards.vocab import CardSource, CardStatus, Kind
from config.layout import GiftCards, StoreRedemptions, Stores
from sandbox import stack
from sandbox.stack import Sandbox

ROOT = Path(__file__).resolve().parents[2]
FINAL = {"Done", "Rejected", "Needs Attention"}


@contextmanager
def running_sandbox(state: Path, penalty: float = 30.0) -> Iterator[Sandbox]:
    sandbox = stack.start(state, port_base=0, airtable_penalty=penalty)
    try:
        yield sandbox
    finally:
        sandbox.stop()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def env_for(sandbox: Sandbox, state: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GIFTBRIDGE_", "NOTIFY_"))}
    env.update(sandbox.environment())
    env.update(
        PYTHONPATH=str(ROOT),
        GIFTBRIDGE_STATE_DIR=str(state),
        GIFTBRIDGE_HTTP_PORT=str(free_port()),
        GIFTBRIDGE_TICK_SECONDS="2",
        GIFTBRIDGE_SHOPIFY_GIFT_CARD_SKUS="GC-DEMO",
    )
    env.update(extra)
    return env


def start_daemon(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "daemon", "run"], cwd=ROOT, env=env, stdout=out, stderr=out
        )


def stop(process: subprocess.Popen[Any], timeout: float = 60) -> int:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    try:
        return process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        return process.wait()


def seed_cards(sandbox: Sandbox, count: int, value: str = "100.00") -> list[str]:
    """``count`` live cards made straight in the stand-ins; returns their codes."""
    c, base, now = sandbox.credentials, sandbox.airtable.base(), datetime.now(UTC).isoformat()
    codes, rows = [], []
    for n in range(count):
        code = generate(12)
        issued = sandbox.shopify.issue_card(Decimal(value), code.reveal(), note=f"seed:{n}")
        rows.append(
            {
                GiftCards.CODE_DIGEST: digest(code, c.code_pepper),
                GiftCards.CODE_SEALED: seal(code, c.code_key),
                GiftCards.MASKED_CODE: code.masked,
                GiftCards.LAST_CHARACTERS: code.last4,
                GiftCards.SHOPIFY_GIFT_CARD_ID: f"gid://shopify/GiftCard/{issued.number}",
                GiftCards.ORIGIN_KEY: f"seed:{n}",
                GiftCards.STATUS: CardStatus.ACTIVE.value,
                GiftCards.KIND: Kind.GIFT_CARD.value,
                GiftCards.SOURCE: CardSource.STORE.value,
                GiftCards.CURRENCY: "USD",
                GiftCards.INITIAL_VALUE: float(Decimal(value)),
                GiftCards.BALANCE: float(Decimal(value)),
                GiftCards.ISSUED_AT: now,
            }
        )
        codes.append(code.reveal())
    for start in range(0, len(rows), 10):
        base.create(GiftCards.TABLE, rows[start : start + 10])
    return codes


def submit_redemptions(sandbox: Sandbox, codes: list[str], amount: str = "1.00") -> list[str]:
    """Store redemptions as the form makes them (straight into the stand-in)."""
    base = sandbox.airtable.base()
    store = next(r["id"] for r in base.records(Stores.TABLE) if r["fields"].get(Stores.ACTIVE))
    rows = [
        {
            StoreRedemptions.CODE: code,
            StoreRedemptions.AMOUNT: float(Decimal(amount)),
            StoreRedemptions.STORE: [store],
            StoreRedemptions.STAFF_NAME: "Sam",
        }
        for code in codes
    ]
    made: list[str] = []
    for start in range(0, len(rows), 10):
        made += [r["id"] for r in base.create(StoreRedemptions.TABLE, rows[start : start + 10])]
    return made


def statuses(sandbox: Sandbox, ids: list[str]) -> dict[str, str | None]:
    base = sandbox.airtable.base()
    by_id = {r["id"]: r for r in base.records(StoreRedemptions.TABLE)}
    return {i: by_id[i]["fields"].get(StoreRedemptions.STATUS) for i in ids}


def wait_for(predicate: Callable[[], bool], timeout: float, poll: float = 0.25) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(poll)
    return False
