"""The whole product as an operator runs it: `giftbridge sandbox` in one process, `giftbridge
check` and `giftbridge once` in others, pointed at it by its export lines alone."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pyairtable import Api

from config.layout import CreationRequests, GiftCards, Receipts, StoreRedemptions, Stores
from daemon.embedded_sandbox import EmbeddedSandbox


@pytest.fixture
def sandbox_env(tmp_path: Path) -> Iterator[dict[str, str]]:
    """`giftbridge sandbox` in its own process (started and read as the daemon itself does),
    and an environment made of its export lines alone."""
    sandbox = EmbeddedSandbox.start(tmp_path / "sandbox-state", demo=False)
    try:
        env = {k: v for k, v in os.environ.items() if not k.startswith("GIFTBRIDGE_")}
        env.update(sandbox.environment, GIFTBRIDGE_STATE_DIR=str(tmp_path / "daemon-state"))
        yield env
    finally:
        sandbox.stop()


def giftbridge(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "daemon", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _klaviyo_events(env: dict[str, str], metric: str) -> list[dict[str, Any]]:
    url = env["GIFTBRIDGE_KLAVIYO_API_URL"] + "/_sandbox/state"
    with urllib.request.urlopen(url, timeout=10) as answer:  # noqa: S310 - loopback sandbox
        events: list[dict[str, Any]] = json.load(answer)["events"]
    return [e for e in events if e["metric"] == metric]


def test_sell_then_redeem_through_separate_processes(sandbox_env: dict[str, str]) -> None:
    env = sandbox_env
    checked = giftbridge(env, "check")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "everything giftbridge needs is in place" in checked.stdout

    api = Api(
        env["GIFTBRIDGE_AIRTABLE_TOKEN"],
        endpoint_url=env["GIFTBRIDGE_AIRTABLE_API_URL"],
        retry_strategy=None,
        timeout=(5, 10),
    )
    base = api.base(env["GIFTBRIDGE_AIRTABLE_BASE_ID"])
    store = base.table(Stores.TABLE).all()[0]
    base.table(CreationRequests.TABLE).create(
        {
            CreationRequests.PURCHASER_NAME: "Ada",
            CreationRequests.PURCHASER_EMAIL: "ada@example.com",
            CreationRequests.AMOUNT: 40,
            CreationRequests.KIND: "Gift Card",
            CreationRequests.CHANNEL: "Store",
            CreationRequests.STORE: [store["id"]],
        }
    )

    sold = giftbridge(env, "once")
    assert sold.returncode == 0, sold.stdout + sold.stderr
    assert "store-transactions: ran" in sold.stdout and "Created 1" in sold.stdout
    (issued,) = _klaviyo_events(env, "Gift Card Issued")
    code = issued["properties"]["code"]
    assert issued["email"] == "ada@example.com" and issued["properties"]["amount"] == "40.00"
    assert code not in sold.stdout + sold.stderr  # never in the daemon's output

    typed = "-".join(code[i : i + 4] for i in range(0, len(code), 4)).lower()
    # This write stands in for a clerk's form, which costs real Airtable no API budget; through
    # the sandbox's REST API it shares the 5/s window `once` may have just filled, so let the
    # window pass first.
    time.sleep(1.1)
    request = base.table(StoreRedemptions.TABLE).create(
        {
            StoreRedemptions.CODE: typed,
            StoreRedemptions.AMOUNT: 15,
            StoreRedemptions.STORE: [store["id"]],
            StoreRedemptions.STAFF_NAME: "Sam",
        }
    )
    redeemed = giftbridge(env, "once", "--prong", "store-transactions")
    assert redeemed.returncode == 0, redeemed.stdout + redeemed.stderr
    assert "Success 1" in redeemed.stdout

    done = base.table(StoreRedemptions.TABLE).get(request["id"])["fields"]
    assert (done["Status"], done["Outcome"], done["Balance After"]) == ("Done", "Success", 25)
    assert done["Code"] == "••••••••" + code[-4:]
    (card,) = base.table(GiftCards.TABLE).all()
    assert card["fields"]["Balance"] == 25 and card["fields"]["Status"] == "Active"
    assert code not in json.dumps(card["fields"])
    references = {r["fields"][Receipts.REFERENCE] for r in base.table(Receipts.TABLE).all()}
    assert f"redeem:{request['id']}:redeemed" in references
    (notice,) = [
        e
        for e in _klaviyo_events(env, "Gift Card Store Notice")
        if e["properties"]["notice"] == "redemption"
    ]
    assert notice["properties"]["balance_after"] == "25.00"
    assert notice["unique_id"] == f"redeem:{request['id']}:store"
