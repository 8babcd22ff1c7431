"""`Fetcher.prefetch_robots`: robots.txt loaded ahead, as `fetch` would, seen from the server."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Coroutine
from typing import Any

import pytest

from scraper.errors import ForbiddenAddress, RobotsDisallowed, StorageError
from scraper.fetch.fetcher import Fetcher, FetchOutcome, FetchRequest
from scraper.fetch.page import FetchedPage
from scraper.settings import Politeness
from tests.scraper.fetch.test_fetcher import PAGE, settings
from tests.scraper.loopback import LoopbackServer, Reply

_ROBOTS = b"User-agent: *\nDisallow: /closed/\n"
_ROUTES = {
    "/robots.txt": lambda s: Reply(200, [("Content-Type", "text/plain")], _ROBOTS),
    "/open/1": lambda s: Reply.html(PAGE),
    "/open/2": lambda s: Reply.html(PAGE),
    "/closed/1": lambda s: Reply.html(PAGE),
}
_OBEY = settings(politeness=Politeness(delay=0, obey_robots=True))


def _checked(coro: Coroutine[Any, Any, Any]) -> tuple[Any, list[str]]:
    """Run ``coro``; also the unretrieved task exceptions the loop reported (when such a
    task is collected), not the test server's connections cut at its close."""
    reported: list[str] = []

    async def main() -> Any:
        asyncio.get_running_loop().set_exception_handler(
            lambda loop, context: reported.append(context["message"])
        )
        try:
            return await coro
        finally:
            gc.collect()
            await asyncio.sleep(0)

    return asyncio.run(main()), [m for m in reported if "never retrieved" in m]


class _Refusing:
    """A raw store whose disk is full: every append fails."""

    def __init__(self) -> None:
        self.tried: list[str] = []

    def append(self, page: FetchedPage) -> None:
        self.tried.append(page.url)
        raise StorageError(f"cannot write {page.url}: no space left on device")


def test_prefetch_then_fetch_asks_robots_once_per_origin_and_still_refuses() -> None:
    async def scenario() -> tuple[int, int, list[FetchOutcome], list[LoopbackServer]]:
        async with (
            LoopbackServer(_ROUTES, host="127.0.0.1") as one,
            LoopbackServer(_ROUTES, host="127.0.0.2") as two,
            Fetcher(_OBEY) as fetcher,
        ):
            paths = ["/open/1", "/open/2", "/closed/1"]
            requests = [FetchRequest(s.url(p)) for p in paths for s in (one, two)]
            started = fetcher.prefetch_robots(requests)
            again = fetcher.prefetch_robots(requests)  # loading already: nothing new
            outcomes = [o async for o in fetcher.fetch_all(requests)]
        return started, again, outcomes, [one, two]

    (started, again, outcomes, servers), reported = _checked(scenario())
    assert (started, again) == (2, 0)
    for server in servers:
        assert server.hits["/robots.txt"] == 1
        assert server.hits["/open/1"] == server.hits["/open/2"] == 1
        assert server.hits["/closed/1"] == 0
    refused = [o for o in outcomes if o.error is not None]
    assert len(refused) == 2 and all(isinstance(o.error, RobotsDisallowed) for o in refused)
    assert all("/closed/" in o.request.url for o in refused)
    assert reported == []


def test_prefetch_starts_at_most_max_in_flight_origins() -> None:
    async def scenario() -> tuple[int, list[LoopbackServer]]:
        async with (
            LoopbackServer(_ROUTES, host="127.0.0.1") as one,
            LoopbackServer(_ROUTES, host="127.0.0.2") as two,
            LoopbackServer(_ROUTES, host="127.0.0.3") as three,
            Fetcher(_OBEY, max_in_flight=2) as fetcher,
        ):
            servers = [one, two, three]
            started = fetcher.prefetch_robots(FetchRequest(s.url("/open/1")) for s in servers)
            await asyncio.sleep(0.2)
        return started, servers

    (started, servers), _ = _checked(scenario())
    assert started == 2
    assert [s.hits["/robots.txt"] for s in servers] == [1, 1, 0]


def test_prefetch_sends_nothing_without_obey_robots_or_to_a_refused_host() -> None:
    public = "https://columns.example/listing"
    quiet = settings(politeness=Politeness(delay=0, obey_robots=False))

    async def scenario() -> tuple[int, int, FetchOutcome, LoopbackServer]:
        async with LoopbackServer(_ROUTES) as server:
            async with Fetcher(quiet) as fetcher:
                ignored = fetcher.prefetch_robots([FetchRequest(server.url("/open/1"))])
                await asyncio.sleep(0.1)
            # A private address reached from a public page: not even robots.txt.
            hop = FetchRequest(server.url("/open/2"), referrer=public)
            async with Fetcher(_OBEY) as fetcher:
                refused = fetcher.prefetch_robots([hop])
                await asyncio.sleep(0.1)
                outcome = await fetcher.fetch(hop)
        return ignored, refused, outcome, server

    (ignored, refused, outcome, server), _ = _checked(scenario())
    assert (ignored, refused) == (0, 0)
    assert isinstance(outcome.error, ForbiddenAddress)
    assert server.hits == {}


def test_per_source_politeness_decides_what_prefetch_loads() -> None:
    async def scenario() -> tuple[int, LoopbackServer]:
        async with LoopbackServer(_ROUTES) as server, Fetcher(_OBEY) as fetcher:
            own = Politeness(delay=0, obey_robots=False)
            request = FetchRequest(server.url("/closed/1"), source="own", politeness=own)
            started = fetcher.prefetch_robots([request])
            outcome = await fetcher.fetch(request)
            assert outcome.error is None
        return started, server

    (started, server), _ = _checked(scenario())
    assert started == 0 and server.hits["/robots.txt"] == 0


def test_a_raw_store_failure_while_prefetching_is_raised_by_the_next_fetch() -> None:
    store = _Refusing()

    async def scenario() -> None:
        async with LoopbackServer(_ROUTES) as server, Fetcher(_OBEY, raw_store=store) as fetcher:
            fetcher.prefetch_robots([FetchRequest(server.url("/open/1"))])
            await asyncio.sleep(0.2)  # the load has failed by now
            with pytest.raises(StorageError, match="no space left"):
                await fetcher.fetch(FetchRequest(server.url("/open/2")))

    _, reported = _checked(scenario())
    assert store.tried and all(url.endswith("/robots.txt") for url in store.tried)
    assert reported == []


def test_a_raw_store_failure_reaches_fetches_waiting_on_the_prefetch() -> None:
    slow = {**_ROUTES, "/robots.txt": lambda s: Reply(200, [], _ROBOTS, delay=0.1)}

    async def scenario() -> None:
        async with LoopbackServer(slow) as server, Fetcher(_OBEY, raw_store=_Refusing()) as fetcher:
            requests = [FetchRequest(server.url(p)) for p in ("/open/1", "/open/2")]
            fetcher.prefetch_robots(requests)
            with pytest.raises(StorageError, match="no space left"):
                async for _ in fetcher.fetch_all(requests):
                    pass

    _, reported = _checked(scenario())
    assert reported == []


def test_a_failure_no_fetch_came_after_is_raised_on_leaving_the_fetcher() -> None:
    async def scenario() -> None:
        async with LoopbackServer(_ROUTES) as server:
            with pytest.raises(StorageError, match="no space left"):
                async with Fetcher(_OBEY, raw_store=_Refusing()) as fetcher:
                    fetcher.prefetch_robots([FetchRequest(server.url("/open/1"))])
                    await asyncio.sleep(0.2)

    _, reported = _checked(scenario())
    assert reported == []


def test_leaving_the_fetcher_cancels_a_prefetch_still_waiting() -> None:
    hung = {"/robots.txt": lambda s: Reply(hang=True)}

    async def scenario() -> tuple[int, LoopbackServer]:
        async with LoopbackServer(hung) as server:
            async with Fetcher(_OBEY) as fetcher:
                started = fetcher.prefetch_robots([FetchRequest(server.url("/a"))])
                await asyncio.sleep(0.05)
                tasks = set(fetcher._prefetching.values())
            assert tasks and all(task.cancelled() for task in tasks)
        return started, server

    (started, server), reported = _checked(scenario())
    assert started == 1 and server.hits["/robots.txt"] == 1
    assert reported == []
