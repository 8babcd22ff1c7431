"""Re-clean N stored WARC records in-process and on a local Dask cluster, in one run.

    .venv/bin/python benchmarks/reclean_bench.py [--records 3000] [--files 4] [--workers 2]

The records are generated from the test fixture pages (a publisher article and an
aggregator column), each with its own URL, title and first paragraph, and written with the
real `WarcStore`. Both runs rebuild a fresh data folder from the same raw store; the bench
checks that the two outputs are byte-identical and reports pages/s for each. The cluster's
start-up time is reported apart: a long re-clean pays it once.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from scraper.fetch.page import FetchedPage
from scraper.jobs.cluster import ClusterSpec, dask_executor
from scraper.jobs.reclean import Summary, reclean
from scraper.store.warc import WarcStore

FIXTURES = Path(__file__).resolve().parents[1] / "tests" / "fixtures"
T0 = datetime(2026, 1, 5, 6, 0, tzinfo=UTC)


def _variant(number: int) -> tuple[str, bytes]:
    """A distinct page in the shape of one of the fixtures."""
    if number % 2:
        page = (FIXTURES / "qoshe" / "chrome.html").read_text(encoding="utf-8")
        page = page.replace("Ferry Timetables Are a Promise", f"Ferry Route {number} Is a Promise")
        page = page.replace("The morning ferry", f"On route {number}, the morning ferry")
        return f"https://qoshe.com/gazette/columnist/route-{number}", page.encode()
    page = (FIXTURES / "publisher" / "article.html").read_text(encoding="utf-8")
    page = page.replace("The quiet return of the repair shop", f"Repair shop number {number}")
    page = page.replace("On the corner", f"On corner {number}")
    return f"https://lakeside-courier.example/opinion/repair-{number}", page.encode()


def write_raw(raw: Path, records: int, files: int) -> None:
    """``records`` responses spread over ``files`` WARC files (one folder each)."""
    for file in range(files):
        with WarcStore(raw / f"part-{file:03d}") as store:
            for number in range(file, records, files):
                url, body = _variant(number)
                store.append(
                    FetchedPage(
                        url=url,
                        final_url=url,
                        status=200,
                        headers=[("Content-Type", "text/html; charset=utf-8")],
                        body=body,
                        fetched_at=T0 + timedelta(seconds=number),
                    )
                )


def _tree(data_dir: Path) -> dict[str, bytes]:
    return {
        path.relative_to(data_dir).as_posix(): path.read_bytes()
        for path in sorted(data_dir.rglob("*.json"))
    }


def _line(label: str, summary: Summary, extra: str = "") -> str:
    return (
        f"{label:<12} {summary.seconds:>8.2f} {summary.pages_per_second:>9.0f} "
        f"{summary.articles:>9} {sum(summary.rejects.values()):>8}  {extra}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=3000)
    parser.add_argument("--files", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="reclean-bench-") as folder:
        root = Path(folder)
        started = time.perf_counter()
        write_raw(root / "raw", args.records, args.files)
        size = sum(path.stat().st_size for path in (root / "raw").rglob("*.warc.gz"))
        print(
            f"raw store: {args.records} responses in {args.files} WARC files, "
            f"{size / 1e6:.1f} MB, written in {time.perf_counter() - started:.1f} s; "
            f"{os.cpu_count()} CPUs"
        )
        alone = reclean(root / "raw", root / "alone")
        started = time.perf_counter()
        spec = ClusterSpec(local_workers=args.workers)
        with dask_executor(spec) as executor:
            start_up = time.perf_counter() - started
            spread = reclean(root / "raw", root / "spread", executor=executor)
        identical = _tree(root / "alone") == _tree(root / "spread")

    print(f"{'mode':<12} {'seconds':>8} {'pages/s':>9} {'articles':>9} {'rejects':>8}")
    print(_line("in-process", alone))
    print(_line(str(spec), spread, f"(+ {start_up:.1f} s to start the cluster)"))
    print(
        f"speed-up: {spread.pages_per_second / alone.pages_per_second:.2f}x; "
        f"identical output: {'yes' if identical else 'NO'}"
    )


if __name__ == "__main__":  # Dask starts worker processes by spawning: they re-import this file
    main()
