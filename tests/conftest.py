"""Shared test helpers: fixture pages and running the real `scraper` command."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from scraper.jobs.language_cache import CACHE_DIR_ENV

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


@pytest.fixture(scope="session", autouse=True)
def _language_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """One cache of the language model for the whole session, never the user's own: every
    cleaning pool a test starts (and the processes it runs) maps it instead of
    decompressing py3langid's model again. xdist's workers share the parent of their
    base temporary directories, so one of them builds it for all."""
    previous = os.environ.get(CACHE_DIR_ENV)
    os.environ[CACHE_DIR_ENV] = str(tmp_path_factory.getbasetemp().parent / "cache")
    yield
    if previous is None:
        del os.environ[CACHE_DIR_ENV]
    else:
        os.environ[CACHE_DIR_ENV] = previous


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """An empty working directory for a CLI run (its data/ lands here)."""
    path = tmp_path / "work"
    path.mkdir()
    return path
