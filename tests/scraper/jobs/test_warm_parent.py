"""What the cleaning pool's warm parent loads before it forks its workers."""

from __future__ import annotations

import subprocess
import sys

# In a fresh interpreter: what `scraper.jobs.cleaning_worker.serve` imports before its
# first fork (the pool, and the cleaning function it is given).
_PROBE = """
import sys
from scraper.jobs.cleaning import cleaned
from scraper.jobs.cleaning_worker import load_function
load_function("scraper.jobs.pipeline:clean_page")
print(" ".join(name for name in ("aiohttp", "yarl", "scraper.fetch.http") if name in sys.modules))
"""


def test_the_warm_parent_does_not_import_the_http_client() -> None:
    probe = subprocess.run(
        [sys.executable, "-c", _PROBE], capture_output=True, text=True, timeout=60, check=False
    )

    assert probe.returncode == 0, probe.stderr
    assert probe.stdout.strip() == "", f"imported by the warm parent: {probe.stdout}"
