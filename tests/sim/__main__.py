"""The whole-system simulation from the command line.

    python -m tests.sim replay SEED          # one seed, every step, run and fault as it happens
    python -m tests.sim soak [--seeds N] [--first S] [--jobs J]

``make soak`` runs the soak (``SEEDS=N``, default 10,000) and ``make soak SEED=12345`` replays
one seed. A soak prints seeds per second and, for every failing seed, what broke and the
command that replays it. Exit status: 0 when every seed passed, 1 otherwise.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
import time
from collections.abc import Iterator, Sequence

from tests.sim.runner import SeedResult, run_seed

CHUNK = 25


def replay(seed: int) -> int:
    result = run_seed(seed, echo=print)
    print(
        f"seed {seed}: {result.steps} steps, {result.runs} runs, {result.calls} outside calls, "
        f"{result.faults} faults"
    )
    for failure in result.failures:
        print(f"FAILED: {failure}")
    print("ok" if result.ok else f"{len(result.failures)} invariant(s) broken")
    return 0 if result.ok else 1


def _run_chunk(seeds: Sequence[int]) -> list[tuple[int, list[str], int]]:
    out = []
    for seed in seeds:
        try:
            result = run_seed(seed)
            out.append((seed, result.failures, result.faults))
        except Exception as exc:  # the harness itself broke: report it as that seed's failure
            out.append((seed, [f"the simulation raised {type(exc).__name__}: {exc}"], 0))
    return out


def _chunks(first: int, count: int) -> Iterator[list[int]]:
    for start in range(first, first + count, CHUNK):
        yield list(range(start, min(start + CHUNK, first + count)))


def soak(first: int, count: int, jobs: int) -> int:
    started = time.monotonic()
    failed: list[SeedResult] = []
    done = faults = 0
    with multiprocessing.get_context("fork").Pool(jobs) as pool:
        for chunk in pool.imap_unordered(_run_chunk, _chunks(first, count)):
            for seed, failures, fired in chunk:
                done += 1
                faults += fired
                if failures:
                    failed.append(SeedResult(seed, failures))
                    print(f"seed {seed} FAILED: {failures[0][:200]}", flush=True)
            if done % 1000 < CHUNK:
                rate = done / (time.monotonic() - started)
                print(f"... {done}/{count} seeds, {rate:.1f} seeds/s", flush=True)
    seconds = time.monotonic() - started
    print(
        f"{count} seeds in {seconds:.1f} s: {count / seconds:.1f} seeds/s on {jobs} process(es), "
        f"{faults} faults injected, {len(failed)} failing"
    )
    for result in sorted(failed, key=lambda r: r.seed):
        print(
            f"seed {result.seed}: {len(result.failures)} broken; replay: "
            f"make soak SEED={result.seed}  (or python -m tests.sim replay {result.seed})"
        )
        for failure in result.failures[:5]:
            print(f"    {failure[:300]}")
    return 1 if failed else 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.sim", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    one = commands.add_parser("replay", help="run one seed with verbose output")
    one.add_argument("seed", type=int)
    many = commands.add_parser("soak", help="run many seeds")
    many.add_argument("--seeds", type=int, default=10_000)
    many.add_argument("--first", type=int, default=0)
    many.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args(argv)
    if args.command == "replay":
        return replay(args.seed)
    return soak(args.first, args.seeds, max(1, args.jobs))


if __name__ == "__main__":
    sys.exit(main())
