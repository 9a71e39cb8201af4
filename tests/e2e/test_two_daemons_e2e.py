"""Two daemons (two real processes, each with its own STATE_DIR, as on two machines) started at
the same moment on one sandbox base: 20 redemptions in three bursts, and not one debited twice.
The lease (daemon.ownership) lets one of them act; the other waits."""

from __future__ import annotations

import json
import time
from collections import Counter
from pathlib import Path

import pytest

from tests.e2e.process_kit import (
    FINAL,
    env_for,
    running_sandbox,
    seed_cards,
    start_daemon,
    statuses,
    stop,
    submit_redemptions,
    wait_for,
)

pytestmark = pytest.mark.slow
BURSTS = (7, 7, 6)


@pytest.mark.timeout(300)
def test_two_daemons_at_once_never_debit_twice(tmp_path: Path) -> None:
    # Two budgets (two machines) may together go past 5 a second: a short penalty keeps it quick.
    with running_sandbox(tmp_path / "sandbox", penalty=1.0) as sandbox:
        codes = seed_cards(sandbox, sum(BURSTS))
        envs = [env_for(sandbox, tmp_path / f"machine-{n}") for n in (1, 2)]
        # The first burst waits for both daemons, which start together and find it together.
        requests = submit_redemptions(sandbox, codes[: BURSTS[0]])
        daemons = [start_daemon(env, tmp_path / f"daemon-{n}.log") for n, env in enumerate(envs)]
        try:
            offset = BURSTS[0]
            for size in BURSTS[1:]:
                time.sleep(4.0)
                requests += submit_redemptions(sandbox, codes[offset : offset + size])
                offset += size
            finished = wait_for(lambda: set(statuses(sandbox, requests).values()) <= FINAL, 180)
        finally:
            codes_ok = [stop(d) for d in daemons]
        logs = "\n".join((tmp_path / f"daemon-{n}.log").read_text()[-3000:] for n in (0, 1))
        assert finished, logs
        assert codes_ok == [0, 0], logs
        debits = Counter(
            txn.note
            for code in codes
            for txn in sandbox.shopify.card_transactions(code)
            if txn.kind == "debit" and txn.note
        )
        assert len(debits) == len(requests)  # every redemption debited...
        assert max(debits.values()) == 1, [n for n, c in debits.items() if c > 1]  # ...once
        assert set(statuses(sandbox, requests).values()) == {"Done"}
        winners = [n for n in (0, 1) if claimed_store(tmp_path / f"daemon-{n}.log")]
        assert len(winners) == 1, logs  # one daemon holds the store prong; the other waits


def claimed_store(log: Path) -> bool:
    for line in log.read_text().splitlines():
        try:
            event = json.loads(line)
        except ValueError:
            continue
        if event.get("event") == "lease.claimed" and event.get("prong") == "store-transactions":
            return True
    return False
