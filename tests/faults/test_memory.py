"""Memory of a whole run: pages are saved as they are cleaned, so a run over many large
pages holds a few of them at a time, not every body until its end (hostile suite, #13.5:
60 pages of 8 MB took a run to 581 MB)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import IO

from pytest_httpserver import HTTPServer

from tests.conftest import SCRAPER

PAGES = 30
BODY = (
    b"<!doctype html><html><head><title>A long page</title></head><body>"
    + b"<p>Every paragraph of this page says the same thing again and again.</p>\n" * 112_000
    + b"</body></html>"
)
# Peak RSS of the largest process among a command's descendants, in kB (Linux).
_PEAK = """
import resource, subprocess, sys
code = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode
print(code, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
"""


def exit_and_peak(args: list[str], cwd: Path, stdin: IO[bytes] | None = None) -> tuple[int, int]:
    """The exit code of a `scraper` command and its peak RSS in kB."""
    measured = subprocess.run(
        [sys.executable, "-c", _PEAK, str(SCRAPER), *args],
        cwd=cwd,
        stdin=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    code, peak_kb = map(int, measured.stdout.split())
    return code, peak_kb


def test_a_run_over_many_8_mb_pages_holds_only_a_few_of_them(
    httpserver: HTTPServer, workdir: Path
) -> None:
    assert 8_000_000 < len(BODY) < 9_000_000
    httpserver.expect_request("/robots.txt").respond_with_data("", status=404)
    for number in range(PAGES):
        httpserver.expect_request(f"/long-{number}").respond_with_data(
            BODY, content_type="text/html; charset=utf-8"
        )
    urls = [httpserver.url_for(f"/long-{number}") for number in range(PAGES)]
    (workdir / "urls.txt").write_text("\n".join(urls) + "\n", encoding="utf-8")
    (workdir / "fast.toml").write_text("[settings.politeness]\ndelay = 0\n", encoding="utf-8")

    code, peak_kb = exit_and_peak(["fetch-many", "urls.txt", "-c", "fast.toml"], workdir)
    assert code == 11  # every page over the cleaner's 5 MB input cap: a too_large reject
    rejects = list((workdir / "data" / "rejects").rglob("*.json"))
    assert len(rejects) == PAGES
    # The 30 bodies alone are 240 MB; a process holding them all would be past 300 MB
    # (its own modules, trafilatura's numpy among them, take ~100 MB before any page).
    assert peak_kb < 240 * 1024, f"peak RSS {peak_kb / 1024:.0f} MB"
