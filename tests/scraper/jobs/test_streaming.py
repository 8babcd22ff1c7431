"""The streaming run: records saved while the run is still fetching, Ctrl-C and SIGTERM
keeping what was cleaned, memory bounded by the queue caps under a slow cleaner, and the
cleaning deadline enforced from outside the cleaner (real worker processes throughout)."""

from __future__ import annotations

import asyncio
import io
import json
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from cleaner import Article, Reject, RejectReason
from scraper.clock import utc_now
from scraper.discovery import Link
from scraper.discovery.sources import SourcesConfig
from scraper.fetch.fetcher import Fetcher, FetchRequest
from scraper.fetch.page import FetchedPage
from scraper.jobs.cleaning import CleaningPool, CleaningUnavailable
from scraper.jobs.pipeline import clean_page
from scraper.jobs.progress import Reporter
from scraper.jobs.run import Run, run_once
from scraper.settings import Settings
from scraper.store.state import StateDB
from scraper.store.warc import iter_pages
from tests.conftest import SCRAPER, run_scraper
from tests.scraper.jobs.slow_cleaners import (
    dies_on_marked,
    marks_cleaned,
    slow_clean,
    stuck_on_marked,
)
from tests.scraper.warc_pages import article_html, page

FAST = "[settings]\nallow_private_addresses = true\n[settings.politeness]\ndelay = 0\n"


class Gate:
    """Pages from ``held_from`` on wait until the test opens the gate."""

    def __init__(self, held_from: int) -> None:
        self.held_from = held_from
        self.open = threading.Event()
        self.served: list[int] = []

    def handler(self, request: Request) -> Response:
        number = int(request.path.rsplit("-", 1)[1])
        if number >= self.held_from:
            self.open.wait(30)
        self.served.append(number)
        return Response(article_html(number), content_type="text/html; charset=utf-8")


@pytest.fixture(scope="module")
def make_httpserver() -> Iterator[HTTPServer]:
    """The plugin's server, threaded here: a page held at the gate must not hold up the
    pages the fetcher asked for beside it (one thread serves one connection at a time,
    so page 3 could wait behind a held page 4)."""
    server = HTTPServer(threaded=True)
    server.start()
    yield server
    server.clear()
    if server.is_running():
        server.stop()


@pytest.fixture
def gate(httpserver: HTTPServer) -> Iterator[Gate]:
    gate = Gate(held_from=4)
    httpserver.expect_request("/robots.txt").respond_with_data("", status=404)
    httpserver.expect_request(_COLUMNS).respond_with_handler(gate.handler)
    yield gate
    gate.open.set()


_COLUMNS = re.compile(r"/column-\d+")


def _urls(httpserver: HTTPServer, count: int) -> list[str]:
    return [httpserver.url_for(f"/column-{n}") for n in range(count)]


def _start_fetch_many(workdir: Path, urls: list[str]) -> subprocess.Popen[str]:
    (workdir / "urls.txt").write_text("\n".join(urls) + "\n", encoding="utf-8")
    (workdir / "fast.toml").write_text(FAST, encoding="utf-8")
    return subprocess.Popen(
        [str(SCRAPER), "fetch-many", "urls.txt", "-c", "fast.toml", "--workers", "2"],
        cwd=workdir,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _end(process: subprocess.Popen[str]) -> None:
    """Kill ``process`` if it still runs, and reap it and its pipes."""
    process.kill()
    process.communicate()


def _records(workdir: Path) -> list[Path]:
    return sorted((workdir / "data").glob("clean/*/*.json"))


def _wait_for(condition: object, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return
        time.sleep(0.02)
    raise AssertionError("timed out waiting")


def test_records_are_saved_while_the_run_is_still_fetching(
    httpserver: HTTPServer, gate: Gate, workdir: Path
) -> None:
    process = _start_fetch_many(workdir, _urls(httpserver, 8))
    try:
        _wait_for(lambda: len(_records(workdir)) == 4)
        assert process.poll() is None  # still waiting for pages 4-7
        assert sorted(gate.served) == [0, 1, 2, 3]
        gate.open.set()
        out, err = process.communicate(timeout=60)
    finally:
        _end(process)
    assert process.returncode == 0, err
    assert "8 URLs: 8 saved" in out
    assert len(_records(workdir)) == 8


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM])
def test_a_stopped_run_keeps_what_was_cleaned_and_the_next_run_does_the_rest(
    httpserver: HTTPServer, gate: Gate, workdir: Path, stop: signal.Signals
) -> None:
    urls = _urls(httpserver, 8)
    process = _start_fetch_many(workdir, urls)
    try:
        _wait_for(lambda: len(_records(workdir)) == 4)
        process.send_signal(stop)
        out, err = process.communicate(timeout=30)
    finally:
        _end(process)

    assert process.returncode == 130, err
    assert "Traceback" not in err
    assert "8 URLs: 4 saved" in out and "interrupted" in out
    kept = {path.name: path.read_text(encoding="utf-8") for path in _records(workdir)}
    assert len(kept) == 4
    with StateDB(workdir / "data" / "state.sqlite") as state:
        (last,) = state.last_runs(1)
    assert last.status == "interrupted" and last.finished_at is not None

    gate.open.set()
    # Cleaned in this process: the rerun is under test here, not the pool.
    again = run_scraper("fetch-many", "urls.txt", "-c", "fast.toml", "--workers", "0", cwd=workdir)
    assert again.returncode == 0, again.stderr
    assert "8 URLs: 4 saved, 4 unchanged, 0 failed" in again.stdout
    records = _records(workdir)
    assert len(records) == 8  # nothing twice
    titles = {json.loads(path.read_text(encoding="utf-8"))["title"] for path in records}
    assert len(titles) == 8
    for name, text in kept.items():  # the pages saved before the stop were left alone
        assert next((workdir / "data" / "clean").rglob(name)).read_text("utf-8") == text


def _serve_columns(httpserver: HTTPServer, page: bytes) -> None:
    """No robots.txt, and ``page`` at every /column-N."""
    httpserver.expect_request("/robots.txt").respond_with_data("", status=404)
    httpserver.expect_request(_COLUMNS).respond_with_data(page, mimetype="text/html")


def _settings(tmp_path: Path) -> Settings:
    return Settings.model_validate(
        {
            "data_dir": str(tmp_path / "data"),
            "allow_private_addresses": True,
            "politeness": {"delay": 0, "per_host_concurrency": 2},
            "limits": {"clean_seconds": 2},
        }
    )


def test_a_slow_cleaner_holds_back_the_fetching_within_the_queue_caps(
    httpserver: HTTPServer, tmp_path: Path
) -> None:
    served = 0
    cleaned = 0
    ahead: list[int] = []

    def handler(request: Request) -> Response:
        nonlocal served
        served += 1
        ahead.append(served - cleaned)
        return Response(article_html(int(request.path.rsplit("-", 1)[1])), mimetype="text/html")

    httpserver.expect_request("/robots.txt").respond_with_data("", status=404)
    httpserver.expect_request(_COLUMNS).respond_with_handler(handler)
    settings = _settings(tmp_path)
    links = [Link(url=url) for url in _urls(httpserver, 40)]

    async def main() -> None:
        nonlocal cleaned
        state = StateDB(settings.data_dir / "state.sqlite")
        reporter = Reporter("plain", utc_now, io.StringIO())
        run = Run(SourcesConfig(settings=settings), [], state, reporter, utc_now)
        settle = run._settle

        def counting(*args: object) -> None:
            nonlocal cleaned
            cleaned += 1
            settle(*args)  # type: ignore[arg-type]

        run._settle = counting  # type: ignore[method-assign]
        async with (
            Fetcher(settings, max_ready=2) as fetcher,
            CleaningPool(1, deadline=10, clean=slow_clean, max_queued=1) as pool,
        ):
            run.cleaner = pool
            summary = await run.execute(fetcher, links, follow_originals=False)
        state.close()
        assert summary.outcomes["new"] == 40

    asyncio.run(main())
    # Held in this process at most: 2 ready for the loop, 2 in flight, 1 queued, 1 in the
    # worker, and the one the loop is handing over: never the whole list.
    assert max(ahead) <= 8, ahead
    assert cleaned == 40


def test_a_page_past_the_deadline_is_rejected_and_its_worker_replaced(
    httpserver: HTTPServer, tmp_path: Path
) -> None:
    _serve_columns(httpserver, article_html(1))
    httpserver.expect_request("/stuck").respond_with_data(article_html(2), mimetype="text/html")
    settings = _settings(tmp_path)
    urls = [httpserver.url_for("/stuck"), *_urls(httpserver, 3)]
    started = time.monotonic()

    summary = asyncio.run(
        run_once(
            SourcesConfig(settings=settings),
            [],
            reporter=Reporter("plain", utc_now, io.StringIO()),
            clock=utc_now,
            links=[Link(url=url) for url in urls],
            workers=1,
            clean=stuck_on_marked,
        )
    )

    assert time.monotonic() - started < 20
    assert summary.outcomes["new"] == 3 and summary.outcomes["rejected"] == 1, summary.counts()
    (reject_file,) = (settings.data_dir / "rejects").rglob("*.json")
    reject = Reject.model_validate_json(reject_file.read_text(encoding="utf-8"))
    assert reject.reason is RejectReason.TIMEOUT
    assert "cleaning took longer than 2 s" in reject.detail
    assert reject.url == urls[0]


def test_raw_only_stores_responses_that_reclean_cleans_later(
    httpserver: HTTPServer, gate: Gate, workdir: Path
) -> None:
    gate.open.set()
    (workdir / "urls.txt").write_text("\n".join(_urls(httpserver, 3)) + "\n", encoding="utf-8")
    (workdir / "fast.toml").write_text(FAST, encoding="utf-8")

    raw = run_scraper("fetch-many", "urls.txt", "-c", "fast.toml", "--raw-only", cwd=workdir)

    assert raw.returncode == 0, raw.stderr
    assert "3 stored raw for `scraper reclean`" in raw.stdout
    assert not _records(workdir)
    assert len([p for p in iter_pages(workdir / "data" / "raw") if p.purpose == "page"]) == 3
    # The CLI exits without the interpreter's teardown: all it wrote is complete before.
    with sqlite3.connect(workdir / "data" / "state.sqlite") as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert db.execute("SELECT count(*) FROM urls WHERE last_status = 200").fetchone() == (3,)
        assert db.execute("SELECT status FROM runs").fetchall() == [("ok",)]
    cleaned = run_scraper("reclean", cwd=workdir)
    assert cleaned.returncode == 0, cleaned.stderr
    assert len(_records(workdir)) == 3


def test_the_workers_fingerprint_the_articles_so_the_event_loop_does_not(
    httpserver: HTTPServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from scraper.store import duplicates

    in_this_process: list[str] = []
    real = duplicates.fingerprint

    def counted(body: str, title: str = "") -> object:
        in_this_process.append(title)
        return real(body, title)

    monkeypatch.setattr(duplicates, "fingerprint", counted)
    # Three URLs, one article: the copies must still be marked, from the workers' prints.
    _serve_columns(httpserver, article_html(7))
    settings = _settings(tmp_path)
    summary = asyncio.run(
        run_once(
            SourcesConfig(settings=settings),
            [],
            reporter=Reporter("plain", utc_now, io.StringIO()),
            clock=utc_now,
            links=[Link(url=url) for url in _urls(httpserver, 3)],
            workers=1,
        )
    )

    assert summary.outcomes["new"] == 3
    assert in_this_process == []
    marks = [
        json.loads(path.read_text(encoding="utf-8"))["duplicate_of"]
        for path in sorted((settings.data_dir / "clean").rglob("*.json"))
    ]
    assert marks.count(None) == 1 and len({m for m in marks if m}) == 1


def _unloadable(page: object) -> Reject:
    raise AssertionError("never called: its workers cannot import it")


# What a broken install looks like to a worker: the cleaner's module is not there.
_unloadable.__module__ = "tests.scraper.jobs.no_such_module"


def test_workers_that_cannot_start_fail_the_run_with_a_clear_error(
    httpserver: HTTPServer, tmp_path: Path
) -> None:
    _serve_columns(httpserver, article_html(1))
    settings = _settings(tmp_path)
    run = run_once(
        SourcesConfig(settings=settings),
        [],
        reporter=Reporter("plain", utc_now, io.StringIO()),
        clock=utc_now,
        links=[Link(url=url) for url in _urls(httpserver, 3)],
        workers=2,
        clean=_unloadable,
    )

    # Before, the pool started dying workers for ever and the run waited for them.
    with pytest.raises(CleaningUnavailable, match="exit before they are ready"):
        asyncio.run(asyncio.wait_for(run, timeout=60))


def _status(pid: int, key: str) -> int:
    """A number from /proc/PID/status or smaps_rollup (``key`` ends in ':')."""
    for name in ("status", "smaps_rollup"):
        for line in Path(f"/proc/{pid}/{name}").read_text(encoding="ascii").splitlines():
            if line.startswith(key):
                return int(line.split()[1])
    raise AssertionError(f"{key} not in /proc/{pid}")


def test_workers_are_forked_from_one_warm_parent_and_a_crashed_one_is_replaced() -> None:
    async def main() -> None:
        async with CleaningPool(2, deadline=30, clean=dies_on_marked) as pool:
            url = "https://example.org/column-{}"
            first = await (await pool.submit(page(url.format(1), article_html(1))))
            assert isinstance(first.result, Article)
            parent, before = pool.parent_pid, set(pool.pids)
            assert parent is not None and len(before) == 2
            # The cleaner and its language model were loaded once, in the parent: the
            # workers hold them as pages shared with it (tens of MB), not copies of their own.
            for pid in before:
                assert _status(pid, "PPid:") == parent
                assert _status(pid, "Shared_Dirty:") > 50_000, pid  # kB

            crashed = await (await pool.submit(page(url.format(2) + "/crash", b"<html>")))
            killed = await (await pool.submit(page(url.format(3) + "/killed", b"<html>")))
            after = await (await pool.submit(page(url.format(4), article_html(4))))

            # How each one ended, as the warm parent that reaped it saw it.
            assert isinstance(crashed.result, Reject) and isinstance(killed.result, Reject)
            assert crashed.result.detail == "the cleaning process died (exit status 70)"
            assert killed.result.detail == (
                "the cleaning process died (killed by SIGKILL: out of memory?)"
            )
            assert isinstance(after.result, Article)
            await _until(lambda: len(pool.pids) == 2)
            assert pool.parents_started == 1 and pool.parent_pid == parent
            assert len(set(pool.pids) - before) == 2
            assert all(_status(pid, "PPid:") == parent for pid in pool.pids)

    asyncio.run(main())


def test_a_busy_worker_goes_on_to_its_next_page_while_the_event_loop_is_busy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CLEANED_MARKS", str(tmp_path))
    url = "https://example.org/column-{}"

    async def main() -> None:
        async with CleaningPool(1, deadline=30, clean=marks_cleaned) as pool:
            await (await pool.submit(page(url.format(0), article_html(0))))  # it is up
            first = await pool.submit(page(url.format(1), article_html(1)))
            second = await pool.submit(page(url.format(2), article_html(2)))
            # The event loop does nothing now, as in a record's fsync: the worker must not
            # wait for it to read the first answer before it starts on the second page.
            _wait_for(lambda: (tmp_path / "column-2").exists(), seconds=10)
            assert isinstance((await first).result, Article)
            assert isinstance((await second).result, Article)

            # The page waiting behind one whose worker dies is cleaned by the next worker.
            crashed = await pool.submit(page(url.format(3) + "/crash", b"<html>"))
            behind = await pool.submit(page(url.format(4), article_html(4)))
            assert isinstance((await crashed).result, Reject)
            after = (await behind).result
            assert isinstance(after, Article) and after.url == url.format(4)

    asyncio.run(main())


async def _until(condition: object, seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out waiting"
        await asyncio.sleep(0.01)


def test_a_warm_parent_whose_pool_is_gone_before_it_is_ready_exits_quietly() -> None:
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    with theirs:
        parent = subprocess.Popen(
            [sys.executable, "-m", "scraper.jobs.cleaning_worker", _SPEC, str(theirs.fileno())],
            pass_fds=[theirs.fileno()],
            stderr=subprocess.PIPE,
            text=True,
        )
    ours.close()  # a run over before its workers were needed (a full disk, no new pages)

    _, stderr = parent.communicate(timeout=60)

    # Before, its "ready" met the closed socket: a BrokenPipeError traceback in the run's log.
    assert "Traceback" not in stderr, stderr
    assert parent.returncode == 0, stderr


_SPEC = "scraper.jobs.pipeline:clean_page"


def test_fetching_starts_before_every_request_is_built(
    httpserver: HTTPServer, tmp_path: Path
) -> None:
    # Building a request reads the URL's state row: at 10,000 links, building them all
    # first kept every connection idle for a quarter of a second.
    order: list[str] = []

    def handler(request: Request) -> Response:
        order.append("served")
        return Response(article_html(1), mimetype="text/html")

    httpserver.expect_request("/robots.txt").respond_with_data("", status=404)
    httpserver.expect_request(_COLUMNS).respond_with_handler(handler)
    settings = _settings(tmp_path)
    links = [Link(url=url) for url in _urls(httpserver, 12)]

    async def main() -> None:
        state = StateDB(settings.data_dir / "state.sqlite")
        reporter = Reporter("plain", utc_now, io.StringIO())
        run = Run(SourcesConfig(settings=settings), [], state, reporter, utc_now, raw_only=True)
        build = run._request

        def built(url: str, source: str | None, referrer: str | None) -> FetchRequest:
            order.append("built")
            return build(url, source, referrer)

        run._request = built  # type: ignore[method-assign]
        async with Fetcher(settings, max_buffered=4) as fetcher:
            summary = await run.execute(fetcher, links, follow_originals=False)
        state.close()
        assert summary.outcomes["stored"] == 12

    asyncio.run(main())
    assert order.count("built") == 12
    assert order.index("served") < len(order) - 1 - order[::-1].index("built"), order


class _Killed(BaseException):
    """Stands for the process dying (SIGKILL) while a page is being cleaned."""


def test_a_run_that_dies_before_a_page_is_saved_keeps_its_old_validators(
    httpserver: HTTPServer, tmp_path: Path
) -> None:
    """The ETag of a response is stored with the record it produced, in one commit: a
    run killed between the fetch and the save must not leave the new ETag behind, or the
    next run's conditional request gets a 304 and keeps the old record for good."""
    version = 1

    def handler(request: Request) -> Response:
        etag = f'"v{version}"'
        if request.headers.get("If-None-Match") == etag:
            return Response(status=304, headers={"ETag": etag})
        body = article_html(7, version=version)
        return Response(body, content_type="text/html; charset=utf-8", headers={"ETag": etag})

    httpserver.expect_request("/robots.txt").respond_with_data("", status=404)
    httpserver.expect_request("/column-7").respond_with_handler(handler)
    config = SourcesConfig(settings=_settings(tmp_path))
    links = [Link(url=httpserver.url_for("/column-7"))]

    def run(clean: Callable[[FetchedPage], Article | Reject] = clean_page) -> None:
        reporter = Reporter("plain", utc_now, stream=io.StringIO())
        asyncio.run(
            run_once(
                config, [], reporter=reporter, clock=utc_now, links=links, workers=0, clean=clean
            )
        )

    def dies(page: FetchedPage) -> Article:
        raise _Killed

    run()
    version = 2
    with pytest.raises(_Killed):
        run(dies)
    with StateDB(tmp_path / "data" / "state.sqlite") as state:
        assert state.conditional(links[0].url) == ('"v1"', None)
    run()
    (record,) = (tmp_path / "data" / "clean").rglob("*.json")
    assert "take 2" in json.loads(record.read_text(encoding="utf-8"))["title"]
