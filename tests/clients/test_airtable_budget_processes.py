"""Four processes at once on one base, each request arriving up to 250 ms after its admission:
the shared budget in STATE_DIR keeps the sandbox's 5-per-second window from ever answering 429
(admission spacing alone would not: arrivals bunch up)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from sandbox.airtable import AirtableSandbox, load_layout_json, make_airtable_app
from sandbox.server import ServiceThread
from tests.sandbox.conftest import BASE_ID, TOKEN

PROCESSES, CALLS = 4, 6


def test_four_processes_sharing_the_budget_draw_no_429(tmp_path: Path) -> None:
    sandbox = AirtableSandbox(TOKEN, BASE_ID, layout=load_layout_json(), penalty_seconds=30.0)
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": str(root)}
    with ServiceThread(lambda: make_airtable_app(sandbox)) as server:
        started = time.monotonic()
        children = [
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "tests.clients.budget_child",
                    server.url,
                    TOKEN,
                    BASE_ID,
                    str(tmp_path),
                    str(CALLS),
                    str(seed),
                ],
                stdout=subprocess.PIPE,
                env=env,
                cwd=root,
                text=True,
            )
            for seed in range(PROCESSES)
        ]
        outputs = [child.communicate(timeout=120)[0] for child in children]
        seconds = time.monotonic() - started
    statuses = [s for out in outputs for s in json.loads(out)]
    assert statuses == [200] * PROCESSES * CALLS
    assert sandbox.limiter.counts() == {}  # not one 429 answered
    assert seconds < PROCESSES * CALLS / 2.5  # and not crawling: about 3.5 calls a second
