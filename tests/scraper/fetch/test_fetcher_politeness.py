"""Politeness as the server sees it: in-flight per host, delays, and `fetch_all` scheduling."""

from __future__ import annotations

import asyncio
import contextlib
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator
from types import CodeType, FrameType

from scraper.errors import HTTPStatusError, NetworkError, RobotsDisallowed
from scraper.fetch.fetcher import Fetcher, FetchOutcome, FetchRequest
from scraper.settings import Politeness, RetryPolicy
from tests.scraper.fetch.test_fetcher import PAGE, FakeTime, fake_fetcher, run, settings
from tests.scraper.loopback import LoopbackServer, Reply, Seen


def _slow_page(seen: Seen) -> Reply:
    return Reply.html(PAGE, delay=0.05)


def test_per_host_concurrency_is_never_exceeded() -> None:
    """24 requests to each of two hosts; the servers count what is in flight."""
    routes = {f"/p{i}": _slow_page for i in range(24)}

    async def scenario() -> tuple[list[FetchOutcome], LoopbackServer, LoopbackServer, float]:
        async with (
            LoopbackServer(routes, host="127.0.0.1") as one,
            LoopbackServer(routes, host="127.0.0.2") as two,
            Fetcher(settings()) as fetcher,
        ):
            requests = [FetchRequest(s.url(p)) for p in routes for s in (one, two)]
            started = time.monotonic()
            outcomes = [o async for o in fetcher.fetch_all(requests)]
            return outcomes, one, two, time.monotonic() - started

    outcomes, one, two, elapsed = run(scenario())
    assert len(outcomes) == 48 and all(o.error is None for o in outcomes)
    assert one.max_in_flight == two.max_in_flight == 2
    # 12 rounds of 50 ms per host, both hosts in parallel: well under the 2.4 s of a serial crawl
    assert 0.55 < elapsed < 1.6


def test_per_source_concurrency_override() -> None:
    routes = {f"/p{i}": _slow_page for i in range(9)}
    gentle = Politeness(per_host_concurrency=1, delay=0, obey_robots=False)

    async def scenario() -> LoopbackServer:
        async with LoopbackServer(routes) as server, Fetcher(settings()) as fetcher:
            requests = [FetchRequest(server.url(p), "gentle", gentle) for p in routes]
            assert len([o async for o in fetcher.fetch_all(requests)]) == 9
        return server

    assert run(scenario()).max_in_flight == 1


def test_min_delay_between_requests_to_one_host_real_time() -> None:
    routes = {f"/p{i}": lambda s: Reply.html(PAGE) for i in range(4)}
    polite = Politeness(delay=0.2, obey_robots=False)

    async def scenario() -> LoopbackServer:
        async with LoopbackServer(routes) as server, Fetcher(settings()) as fetcher:
            requests = [FetchRequest(server.url(p), politeness=polite) for p in routes]
            assert all([o.error is None async for o in fetcher.fetch_all(requests)])
        return server

    starts = sorted(s.at for s in run(scenario()).seen)
    # Measured at the server, one arrival can be late by a connection set-up on a busy
    # machine, which shortens one gap and lengthens the next: the span cannot shrink so.
    assert len(starts) == 4 and 0.55 <= starts[-1] - starts[0] < 1.2, starts


def test_delay_is_per_host_not_global_real_time() -> None:
    polite = Politeness(delay=0.3, obey_robots=False)
    routes = {"/a": lambda s: Reply.html(PAGE), "/b": lambda s: Reply.html(PAGE)}

    async def scenario() -> tuple[LoopbackServer, LoopbackServer]:
        async with (
            LoopbackServer(routes, host="127.0.0.1") as one,
            LoopbackServer(routes, host="127.0.0.2") as two,
            Fetcher(settings(politeness=polite)) as fetcher,
        ):
            requests = [FetchRequest(s.url(p)) for s in (one, two) for p in routes]
            assert len([o async for o in fetcher.fetch_all(requests)]) == 4
            return one, two

    one, two = run(scenario())
    (a1, a2), (b1, b2) = ([s.at for s in server.seen] for server in (one, two))
    assert a2 - a1 >= 0.2 and b2 - b1 >= 0.2
    # The hosts' first requests leave together, less than one delay apart (a delay shared by
    # all hosts puts a whole delay between them): the two hosts wait side by side. Measured
    # at the servers, between two requests, so a slow start-up of the run cannot count.
    assert abs(b1 - a1) < 0.3 and b1 < a2 and a1 < b2, (a1, a2, b1, b2)


ROBOTS = """User-agent: *
Disallow: /private/
Crawl-delay: 0.3

User-agent: otherbot
Disallow: /
"""


def test_robots_fetched_once_disallowed_skipped_and_crawl_delay_honoured() -> None:
    routes = {
        "/robots.txt": lambda s: Reply(200, [("Content-Type", "text/plain")], ROBOTS.encode()),
        "/private/diary": lambda s: Reply.html(PAGE),
        **{f"/col/{i}": lambda s: Reply.html(PAGE) for i in range(3)},
    }
    conf = settings(politeness=Politeness(delay=0, obey_robots=True))

    async def scenario() -> tuple[list[FetchOutcome], LoopbackServer]:
        async with LoopbackServer(routes) as server, Fetcher(conf) as fetcher:
            requests = [FetchRequest(server.url(p)) for p in routes if p != "/robots.txt"]
            return [o async for o in fetcher.fetch_all(requests)], server

    outcomes, server = run(scenario())
    by_path = {o.request.url.rsplit(":", 1)[1].split("/", 1)[1]: o for o in outcomes}
    refused = by_path["private/diary"]
    assert isinstance(refused.error, RobotsDisallowed) and refused.attempts == 0
    assert refused.error.reason.value == "robots_disallowed"
    assert server.hits["/robots.txt"] == 1 and server.hits["/private/diary"] == 0
    assert all(by_path[f"col/{i}"].error is None for i in range(3))
    starts = [s.at for s in server.seen]  # robots.txt, then the three columns
    assert len(starts) == 4 and starts[-1] - starts[0] >= 0.85, starts


def test_crawl_delay_is_capped() -> None:
    fake = FakeTime()
    robots = b"User-agent: *\nCrawl-delay: 3600\n"
    routes = {
        "/robots.txt": lambda s: Reply(200, [], robots),
        "/a": lambda s: Reply.html(PAGE),
    }
    conf = settings(politeness=Politeness(delay=0, max_crawl_delay=20))

    async def scenario() -> None:
        async with LoopbackServer(routes) as server, fake_fetcher(conf, fake) as fetcher:
            assert (await fetcher.fetch(FetchRequest(server.url("/a")))).error is None

    run(scenario())
    assert fake.waits == [20.0]


def test_robots_unreachable_skips_the_host_and_missing_allows_all() -> None:
    down = {"/robots.txt": lambda s: Reply(503), "/a": lambda s: Reply.html(PAGE)}
    missing = {"/a": lambda s: Reply.html(PAGE)}  # robots.txt is a 404
    conf = settings(
        politeness=Politeness(delay=0),
        retry=RetryPolicy(attempts=2, backoff_base=0.01),
    )

    async def scenario() -> tuple[FetchOutcome, FetchOutcome, LoopbackServer]:
        async with (
            LoopbackServer(down, host="127.0.0.1") as broken,
            LoopbackServer(missing, host="127.0.0.2") as plain,
            Fetcher(conf) as fetcher,
        ):
            skipped = await fetcher.fetch(FetchRequest(broken.url("/a")))
            allowed = await fetcher.fetch(FetchRequest(plain.url("/a")))
        return skipped, allowed, broken

    skipped, allowed, broken = run(scenario())
    assert isinstance(skipped.error, RobotsDisallowed)
    assert "robots.txt unreachable (HTTP 503)" in skipped.error.detail
    assert broken.hits["/robots.txt"] == 2 and broken.hits["/a"] == 0
    assert allowed.error is None


def test_fetch_all_yields_exactly_one_outcome_per_request_with_bounded_read_ahead() -> None:
    """A mix of hosts and failures from a lazy input: nothing dropped, little read ahead."""
    routes = {
        **{f"/ok{i}": lambda s: Reply.html(PAGE) for i in range(30)},
        "/gone": lambda s: Reply(404),
    }
    consumed = 0
    yielded = 0
    lead = 0

    async def scenario() -> list[FetchOutcome]:
        nonlocal yielded, lead
        async with (
            LoopbackServer(routes, host="127.0.0.1") as one,
            LoopbackServer(routes, host="127.0.0.3") as two,
            fake_fetcher(settings(), FakeTime(), max_buffered=5) as fetcher,
        ):

            def requests() -> Iterator[FetchRequest]:
                nonlocal consumed
                for path in routes:
                    for server in (one, two):
                        consumed += 1
                        yield FetchRequest(server.url(path))
                consumed += 1
                yield FetchRequest("http://127.0.0.1:1/refused")
                consumed += 1
                yield FetchRequest("ftp://127.0.0.1/file")

            outcomes = []
            async for outcome in fetcher.fetch_all(requests()):
                yielded += 1
                lead = max(lead, consumed - yielded)
                outcomes.append(outcome)
            return outcomes

    outcomes = run(scenario())
    assert len(outcomes) == consumed == 64
    assert len({o.request.url for o in outcomes}) == 64
    assert lead <= 5
    errors = sorted(type(o.error).__name__ for o in outcomes if o.error is not None)
    assert errors == ["ForbiddenAddress", "HTTPStatusError", "HTTPStatusError", "NetworkError"]


def test_fetch_all_takes_an_async_iterable_and_can_stop_early() -> None:
    routes = {f"/p{i}": _slow_page for i in range(10)}

    async def scenario() -> int:
        async with LoopbackServer(routes) as server, Fetcher(settings()) as fetcher:

            async def requests() -> AsyncIterator[FetchRequest]:
                for path in routes:
                    await asyncio.sleep(0)
                    yield FetchRequest(server.url(path))

            seen = 0
            stream = fetcher.fetch_all(requests())
            async for _ in stream:
                seen += 1
                if seen == 3:
                    break
            await stream.aclose()  # cancels what is still in flight
            return seen

    assert run(scenario()) == 3


def test_errors_after_retries_carry_their_reason() -> None:
    routes = {"/busy": lambda s: Reply(503)}

    async def scenario() -> list[FetchOutcome]:
        async with LoopbackServer(routes) as server, fake_fetcher(settings(), FakeTime()) as f:
            requests = [FetchRequest(server.url("/busy")), FetchRequest("http://127.0.0.1:1/")]
            return [o async for o in f.fetch_all(requests)]

    reasons = {type(o.error): o.error.reason.value for o in run(scenario()) if o.error}
    assert reasons == {HTTPStatusError: "http_error", NetworkError: "network_error"}


def test_max_in_flight_caps_all_hosts_together_and_every_host_gets_its_turn() -> None:
    """Three hosts, two slots each, a global cap of three: the cap holds across hosts, and
    a host does not keep its place while another waits (workers hand their place over)."""
    in_flight = peak = 0
    order: list[str] = []

    async def counted(seen: Seen) -> Reply:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        await asyncio.sleep(0.03)
        in_flight -= 1
        return Reply.html(PAGE)

    routes = {f"/p{i}": counted for i in range(6)}

    async def scenario() -> list[FetchOutcome]:
        async with (
            LoopbackServer(routes, host="127.0.0.1") as one,
            LoopbackServer(routes, host="127.0.0.2") as two,
            LoopbackServer(routes, host="127.0.0.3") as three,
            Fetcher(settings(), max_in_flight=3) as fetcher,
        ):
            # All of host one's requests first, as a file of URLs sorted by site would be.
            requests = [FetchRequest(s.url(p)) for s in (one, two, three) for p in routes]
            outcomes = []
            async for outcome in fetcher.fetch_all(requests):
                outcomes.append(outcome)
                order.append(outcome.request.url.split("/")[2].split(":")[0])
            return outcomes

    outcomes = run(scenario())
    assert len(outcomes) == 18 and all(o.error is None for o in outcomes)
    assert peak == 3
    # Host three starts long before host one is done: its first page is not among the last.
    assert order.index("127.0.0.3") < 9


def test_a_slow_caller_wakes_a_waiting_worker_only_when_there_is_room() -> None:
    """16 workers (8 hosts x 2) held back by ``max_ready`` while the caller takes outcomes
    slowly: an outcome taken while the ready buffer is still over the cap wakes no one, so
    the workers resume a few times a page, not once per waiting worker per page."""
    routes = {f"/p{i}": lambda s: Reply.html(PAGE) for i in range(12)}
    resumed = 0
    work_code: CodeType | None = None

    def count(frame: FrameType, event: str, arg: object) -> None:
        nonlocal resumed
        # A coroutine's frame reports a "call" each time it is resumed.
        if event == "call" and frame.f_code is work_code:
            resumed += 1

    async def scenario() -> list[FetchOutcome]:
        nonlocal work_code
        async with contextlib.AsyncExitStack() as stack:
            servers = [
                await stack.enter_async_context(LoopbackServer(routes, host=f"127.0.0.{n}"))
                for n in range(1, 9)
            ]
            fetcher = await stack.enter_async_context(Fetcher(settings(), max_ready=2))
            requests = [FetchRequest(s.url(p)) for p in routes for s in servers]
            stream = fetcher.fetch_all(requests)
            work_code = _inner_code(Fetcher.fetch_all, "work")
            outcomes = []
            sys.setprofile(count)
            try:
                async for outcome in stream:
                    outcomes.append(outcome)
                    await asyncio.sleep(0.002)  # a caller busier than the fetching
            finally:
                sys.setprofile(None)
            return outcomes

    outcomes = run(scenario())
    assert len(outcomes) == 96 and all(o.error is None for o in outcomes)
    # A worker's frame resumes each time the request it awaits does (~2.5 a page here);
    # waking all 16 on every outcome taken measured ~16 a page.
    assert resumed < 6 * len(outcomes), resumed


def _inner_code(function: Callable[..., object], name: str) -> CodeType:
    """The code object of the function ``name`` defined inside ``function``."""
    found = [
        c for c in function.__code__.co_consts if isinstance(c, CodeType) and c.co_name == name
    ]
    assert len(found) == 1
    return found[0]
