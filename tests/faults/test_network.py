"""Network faults against real sockets on 127.0.0.1: every one ends as a classified
`FetchError` within its deadline, never a hang, a crash or an unclassified exception."""

from __future__ import annotations

import asyncio
import socket
import time
from typing import Any

import aiohttp
import pytest

from scraper.errors import (
    FetchError,
    FetchTimeout,
    ForbiddenAddress,
    HTTPStatusError,
    NetworkError,
)
from scraper.fetch.fetcher import Fetcher, FetchRequest
from scraper.fetch.http import fetch_page, make_client
from scraper.settings import Politeness, RetryPolicy, Settings, Timeouts
from tests.faults.rawserver import RawServer, Route, drip, head, html, reply, reset
from tests.scraper.fetch.test_fetcher import FakeTime, fake_fetcher

PAGE = "<html><head><title>Ferry timetable</title></head><body><p>Boats at nine.</p></body></html>"


def quick(**timeouts: float) -> Settings:
    return Settings(
        timeouts=Timeouts(**{"connect": 2.0, "read": 2.0, "total": 5.0, **timeouts}),
        politeness=Politeness(delay=0, obey_robots=False),
        retry=RetryPolicy(attempts=1),
    )


async def fetch_one(route: Route, settings: Settings) -> tuple[Any, float, RawServer]:
    """Fetch ``/`` from a server answering with ``route``: (page or error, seconds, server)."""
    async with RawServer({"/": route}) as server:
        started = time.monotonic()
        async with make_client(settings) as client:
            try:
                result: Any = await fetch_page(client, server.url("/"), settings)
            except FetchError as exc:
                result = exc
        return result, time.monotonic() - started, server


def fetch(route: Route, settings: Settings) -> tuple[Any, float, RawServer]:
    return asyncio.run(fetch_one(route, settings))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_connection_refused() -> None:
    async def main() -> Any:
        settings = quick()
        async with make_client(settings) as client:
            return await fetch_page(client, f"http://127.0.0.1:{free_port()}/", settings)

    with pytest.raises(NetworkError, match="connection refused"):
        asyncio.run(main())


async def _reset_mid_body(writer: Any) -> None:
    writer.write(head(200, [("Content-Type", "text/html"), ("Content-Length", "100000")]))
    writer.write(b"<html><body>" + b"x" * 5000)
    await writer.drain()
    await asyncio.sleep(0.05)
    reset(writer)


def test_reset_mid_body() -> None:
    error, _, _ = fetch(_reset_mid_body, quick())
    assert isinstance(error, NetworkError)
    assert error.reason.value == "network_error"


def test_body_shorter_than_its_length_then_closed() -> None:
    async def route(writer: Any) -> None:
        writer.write(head(200, [("Content-Type", "text/html"), ("Content-Length", "9000")]))
        writer.write(b"<html>cut short")
        await writer.drain()
        writer.close()

    error, _, _ = fetch(route, quick())
    assert isinstance(error, NetworkError)


def test_hang_before_headers_is_a_read_timeout() -> None:
    async def route(writer: Any) -> None:
        await asyncio.sleep(3600)

    error, seconds, _ = fetch(route, quick(read=0.5))
    assert isinstance(error, FetchTimeout)
    assert seconds < 3


def test_hang_mid_body_is_a_read_timeout() -> None:
    async def route(writer: Any) -> None:
        writer.write(head(200, [("Content-Type", "text/html"), ("Content-Length", "5000")]))
        writer.write(b"<html><body><p>The first half")
        await writer.drain()
        await asyncio.sleep(3600)

    error, seconds, _ = fetch(route, quick(read=0.5))
    assert isinstance(error, FetchTimeout)
    assert seconds < 3


def test_slow_drip_is_stopped_by_the_total_deadline() -> None:
    """One byte a second never trips the read timeout; the total deadline stops it."""

    error, seconds, server = fetch(drip(1.0), quick(read=2.0, total=2.5))
    assert isinstance(error, FetchTimeout)
    assert "within 2.5 s" in error.detail
    assert 2.4 < seconds < 4
    assert server.sent < 200  # the head and a few drops


@pytest.mark.parametrize("status", [429, 500, 502, 503])
@pytest.mark.parametrize("retry_after", [None, "2"])
def test_retryable_statuses_with_and_without_retry_after(
    status: int, retry_after: str | None
) -> None:
    headers = [("Retry-After", retry_after)] if retry_after else []
    fake = FakeTime()
    settings = Settings(
        politeness=Politeness(delay=0, obey_robots=False),
        retry=RetryPolicy(attempts=3, backoff_base=0.5, backoff_max=4),
    )

    async def main() -> Any:
        async with (
            RawServer({"/": reply(status, b"busy", headers)}) as server,
            fake_fetcher(settings, fake) as fetcher,
        ):
            return await fetcher.fetch(FetchRequest(server.url("/"))), server

    outcome, server = asyncio.run(main())
    assert server.hits["/"] == 3 and outcome.attempts == 3
    assert isinstance(outcome.error, HTTPStatusError) and outcome.error.status == status
    retry_waits = [wait for wait in fake.waits if wait > 0]
    if retry_after:
        assert retry_waits == [2.0, 2.0]
    else:  # jittered exponential backoff: half fixed, half random
        assert len(retry_waits) == 2
        assert 0.25 <= retry_waits[0] <= 0.5 and 0.5 <= retry_waits[1] <= 1.0


def test_garbage_instead_of_http() -> None:
    async def route(writer: Any) -> None:
        writer.write(b"\x00\xff SSH-2.0-OpenSSH\r\n\r\n" * 3)
        await writer.drain()
        writer.close()

    error, _, _ = fetch(route, quick())
    assert isinstance(error, NetworkError)


def test_dns_failure_on_a_reserved_name_is_fast_and_offline() -> None:
    """`.invalid` never resolves (RFC 6761): refused before any DNS query leaves the host."""

    async def main() -> None:
        settings = quick()
        async with make_client(settings) as client:
            await fetch_page(client, "http://columns.example.invalid/today", settings)

    started = time.monotonic()
    with pytest.raises(NetworkError, match="DNS lookup failed"):
        asyncio.run(main())
    assert time.monotonic() - started < 1


def test_dns_error_from_the_resolver_is_named() -> None:
    """A resolver failure (here: a label over 63 bytes, refused by the stub resolver
    before sending anything) is reported as a DNS failure, not a bare exception."""

    async def main() -> None:
        settings = quick()
        async with make_client(settings) as client:
            await fetch_page(client, f"http://{'a' * 64}.example/", settings)

    with pytest.raises(NetworkError, match=r"DNS lookup failed|label"):
        asyncio.run(main())


def test_https_to_a_plain_http_server_is_a_tls_error() -> None:
    """A plain HTTP server answers a TLS ClientHello with a 400 and closes, as real ones do."""

    async def plain_http(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(1024)
        writer.write(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
        await writer.drain()
        writer.close()

    async def main() -> None:
        server = await asyncio.start_server(plain_http, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        settings = quick()
        try:
            async with make_client(settings) as client:
                await fetch_page(client, f"https://127.0.0.1:{port}/", settings)
        finally:
            server.close()

    with pytest.raises(NetworkError, match=r"TLS|SSL"):
        asyncio.run(main())


def test_the_fetcher_retries_network_faults_then_reports_them() -> None:
    fake = FakeTime()
    settings = Settings(
        politeness=Politeness(delay=0, obey_robots=False),
        retry=RetryPolicy(attempts=2, backoff_base=0.01),
        timeouts=Timeouts(read=0.3),
    )

    async def main() -> Any:
        routes: dict[str, Route] = {"/reset": _reset_mid_body, "/ok": html(PAGE)}
        async with RawServer(routes) as server:
            fetcher: Fetcher = fake_fetcher(settings, fake)
            async with fetcher:
                return [
                    outcome
                    async for outcome in fetcher.fetch_all(
                        [FetchRequest(server.url("/reset")), FetchRequest(server.url("/ok"))]
                    )
                ]

    outcomes = {o.request.url.rsplit("/", 1)[1]: o for o in asyncio.run(main())}
    assert outcomes["ok"].ok and outcomes["ok"].page is not None
    assert isinstance(outcomes["reset"].error, NetworkError)
    assert outcomes["reset"].attempts == 2


def test_aiohttp_stays_inside_the_fetch_error_hierarchy() -> None:
    """No aiohttp exception type leaks out of fetch_page for a malformed URL either."""

    async def main() -> None:
        settings = quick()
        async with make_client(settings) as client:
            await fetch_page(client, "http://[::1/", settings)

    with pytest.raises(FetchError):
        try:
            asyncio.run(main())
        except aiohttp.ClientError as exc:  # pragma: no cover - the failure this guards against
            pytest.fail(f"aiohttp error leaked: {exc!r}")


def test_redirect_to_a_url_that_cannot_be_requested_is_refused_once() -> None:
    """A `Location: data:…` is not a network fault: refused, not retried."""
    fake = FakeTime()
    settings = Settings(
        politeness=Politeness(delay=0, obey_robots=False),
        retry=RetryPolicy(attempts=3, backoff_base=0.01),
        allow_private_addresses=True,
    )

    async def main() -> Any:
        routes: dict[str, Route] = {"/go": reply(302, b"", [("Location", "data:,hello")])}
        async with RawServer(routes) as server, fake_fetcher(settings, fake) as fetcher:
            return await fetcher.fetch(FetchRequest(server.url("/go"))), server

    outcome, server = asyncio.run(main())
    assert isinstance(outcome.error, ForbiddenAddress)
    assert outcome.attempts == 1
    assert server.hits["/go"] == 1
