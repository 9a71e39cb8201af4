"""Idle footprint of the real daemon: CPU, resident memory and Airtable requests per second.

Starts ``giftbridge sandbox`` (no demo traffic) and ``giftbridge run`` pointed at it by the
sandbox's export lines, each in its own process, lets the daemon settle, then measures the
daemon process for ``--seconds`` (default 60): CPU time from /proc, peak VmRSS, and the Airtable
requests the sandbox logged in that window. It does so in each push mode (``--modes``, default
off, poll and notify; notify reaches the daemon at ``http://127.0.0.1:HTTP_PORT``). Targets
(DESIGN.md): under 1% of a core, under 150 MB resident, at most 0.5 Airtable requests per second
(0.04 in notify mode). Exits 1 if one is missed.

    .venv/bin/python -m bench.bench_idle [--seconds 60] [--settle 20] [--modes off,poll,notify]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from daemon.embedded_sandbox import EmbeddedSandbox

TICK = os.sysconf("SC_CLK_TCK")
HTTP_PORT = 28711


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK  # utime + stime


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _airtable_requests(url: str, since: float, until: float) -> int:
    with urllib.request.urlopen(f"{url}/_sandbox/requests", timeout=10) as answer:  # noqa: S310
        entries = json.load(answer)["requests"]
    return sum(1 for e in entries if since <= e["time"] < until and e["path"].startswith("/v0/"))


REQUEST_TARGET = {"off": 0.5, "poll": 0.5, "notify": 0.04}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--settle", type=float, default=20.0)
    parser.add_argument("--modes", default="off,poll,notify")
    args = parser.parse_args(argv)
    missed = False
    for mode in [m.strip() for m in args.modes.split(",") if m.strip()]:
        missed |= measure(mode, args.seconds, args.settle)
    return 1 if missed else 0


def measure(mode: str, seconds: float, settle: float) -> bool:
    """One idle daemon in ``mode``; prints the figures, returns True when a target is missed."""
    with tempfile.TemporaryDirectory() as tmp:
        state = Path(tmp)
        sandbox = EmbeddedSandbox.start(state / "sandbox-process", demo=False)
        exports = sandbox.environment
        env = {k: v for k, v in os.environ.items() if not k.startswith("GIFTBRIDGE_")}
        env.update(
            exports,
            GIFTBRIDGE_STATE_DIR=str(state / "daemon"),
            GIFTBRIDGE_HTTP_PORT=str(HTTP_PORT),
            GIFTBRIDGE_AIRTABLE_PUSH=mode,
        )
        if mode == "notify":
            env["GIFTBRIDGE_PUBLIC_URL"] = f"http://127.0.0.1:{HTTP_PORT}"
        daemon = subprocess.Popen(
            [sys.executable, "-m", "daemon", "run"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            time.sleep(settle)
            if daemon.poll() is not None:
                raise SystemExit(f"the daemon exited with {daemon.returncode}")
            start, cpu0 = time.time(), _cpu_seconds(daemon.pid)
            peak = 0.0
            while time.time() - start < seconds:
                peak = max(peak, _rss_mb(daemon.pid))
                time.sleep(1)
            end, cpu1 = time.time(), _cpu_seconds(daemon.pid)
            requests = _airtable_requests(exports["GIFTBRIDGE_AIRTABLE_API_URL"], start, end)
        finally:
            daemon.send_signal(signal.SIGTERM)
            daemon.wait(timeout=30)
            sandbox.stop()
    elapsed = end - start
    cpu_pct = 100 * (cpu1 - cpu0) / elapsed
    rate = requests / elapsed
    rows = [
        ("CPU, % of one core", cpu_pct, 1.0),
        ("resident memory, MB (peak)", peak, 150.0),
        ("Airtable requests per second", rate, REQUEST_TARGET[mode]),
    ]
    print(f"idle daemon, push {mode}, over {elapsed:.0f} s (after {settle:.0f} s to settle)")
    missed = False
    for name, value, target in rows:
        ok = value < target if "CPU" in name or "memory" in name else value <= target
        missed |= not ok
        print(
            f"  {name:<32} {value:8.3f}   target {'<' if 'req' not in name else '<='} "
            f"{target:g}   {'ok' if ok else 'MISSED'}"
        )
    return missed


if __name__ == "__main__":
    sys.exit(main())
