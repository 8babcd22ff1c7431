"""The Fetcher against a real HTTP server on 127.0.0.1: retries, Retry-After, caps, 304."""

from __future__ import annotations

import asyncio
import gzip
import random
import socket
import time
import tracemalloc
from collections.abc import Coroutine
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any, TypeVar

import brotli
import pytest

from cleaner.decode import decode_html
from scraper.errors import (
    Blocked,
    HTTPStatusError,
    NetworkError,
    NotHTML,
    TooLarge,
    TooManyRedirects,
)
from scraper.fetch.fetcher import Fetcher, FetchOutcome, FetchRequest, parse_retry_after
from scraper.fetch.http import fetch_page, make_client
from scraper.fetch.page import HTML_TYPES
from scraper.settings import Limits, Politeness, RetryPolicy, Settings
from scraper.store.warc import WarcStore, iter_pages
from tests.scraper.loopback import LoopbackServer, Reply, Seen

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


T = TypeVar("T")


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


class FakeTime:
    """A monotonic clock that only moves when something sleeps; records every wait."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.waits: list[float] = []

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)


def settings(**changes: Any) -> Settings:
    base: dict[str, Any] = {
        "politeness": Politeness(delay=0, obey_robots=False),
        "retry": RetryPolicy(attempts=3, backoff_base=0.01, backoff_max=0.05),
    }
    return Settings.model_validate({**base, **changes})


def fake_fetcher(conf: Settings, fake: FakeTime, **kwargs: Any) -> Fetcher:
    return Fetcher(
        conf,
        sleep=fake.sleep,
        monotonic=fake.monotonic,
        clock=lambda: T0,
        rng=random.Random(7),
        **kwargs,
    )


def sequence(*replies: Reply) -> Any:
    """A handler answering with each reply in turn, then the last one forever."""
    queue = list(replies)

    def handler(seen: Seen) -> Reply:
        return queue.pop(0) if len(queue) > 1 else queue[0]

    return handler


PAGE = "<html><head><title>Tide tables</title></head><body><p>High water at six.</p></body></html>"


def test_retry_on_503_then_success() -> None:
    async def scenario() -> tuple[FetchOutcome, LoopbackServer, FakeTime]:
        routes = {"/a": sequence(Reply(503), Reply(503), Reply.html(PAGE))}
        fake = FakeTime()
        async with LoopbackServer(routes) as server, fake_fetcher(settings(), fake) as fetcher:
            outcome = await fetcher.fetch(FetchRequest(server.url("/a")))
        return outcome, server, fake

    outcome, server, fake = run(scenario())
    assert outcome.error is None and outcome.page is not None
    assert outcome.page.status == 200 and outcome.page.body == PAGE.encode()
    assert outcome.attempts == 3 and server.hits["/a"] == 3
    # equal jitter: attempt n waits between half and all of base * 2**(n-1)
    assert 0.005 <= fake.waits[0] <= 0.01 and 0.01 <= fake.waits[1] <= 0.02


def test_no_retry_on_404_and_403() -> None:
    async def scenario() -> tuple[list[FetchOutcome], LoopbackServer]:
        routes = {"/gone": lambda s: Reply(404), "/private": lambda s: Reply(403)}
        async with LoopbackServer(routes) as server, fake_fetcher(settings(), FakeTime()) as f:
            outcomes = [await f.fetch(FetchRequest(server.url(p))) for p in ("/gone", "/private")]
        return outcomes, server

    (gone, private), server = run(scenario())
    assert isinstance(gone.error, HTTPStatusError) and gone.error.status == 404
    assert isinstance(private.error, Blocked) and private.error.status == 403
    assert gone.page is not None and gone.page.status == 404, "the error page is kept"
    assert gone.attempts == private.attempts == 1
    assert server.hits["/gone"] == server.hits["/private"] == 1


def test_gives_up_after_attempts_with_last_status() -> None:
    async def scenario() -> tuple[FetchOutcome, LoopbackServer]:
        async with (
            LoopbackServer({"/busy": lambda s: Reply(429)}) as server,
            fake_fetcher(settings(), FakeTime()) as fetcher,
        ):
            outcome = await fetcher.fetch(FetchRequest(server.url("/busy")))
        return outcome, server

    outcome, server = run(scenario())
    assert isinstance(outcome.error, HTTPStatusError) and outcome.error.status == 429
    assert outcome.attempts == 3 and server.hits["/busy"] == 3


def test_connection_refused_is_retried_then_reported() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    fake = FakeTime()

    async def scenario() -> FetchOutcome:
        async with fake_fetcher(settings(), fake) as fetcher:
            return await fetcher.fetch(FetchRequest(f"http://127.0.0.1:{port}/x"))

    outcome = run(scenario())
    assert isinstance(outcome.error, NetworkError) and "refused" in outcome.error.detail
    assert outcome.attempts == 3 and len(fake.waits) == 2


def test_retry_after_seconds_and_http_date() -> None:
    later = format_datetime(T0 + timedelta(seconds=7), usegmt=True)
    routes = {
        "/seconds": sequence(Reply(503, [("Retry-After", "4")]), Reply.html(PAGE)),
        "/date": sequence(Reply(429, [("Retry-After", later)]), Reply.html(PAGE)),
    }
    fake = FakeTime()

    async def scenario() -> list[FetchOutcome]:
        async with LoopbackServer(routes) as server, fake_fetcher(settings(), fake) as fetcher:
            return [await fetcher.fetch(FetchRequest(server.url(p))) for p in routes]

    outcomes = run(scenario())
    assert all(o.error is None and o.attempts == 2 for o in outcomes)
    assert fake.waits == [4.0, 7.0]


def test_retry_after_over_the_cap_gives_up_clearly() -> None:
    conf = settings(retry=RetryPolicy(attempts=5, retry_after_max=30))
    fake = FakeTime()

    async def scenario() -> tuple[FetchOutcome, LoopbackServer]:
        routes = {"/later": lambda s: Reply(503, [("Retry-After", "3600")])}
        async with LoopbackServer(routes) as server, fake_fetcher(conf, fake) as fetcher:
            outcome = await fetcher.fetch(FetchRequest(server.url("/later")))
        return outcome, server

    outcome, server = run(scenario())
    assert isinstance(outcome.error, HTTPStatusError) and outcome.error.status == 503
    assert "Retry-After 3600 s, over the cap of 30 s" in str(outcome.error)
    assert outcome.attempts == 1 and server.hits["/later"] == 1 and fake.waits == []


def test_retry_after_real_time_pauses_the_host() -> None:
    """Real clock: a Retry-After of 1 s delays the retry and other requests to the host."""
    routes = {
        "/a": sequence(Reply(503, [("Retry-After", "1")]), Reply.html(PAGE)),
        "/b": lambda s: Reply.html(PAGE, delay=0.05),
    }

    async def scenario() -> tuple[LoopbackServer, float]:
        async with LoopbackServer(routes) as server, Fetcher(settings()) as fetcher:
            started = time.monotonic()
            first = await fetcher.fetch(FetchRequest(server.url("/a")))
            assert first.error is None
            return server, started

    server, started = run(scenario())
    retried = [s.at for s in server.seen if s.path == "/a"]
    assert len(retried) == 2 and retried[1] - retried[0] >= 0.99
    assert retried[0] - started < 0.5


def test_parse_retry_after() -> None:
    assert parse_retry_after("120", T0) == 120.0
    assert parse_retry_after("Sun, 01 Mar 2026 12:00:30 GMT", T0) == 30.0
    assert parse_retry_after("Sun, 01 Mar 2026 11:00:00 GMT", T0) == 0.0  # already past
    assert parse_retry_after("soon", T0) is None
    assert parse_retry_after("-5", T0) is None


def test_size_cap_declared_and_streamed() -> None:
    big = b"<html>" + b"x" * 5000
    routes = {
        "/declared": lambda s: Reply(200, [("Content-Type", "text/html")], big),
        "/streamed": lambda s: Reply(200, [("Content-Type", "text/html")], chunks=[big] * 3),
    }
    conf = settings(limits=Limits(max_bytes=4000))

    async def scenario() -> list[FetchOutcome]:
        async with LoopbackServer(routes) as server, fake_fetcher(conf, FakeTime()) as fetcher:
            return [await fetcher.fetch(FetchRequest(server.url(p))) for p in routes]

    for outcome in run(scenario()):
        assert isinstance(outcome.error, TooLarge) and "4000 bytes" in outcome.error.detail
        assert outcome.attempts == 1


def _bomb(encoding: str) -> bytes:
    zeros = bytes(200 * 1024 * 1024)
    if encoding == "gzip":
        return gzip.compress(zeros, 1)
    return brotli.compress(zeros, quality=1)


@pytest.mark.parametrize("encoding", ["gzip", "br"])
def test_compression_bomb_stops_at_the_cap_without_inflating(encoding: str) -> None:
    """200 MB of zeros compressed to a few hundred KB, sent in one piece: memory stays small."""
    bomb = _bomb(encoding)
    headers = [("Content-Type", "text/html"), ("Content-Encoding", encoding)]
    routes = {"/bomb": lambda s: Reply(200, headers, chunks=[bomb])}
    conf = settings(limits=Limits(max_bytes=1024 * 1024))

    async def scenario() -> tuple[FetchOutcome, int]:
        async with LoopbackServer(routes) as server, fake_fetcher(conf, FakeTime()) as fetcher:
            tracemalloc.start()
            try:
                outcome = await fetcher.fetch(FetchRequest(server.url("/bomb")))
                peak = tracemalloc.get_traced_memory()[1]
            finally:
                tracemalloc.stop()
        return outcome, peak

    outcome, peak = run(scenario())
    assert isinstance(outcome.error, TooLarge) and "decompressed" in outcome.error.detail
    assert peak < 12 * 1024 * 1024, f"peak {peak / 1e6:.1f} MB: the bomb was inflated"


def test_gzip_and_deflate_bodies_are_decoded() -> None:
    body = PAGE.encode() * 50
    deflated = gzip.compress(body)
    routes = {
        "/gz": lambda s: Reply(200, [("Content-Encoding", "gzip")], deflated),
        "/br": lambda s: Reply(200, [("Content-Encoding", "br")], brotli.compress(body)),
    }

    async def scenario() -> list[FetchOutcome]:
        async with LoopbackServer(routes) as server, fake_fetcher(settings(), FakeTime()) as f:
            return [await f.fetch(FetchRequest(server.url(p))) for p in routes]

    for outcome in run(scenario()):
        assert outcome.page is not None and outcome.page.body == body


def _redirect_to(path: str) -> Any:
    return lambda seen: Reply(302, [("Location", path)])


def test_redirect_loop_and_limit() -> None:
    routes = {
        "/a": lambda s: Reply(302, [("Location", "/b")]),
        "/b": lambda s: Reply(301, [("Location", "/a")]),
        **{f"/r{i}": _redirect_to(f"/r{i + 1}") for i in range(9)},
        "/ok": lambda s: Reply(301, [("Location", "/r7")]),
    }
    conf = settings(limits=Limits(max_redirects=3))

    async def scenario() -> tuple[list[FetchOutcome], LoopbackServer]:
        async with LoopbackServer(routes) as server, fake_fetcher(conf, FakeTime()) as fetcher:
            paths = ("/a", "/r0", "/ok")
            return [await fetcher.fetch(FetchRequest(server.url(p))) for p in paths], server

    (loop, chain, short), server = run(scenario())
    assert isinstance(loop.error, TooManyRedirects) and "loop" in loop.error.detail
    assert server.hits["/a"] == 1 and server.hits["/b"] == 1, "a loop is not retried"
    assert isinstance(chain.error, TooManyRedirects) and "more than 3" in chain.error.detail
    # /ok -> /r7 -> /r8 -> /r9 (404): within the limit, the final status is reported
    assert short.page is not None and short.page.status == 404
    assert short.page.redirects == tuple(server.url(p) for p in ("/ok", "/r7", "/r8"))


def test_content_type_refused_before_the_body() -> None:
    pdf = b"%PDF-1.7" + bytes(100_000)
    routes = {"/paper": lambda s: Reply(200, [("Content-Type", "application/pdf")], pdf)}

    async def scenario() -> list[FetchOutcome]:
        async with LoopbackServer(routes) as server, fake_fetcher(settings(), FakeTime()) as f:
            url = server.url("/paper")
            return [
                await f.fetch(FetchRequest(url, accept=HTML_TYPES)),
                await f.fetch(FetchRequest(url)),
            ]

    strict, lax = run(scenario())
    assert isinstance(strict.error, NotHTML) and "application/pdf" in strict.error.detail
    assert lax.error is None and lax.page is not None and lax.page.body == pdf


def test_charset_header_then_meta_then_detection() -> None:
    text = "Şehir otobüsleri gece de çalışmalı: ığdır, gümüşhane."
    html = f"<html><head><title>x</title>{{meta}}</head><body><p>{text}</p></body></html>"
    routes = {
        "/header": lambda s: Reply(
            200,
            [("Content-Type", "text/html; charset=iso-8859-9")],
            html.format(meta="").encode("iso-8859-9"),
        ),
        "/meta": lambda s: Reply(
            200,
            [("Content-Type", "text/html")],
            html.format(meta='<meta charset="windows-1254">').encode("cp1254"),
        ),
        "/utf8": lambda s: Reply(
            200, [("Content-Type", "text/html")], html.format(meta="").encode()
        ),
    }

    async def scenario() -> list[FetchOutcome]:
        async with LoopbackServer(routes) as server, fake_fetcher(settings(), FakeTime()) as f:
            return [await f.fetch(FetchRequest(server.url(p))) for p in routes]

    for outcome in run(scenario()):
        assert outcome.page is not None
        decoded = decode_html(outcome.page.body, outcome.page.header("content-type"))
        assert text in decoded, outcome.request.url


def test_conditional_get_304_is_unchanged_and_stored(tmp_path: Path) -> None:
    def handler(seen: Seen) -> Reply:
        if seen.headers.get("if-none-match") == '"v1"':
            return Reply(304, [("ETag", '"v1"')])
        return Reply.html(
            PAGE, headers=[("ETag", '"v1"'), ("Last-Modified", "Sun, 01 Mar 2026 10:00:00 GMT")]
        )

    async def scenario() -> tuple[list[FetchOutcome], LoopbackServer]:
        with WarcStore(tmp_path / "raw") as store:
            async with (
                LoopbackServer({"/p": handler}) as server,
                fake_fetcher(settings(), FakeTime(), raw_store=store) as fetcher,
            ):
                first = await fetcher.fetch(FetchRequest(server.url("/p")))
                assert first.page is not None
                again = FetchRequest(
                    server.url("/p"),
                    etag=first.page.header("etag"),
                    last_modified=first.page.header("last-modified"),
                )
                return [first, await fetcher.fetch(again)], server

    (first, second), server = run(scenario())
    assert not first.not_modified and second.not_modified and second.error is None
    assert server.seen[1].headers["if-none-match"] == '"v1"'
    assert server.seen[1].headers["if-modified-since"] == "Sun, 01 Mar 2026 10:00:00 GMT"
    assert [p.status for p in iter_pages(tmp_path / "raw")] == [200, 304]


def test_every_response_goes_to_the_raw_store(tmp_path: Path) -> None:
    routes = {"/flaky": sequence(Reply(503), Reply.html(PAGE)), "/gone": lambda s: Reply(404)}

    async def scenario() -> None:
        with WarcStore(tmp_path / "raw") as store:
            async with (
                LoopbackServer(routes) as server,
                fake_fetcher(settings(), FakeTime(), raw_store=store) as fetcher,
            ):
                for path in routes:
                    await fetcher.fetch(FetchRequest(server.url(path)))

    run(scenario())
    pages = list(iter_pages(tmp_path / "raw"))
    assert [p.status for p in pages] == [503, 200, 404]
    assert pages[1].body == PAGE.encode()


def test_user_agent_names_the_tool_and_is_overridable() -> None:
    routes = {"/": lambda s: Reply.html(PAGE)}

    async def scenario(conf: Settings) -> str:
        async with LoopbackServer(routes) as server, fake_fetcher(conf, FakeTime()) as fetcher:
            await fetcher.fetch(FetchRequest(server.url("/")))
        return server.seen[0].headers["user-agent"]

    default = run(scenario(settings()))
    assert default.startswith("opinion-scraper/") and "+https://" in default
    assert run(scenario(settings(user_agent="my-bot/2 (+https://example.org/bot)"))) == (
        "my-bot/2 (+https://example.org/bot)"
    )


def test_idle_host_connections_are_closed() -> None:
    """A crawl over many hosts must not keep every host's sockets open."""
    routes = {"/": lambda s: Reply.html(PAGE)}
    conf = settings(allow_private_addresses=True)

    async def scenario() -> tuple[int, int, int]:
        async with (
            LoopbackServer(routes, host="127.0.0.1") as one,
            LoopbackServer(routes, host="127.0.0.2") as two,
            make_client(conf, idle_expiry=0.1) as client,
        ):
            for server in (one, two):
                assert (await fetch_page(client, server.url("/"), conf)).status == 200
            before = len(one._writers) + len(two._writers)
            await asyncio.sleep(0.3)
            assert (await fetch_page(client, one.url("/"), conf)).status == 200
            await asyncio.sleep(0.05)  # let the server notice the closed socket
            return before, len(one._writers), len(two._writers)

    before, open_at_one, open_at_two = run(scenario())
    assert before == 2 and open_at_one == 1
    assert open_at_two == 0, "the idle host's keep-alive connection was closed"
