"""Crashes: a run killed with SIGKILL at random points, and a disk that fills up.

After any number of kills, the next complete run leaves exactly the data an
uninterrupted run leaves; a full disk gives a clear error and no half-written record.

The kill loop runs SCRAPER_FAULT_KILLS times (default 3; the seed is printed and can be
replayed with SCRAPER_FAULT_SEED). The full count, as SECURITY.md asks:

    SCRAPER_FAULT_KILLS=20 .venv/bin/pytest tests/faults/test_crash.py
"""

from __future__ import annotations

import os
import random
import re
import resource
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from scraper.demo.server import DemoServer
from scraper.store.warc import iter_pages
from tests.conftest import SCRAPER, run_scraper
from tests.scraper.jobs.test_run import records, write_config

KILLS = int(os.environ.get("SCRAPER_FAULT_KILLS", "3"))
Records = dict[str, dict[str, object]]


@pytest.fixture(scope="module")
def server() -> Iterator[DemoServer]:
    with DemoServer() as demo:
        yield demo


@pytest.fixture(scope="module")
def expected(server: DemoServer, tmp_path_factory: pytest.TempPathFactory) -> Records:
    """The records of one uninterrupted run: what every test's damaged run must end with."""
    workdir = tmp_path_factory.mktemp("reference")
    write_config(workdir, server)
    assert run_scraper("run", "--data-dir", "reference", cwd=workdir).returncode == 0
    return records(workdir / "reference")


def _progress(data_dir: Path) -> tuple[int, int]:
    """(records written, raw bytes written) so far."""
    saved = len(list((data_dir / "clean").rglob("*.json"))) if (data_dir / "clean").exists() else 0
    raw = sum(p.stat().st_size for p in data_dir.glob("raw/*.warc.gz"))
    return saved, raw


def _kill_at_random_point(workdir: Path, data_dir: Path, rng: random.Random) -> str:
    """Start a run and SIGKILL it when a randomly chosen point is reached."""
    point = rng.choice(["time", "records", "raw"])
    target = {
        "time": rng.uniform(0.2, 2.5),
        "records": rng.randint(0, 4),
        "raw": rng.randint(1, 60_000),
    }[point]
    process = subprocess.Popen(
        [str(SCRAPER), "run", "--data-dir", str(data_dir)],
        cwd=workdir,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    started = time.monotonic()
    while process.poll() is None and time.monotonic() - started < 30:
        saved, raw = _progress(data_dir)
        elapsed = time.monotonic() - started
        reached = {"time": elapsed, "records": saved, "raw": raw}[point]
        if reached >= target:
            break
        time.sleep(0.005)
    process.send_signal(signal.SIGKILL)
    process.wait()
    return f"{point}>={target:g}"


def _assert_consistent(data_dir: Path, context: str) -> None:
    assert not list(data_dir.rglob("*.tmp")), f"{context}: partial file left"
    with sqlite3.connect(data_dir / "state.sqlite") as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok", context
    list(iter_pages(data_dir / "raw"))  # every WARC file still readable (cut tails skipped)


def test_sigkill_at_random_points_then_rerun_equals_an_uninterrupted_run(
    server: DemoServer, expected: Records, workdir: Path
) -> None:
    write_config(workdir, server)
    server.delay = 0.03  # slow enough that kills land mid-run
    try:
        _kill_and_rerun(workdir, expected)
    finally:
        server.delay = 0


def _kill_and_rerun(workdir: Path, expected: Records) -> None:
    seed = int(os.environ.get("SCRAPER_FAULT_SEED", str(time.time_ns() % 1_000_000)))
    print(f"kill seed {seed} (replay: SCRAPER_FAULT_SEED={seed})")
    rng = random.Random(seed)
    for attempt in range(KILLS):
        data_dir = workdir / f"killed-{attempt}"
        points = [_kill_at_random_point(workdir, data_dir, rng) for _ in range(rng.randint(1, 2))]
        context = f"seed {seed}, attempt {attempt}, kills at {points}"
        final = run_scraper("run", "--data-dir", str(data_dir), cwd=workdir)
        assert final.returncode == 0, f"{context}: {final.stderr}"
        assert records(data_dir) == expected, context
        _assert_consistent(data_dir, context)


def _limit_file_size(limit: int) -> None:
    """In the child: files may not grow past ``limit`` bytes; writes then fail with EFBIG
    (SIGXFSZ ignored, as it would otherwise kill the process instead)."""
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))


@pytest.mark.parametrize("limit", [8 * 1024, 48 * 1024])
def test_disk_full_is_a_clear_error_and_nothing_is_half_written(
    server: DemoServer, expected: Records, workdir: Path, limit: int
) -> None:
    write_config(workdir, server)
    data_dir = workdir / "full"

    full = subprocess.run(
        [str(SCRAPER), "run", "--data-dir", str(data_dir)],
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=60,
        preexec_fn=lambda: _limit_file_size(limit),  # the child runs no threads yet
        check=False,
    )

    assert full.returncode == 10, full.stderr  # ExitCode.OUTPUT
    # SQLite reports EFBIG as "disk I/O error"; the files layer names it "File too large".
    assert re.search(r"cannot (write|open) .*(disk I/O error|File too large)", full.stderr)
    assert "Traceback" not in full.stderr, full.stderr
    assert not list(data_dir.rglob("*.tmp"))
    for path in (data_dir / "clean").rglob("*.json"):
        records_dir = path.read_text(encoding="utf-8")
        assert records_dir.endswith("}\n"), f"half-written {path}"
    # Space again: the next run completes the work.
    again = run_scraper("run", "--data-dir", str(data_dir), cwd=workdir)
    assert again.returncode == 0, again.stderr
    assert records(data_dir) == expected
    _assert_consistent(data_dir, f"after a full disk at {limit} bytes")


_UPDATE_UNDER_LIMIT = """
import sys
from pathlib import Path
from scraper.errors import StorageError
from scraper.store.records import write_atomic
try:
    write_atomic(Path(sys.argv[1]), "{\\"body\\": \\"" + "new words " * 20000 + "\\"}\\n")
except StorageError as exc:
    print(exc)
    sys.exit(10)
"""


def test_a_write_failing_mid_file_keeps_the_old_record_and_no_temp_file(tmp_path: Path) -> None:
    record = tmp_path / "data" / "clean" / "ledger" / "0123456789abcdef.json"
    record.parent.mkdir(parents=True)
    record.write_text('{"body": "old words"}\n', encoding="utf-8")

    result = subprocess.run(
        [sys.executable, "-c", _UPDATE_UNDER_LIMIT, str(record)],
        capture_output=True,
        text=True,
        timeout=60,
        preexec_fn=lambda: _limit_file_size(64 * 1024),
        check=False,
    )

    assert result.returncode == 10, result.stderr
    assert "File too large" in result.stdout
    assert record.read_text(encoding="utf-8") == '{"body": "old words"}\n'
    assert list(record.parent.iterdir()) == [record]
