"""Hostile command lines and URL files: a clear usage error naming what is wrong, before
any request, never a fork storm, a traceback or a request no server would take."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests.conftest import run_scraper
from tests.faults.rawserver import RawServer, html

_PAGE = html("<html><title>x</title><p>y</p></html>")


@pytest.mark.parametrize("command", ["fetch-many", "run"])
def test_an_absurd_worker_count_is_a_usage_error_before_any_fork(
    command: str, workdir: Path
) -> None:
    async def main() -> tuple[int, str, int]:
        async with RawServer({"/a": _PAGE}) as server:
            (workdir / "urls.txt").write_text(server.url("/a") + "\n", encoding="utf-8")
            args = ["urls.txt"] if command == "fetch-many" else []
            result = await asyncio.to_thread(
                run_scraper, command, *args, "--workers", "100000", cwd=workdir
            )
            return result.returncode, result.stderr, sum(server.hits.values())

    code, stderr, hits = asyncio.run(main())
    assert code == 2, stderr
    assert "--workers" in stderr and "100000 is more than" in stderr
    assert "Traceback" not in stderr
    assert hits == 0 and not (workdir / "data").exists()
