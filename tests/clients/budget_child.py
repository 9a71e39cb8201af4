"""A giftbridge-like process for the shared-budget test: list a table ``n`` times through the
base's budget in STATE_DIR, each request arriving late by a random delay (a slow connection),
and print the status codes as JSON. Run: ``python -m tests.clients.budget_child URL TOKEN BASE
STATE_DIR N SEED [PRIORITY]``."""

from __future__ import annotations

import json
import random
import sys
import time
from pathlib import Path

import requests

from clients.airtable_budget import airtable_limiter, shared_file
from clients.ports import Priority, priority


def main(argv: list[str]) -> None:
    url, token, base, state_dir, n, seed = argv[:6]
    level = Priority[argv[6]] if len(argv) > 6 else Priority.NORMAL
    rng = random.Random(int(seed))
    limiter = airtable_limiter(shared_file=shared_file(Path(state_dir), base))
    session = requests.Session()
    statuses = []
    with priority(level):
        for _ in range(int(n)):
            limiter.acquire(max_wait=120)
            try:
                time.sleep(rng.uniform(0, 0.25))  # admitted now, arriving up to 250 ms later
                response = session.get(
                    f"{url}/v0/{base}/Stores",
                    headers={"Authorization": f"Bearer {token}"},
                    timeout=10,
                )
            finally:
                limiter.release()
            statuses.append(response.status_code)
    print(json.dumps(statuses))


if __name__ == "__main__":
    main(sys.argv[1:])
