"""CPU cost of cleaning one page, on the pipeline benchmark's pages, next to trafilatura.

The pages are `fetch_bench.py`'s (30-80 KB, made up, deterministic): what the end-to-end
benchmarks clean. Each page is cleaned from its bytes, in this process, by
`cleaner.extract` and by `trafilatura.extract` as `pipeline_bench.py`'s baseline calls it
(JSON with metadata); CPU time (``time.process_time``) per page, best of ``--repeat``
rounds after one warm-up round. With ``--baseline SRC`` (the ``src`` folder of another
checkout) `cleaner.extract` from that code runs too, in a child process right after ours.

Usage:  .venv/bin/python benchmarks/clean_bench.py [--pages N] [--repeat N] [--baseline SRC]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fetch_bench import _pages


def _ours(html: bytes, url: str) -> object:
    from cleaner import extract

    return extract(html, url=url)


def _trafilatura(html: bytes, url: str) -> object:
    import trafilatura

    return trafilatura.extract(html, url=url, output_format="json", with_metadata=True)


def _ms_per_page(clean: Callable[[bytes, str], object], pages: list[bytes], repeat: int) -> float:
    urls = [f"http://127.0.0.2/column/{number}" for number in range(len(pages))]
    best = float("inf")
    for round_ in range(repeat + 1):
        started = time.process_time()
        for page, url in zip(pages, urls, strict=True):
            clean(page, url)
        if round_:  # the first round warms caches and imports
            best = min(best, time.process_time() - started)
    return 1000 * best / len(pages)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pages", type=int, default=64)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--baseline", help="src folder of another checkout to run side by side")
    parser.add_argument("--only-ours", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    pages = _pages(args.pages)
    results = {"cleaner.extract": _ms_per_page(_ours, pages, args.repeat)}
    if args.only_ours:
        print(json.dumps(results))
        return
    if args.baseline:
        env = {**os.environ, "PYTHONPATH": str(Path(args.baseline).resolve())}
        command = [sys.executable, __file__, "--only-ours", "--pages", str(args.pages)]
        child = subprocess.run(
            [*command, "--repeat", str(args.repeat)], env=env, capture_output=True, check=True
        )
        results["cleaner.extract (baseline)"] = json.loads(child.stdout)["cleaner.extract"]
    results["trafilatura.extract"] = _ms_per_page(_trafilatura, pages, args.repeat)
    print(f"{len(pages)} pages of {sum(map(len, pages)) // len(pages):,} bytes on average")
    for name, ms in results.items():
        print(f"{name:28} {ms:6.2f} ms CPU/page")


if __name__ == "__main__":
    main()
