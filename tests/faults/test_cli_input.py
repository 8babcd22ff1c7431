"""Hostile command lines and URL files: a clear usage error naming what is wrong, before
any request, never a fork storm, a traceback or a request no server would take."""

from __future__ import annotations

import asyncio
import os
import subprocess
from pathlib import Path

import pytest

from scraper.discovery.links import absolute_url
from tests.conftest import SCRAPER, run_scraper
from tests.faults.rawserver import RawServer, html, reply
from tests.faults.test_memory import exit_and_peak

_PAGE = html("<html><title>x</title><p>y</p></html>")
Result = subprocess.CompletedProcess[str]
_URL = "https://news.example/a"


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


@pytest.mark.parametrize(
    ("line", "says"),
    [
        (b"http://127.0.0.1/" + b"a" * 10_000_000, "line 2: over 8,192 bytes, too long for a URL"),
        (b"http://127.0.0.1/caf\xe9", "line 2: not UTF-8 text"),
        (b"http://127.0.0.1:99999/a", "line 2: Port out of range"),
        (b"javascript:alert(1)", "line 2: not an absolute http(s) URL"),
    ],
)
def test_a_bad_line_of_the_url_file_is_named_by_number_before_any_request(
    line: bytes, says: str, workdir: Path
) -> None:
    async def main() -> tuple[int, str, int]:
        async with RawServer({"/a": _PAGE}) as server:
            (workdir / "urls.txt").write_bytes(server.url("/a").encode() + b"\n" + line + b"\n")
            result = await asyncio.to_thread(run_scraper, "fetch-many", "urls.txt", cwd=workdir)
            return result.returncode, result.stderr, sum(server.hits.values())

    code, stderr, hits = asyncio.run(main())
    assert code == 2, stderr
    assert stderr.startswith(f"scraper: error: urls.txt: {says}"), stderr[:300]
    assert len(stderr) < 300 and hits == 0


def test_a_url_past_the_length_cap_is_refused_without_a_request(workdir: Path) -> None:
    async def main() -> tuple[int, str, int]:
        async with RawServer({}) as server:
            url = server.url("/" + "a" * 9000)
            result = await asyncio.to_thread(run_scraper, "fetch", url, cwd=workdir)
            return result.returncode, result.stderr, sum(server.hits.values())

    code, stderr, hits = asyncio.run(main())
    assert code == 3, stderr
    assert "refusing a URL of 9," in stderr and "Traceback" not in stderr
    assert hits == 0


def test_a_discovered_link_past_the_length_cap_is_not_followed() -> None:
    base = "https://news.example/column/"
    assert absolute_url("/" + "a" * 9000, base) is None
    assert absolute_url("/" + "a" * 8000, base) == base[:-8] + "/" + "a" * 8000


def test_an_unreachable_robots_txt_fails_the_run_and_the_next_run_fetches_the_page(
    workdir: Path,
) -> None:
    article = "<html><title>Rivers</title><body><article><h1>Rivers</h1>" + (
        "<p>Rivers carry water and silt down to the sea, and towns grow on their banks.</p>" * 12
    )
    routes = {"/robots.txt": reply(503), "/a": html(article + "</article></body></html>")}
    (workdir / "fast.toml").write_text(
        "[settings]\nallow_private_addresses = true\n[settings.politeness]\ndelay = 0\n",
        encoding="utf-8",
    )
    args = ("fetch-many", "urls.txt", "-c", "fast.toml", "--retries", "0", "--workers", "0")

    async def main() -> tuple[Result, Result, int]:
        async with RawServer(routes) as server:
            (workdir / "urls.txt").write_text(server.url("/a") + "\n", encoding="utf-8")
            down = await asyncio.to_thread(run_scraper, *args, cwd=workdir)
            hits = server.hits["/a"]
            routes["/robots.txt"] = reply(404)
            up = await asyncio.to_thread(run_scraper, *args, cwd=workdir)
            return down, up, hits

    down, up, hits = asyncio.run(main())
    # The host is skipped while robots.txt is down (RFC 9309), but as a failure, not settled.
    assert down.returncode == 11, down.stderr
    assert "network_error 1" in down.stdout and hits == 0
    assert up.returncode == 0, up.stderr
    assert "1 saved" in up.stdout


def test_clean_reads_a_huge_input_only_as_far_as_a_page_can_go(workdir: Path) -> None:
    image = workdir / "disk.img"
    image.touch()
    os.truncate(image, 2**28)  # 256 MiB, sparse: no disk used
    results = []
    for source in ("disk.img", "-"):
        with image.open("rb") as stdin:
            results.append(exit_and_peak(["clean", source, "--url", _URL], workdir, stdin))
    # Exit 8, as for any page over the cap, without holding the file: modules ~65 MB.
    assert all(code == 8 and peak_kb < 160 * 1024 for code, peak_kb in results), results
    with image.open("rb") as stdin:
        piped = subprocess.run(
            [str(SCRAPER), "clean", "-", "--url", _URL],
            stdin=stdin,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert "standard input: not an article (over 20,971,520 bytes" in piped.stderr


@pytest.mark.parametrize("command", [("fetch", _URL), ("run",)])
def test_a_huge_config_file_is_refused_without_being_read_whole(
    command: tuple[str, ...], workdir: Path
) -> None:
    image = workdir / "disk.img"
    image.touch()
    os.truncate(image, 2**28)  # 256 MiB, sparse
    code, peak_kb = exit_and_peak([*command, "-c", "disk.img"], workdir)
    assert code in (2, 12) and peak_kb < 160 * 1024, (code, peak_kb)  # run: 12, bad config
    said = run_scraper(*command, "-c", "disk.img", cwd=workdir)
    assert (
        said.stderr == "scraper: error: disk.img: over 16,777,216 bytes, too large for a config\n"
    )
