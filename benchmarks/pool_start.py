"""How soon a cleaning pool is ready: `CleaningPool(N)` from entering it to all N workers
ready (their warm parent started, imported the cleaner, loaded its models, cleaned the
warm-up page and forked them), one fresh process a start, source trees alternated.

    flock /tmp/bench.lock .venv/bin/python benchmarks/pool_start.py --pairs 8 OLD/src src

Each tree is run once unmeasured first (a tree that caches the language model builds
its cache then; the page cache holds the libraries for both). Prints each start and
each tree's mean, median and spread; only trees measured in the same run compare.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
from pathlib import Path

_PROBE = """
import asyncio, sys, time
from scraper.jobs.cleaning import CleaningPool

async def main() -> float:
    started = time.perf_counter()
    async with CleaningPool(int(sys.argv[1]), deadline=30) as pool:
        while len(pool._workers) < pool.size or not all(w.ready for w in pool._workers):
            await asyncio.sleep(0.002)
        return time.perf_counter() - started

print(f"{asyncio.run(main()):.3f}")
"""


def _start(tree: Path, workers: int) -> float:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, str(workers)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return float(done.stdout.strip())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("trees", type=Path, nargs="+", help="source trees (their src/)")
    parser.add_argument("--pairs", type=int, default=8, help="rounds, each tree once a round")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    trees = [tree.resolve() for tree in args.trees]
    for tree in trees:
        _start(tree, args.workers)
    times: dict[Path, list[float]] = {tree: [] for tree in trees}
    for round_ in range(args.pairs):
        # Alternate which tree goes first, so neither always follows the other.
        order = trees if round_ % 2 == 0 else trees[::-1]
        for tree in order:
            times[tree].append(_start(tree, args.workers))
        print(f"round {round_ + 1}: " + ", ".join(f"{times[t][-1]:.3f}" for t in trees))
    for tree, seconds in times.items():
        print(
            f"{tree}: mean {statistics.mean(seconds):.3f} s, median "
            f"{statistics.median(seconds):.3f}, {min(seconds):.3f}-{max(seconds):.3f}"
        )


if __name__ == "__main__":
    main()
