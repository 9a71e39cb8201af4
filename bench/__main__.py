"""``make bench``: every benchmark in turn against the sandbox with real rate limits.

Each prints its figures and targets; the exit code is non-zero if any target was missed.
Run one alone with ``python -m bench.bench_<name>``.
"""

from __future__ import annotations

import importlib
import sys

BENCHES = (
    "bench_store_latency",
    "bench_backlog",
    "bench_bulk",
    "bench_idle",
    "bench_report",
    "bench_expiry",
    "bench_audit",
    "bench_push",
)


def main() -> int:
    failed = []
    for name in BENCHES:
        print(f"\n=== {name} ===", flush=True)
        module = importlib.import_module(f"bench.{name}")
        code = module.main([])
        if code:
            failed.append(name)
    print("\nall targets met" if not failed else f"\ntargets missed in: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
