"""Shared test helpers: fixture pages and running the real `scraper` command."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"
SCRAPER = Path(sys.executable).with_name("scraper")


def fixture_bytes(relative: str) -> bytes:
    """The bytes of a page under ``tests/fixtures/``."""
    return (FIXTURES / relative).read_bytes()


def run_scraper(
    *args: str, cwd: Path, timeout: float = 60, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the installed `scraper` console script as a user would (``env``: added)."""
    return subprocess.run(
        [str(SCRAPER), *args],
        cwd=cwd,
        env={**os.environ, **env} if env else None,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """An empty working directory for a CLI run (its data/ lands here)."""
    path = tmp_path / "work"
    path.mkdir()
    return path
