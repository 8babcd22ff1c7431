"""A run loads robots.txt before it writes its seen marks: what the sites see, what is saved."""

from __future__ import annotations

import asyncio
import gc
import io
from pathlib import Path

import pytest

from scraper.clock import utc_now
from scraper.discovery import Link
from scraper.discovery.sources import SourcesConfig
from scraper.errors import StorageError
from scraper.fetch.fetcher import Fetcher
from scraper.fetch.page import FetchedPage
from scraper.jobs.progress import Reporter
from scraper.jobs.run import _MARKS_AT_ONCE, Run, RunSummary, run_once
from scraper.settings import Settings
from scraper.store.state import StateDB
from tests.scraper.loopback import Handler, LoopbackServer, Reply, Seen
from tests.scraper.warc_pages import article_html

_ROBOTS = b"User-agent: *\nDisallow: /closed/\n"


def _routes() -> dict[str, Handler]:
    def column(seen: Seen) -> Reply:
        return Reply.html(article_html(int(seen.path.rsplit("/", 1)[1])).decode())

    return {
        "/robots.txt": lambda seen: Reply(200, [("Content-Type", "text/plain")], _ROBOTS),
        **{f"/open/{i}": column for i in range(4)},
        "/closed/9": column,
    }


def _settings(tmp_path: Path) -> Settings:
    return Settings.model_validate(
        {
            "data_dir": str(tmp_path / "data"),
            "allow_private_addresses": True,
            "politeness": {"delay": 0, "per_host_concurrency": 2, "obey_robots": True},
        }
    )


def _links(*servers: LoopbackServer) -> list[Link]:
    paths = [*(f"/open/{i}" for i in range(4)), "/closed/9"]
    return [Link(url=server.url(path)) for path in paths for server in servers]


async def _raw_only_run(settings: Settings, links: list[Link]) -> RunSummary:
    return await run_once(
        SourcesConfig(settings=settings),
        [],
        reporter=Reporter("plain", utc_now, io.StringIO()),
        clock=utc_now,
        links=links,
        raw_only=True,
    )


def test_a_raw_only_run_asks_each_site_for_robots_once_and_marks_every_link_seen(
    tmp_path: Path,
) -> None:
    settings = _settings(tmp_path)

    async def scenario() -> tuple[RunSummary, list[LoopbackServer], list[Link]]:
        async with (
            LoopbackServer(_routes(), host="127.0.0.1") as one,
            LoopbackServer(_routes(), host="127.0.0.2") as two,
        ):
            links = _links(one, two)
            summary = await _raw_only_run(settings, links)
        return summary, [one, two], links

    summary, servers, links = asyncio.run(scenario())
    for server in servers:
        assert server.hits["/robots.txt"] == 1
        assert server.seen[0].path == "/robots.txt"
        assert server.hits["/closed/9"] == 0
        assert all(server.hits[f"/open/{i}"] == 1 for i in range(4))
    assert summary.outcomes["stored"] == 8 and summary.outcomes["rejected"] == 2
    with StateDB(settings.data_dir / "state.sqlite") as state:
        assert all(state.is_known(link.url) for link in links)


class _FullDisk:
    """A raw store on a full disk: every append fails."""

    def append(self, page: FetchedPage) -> None:
        raise StorageError(f"cannot write {page.url}: no space left on device")


def test_a_raw_store_failure_while_loading_robots_ahead_fails_the_run(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    reported: list[str] = []

    async def scenario() -> LoopbackServer:
        loop = asyncio.get_running_loop()
        loop.set_exception_handler(lambda loop, context: reported.append(context["message"]))
        async with LoopbackServer(_routes()) as server:
            state = StateDB(settings.data_dir / "state.sqlite")
            reporter = Reporter("plain", utc_now, io.StringIO())
            run = Run(SourcesConfig(settings=settings), [], state, reporter, utc_now, raw_only=True)
            try:
                with pytest.raises(StorageError, match="no space left"):
                    async with Fetcher(settings, raw_store=_FullDisk()) as fetcher:
                        await run.execute(fetcher, _links(server))
            finally:
                state.close()
        gc.collect()
        await asyncio.sleep(0)
        return server

    server = asyncio.run(scenario())
    assert server.hits["/robots.txt"] >= 1
    assert not any(path.startswith("/open/") for path in server.hits)
    assert not [message for message in reported if "never retrieved" in message]


def test_links_past_one_batch_of_seen_marks_are_all_marked(tmp_path: Path) -> None:
    settings = _settings(tmp_path)

    async def scenario() -> tuple[RunSummary, LoopbackServer, list[Link]]:
        async with LoopbackServer(_routes()) as server:
            count = _MARKS_AT_ONCE + 1  # written in two batches
            links = [Link(url=server.url(f"/closed/{i}")) for i in range(count)]
            summary = await _raw_only_run(settings, links)
        return summary, server, links

    summary, server, links = asyncio.run(scenario())
    assert summary.outcomes["rejected"] == len(links)
    assert server.hits == {"/robots.txt": 1}
    with StateDB(settings.data_dir / "state.sqlite") as state:
        rows = [state.url_row(link.url) for link in links]
    # Marked before the fetch pass: the robots refusal is noted on each row.
    assert all(row is not None and row["last_error"] for row in rows)
