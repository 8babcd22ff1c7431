"""The client behind `fetch_page` (aiohttp, set up by `make_client`) against real servers on
127.0.0.1: keep-alive reuse, when a connection must not be reused, 1xx, header case,
cookies, TLS verification, and a body bigger than the read buffer."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from scraper.errors import FetchError, NetworkError, NotHTML, TooLarge
from scraper.fetch.http import Client, fetch_page, make_client
from scraper.settings import Limits, Settings

TLS = Path(__file__).parents[2] / "fixtures" / "tls"  # self-signed for 127.0.0.1
SETTINGS = Settings(allow_private_addresses=True)
Answer = Callable[[int, bytes], bytes]  # (request number on this connection, head) -> bytes
Serve = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


class CountingServer:
    """Answers each request head with ``answer``; counts connections and requests."""

    def __init__(self, answer: Answer) -> None:
        self.answer = answer
        self.connections = 0
        self.requests = 0

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        number = 0
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                number += 1
                self.requests += 1
                writer.write(self.answer(number, head))
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


def _ok(body: bytes, *extra: bytes) -> bytes:
    headers = b"".join(line + b"\r\n" for line in extra)
    return b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n%s\r\n%s" % (len(body), headers, body)


Use = Callable[[Client, str], Awaitable[None]]


async def _against(
    serve: Serve, use: Use, server_tls: ssl.SSLContext | None = None, **client: Any
) -> None:
    listener = await asyncio.start_server(serve, "127.0.0.1", 0, ssl=server_tls)
    port = listener.sockets[0].getsockname()[1]
    url = f"{'https' if server_tls else 'http'}://127.0.0.1:{port}/"
    try:
        async with make_client(SETTINGS, **client) as http:
            await use(http, url)
    finally:
        listener.close()


def _run(serve: Serve, use: Use, server_tls: ssl.SSLContext | None = None, **client: Any) -> None:
    asyncio.run(_against(serve, use, server_tls, **client))


async def _body(client: Client, url: str, settings: Settings = SETTINGS, **kw: Any) -> bytes:
    return (await fetch_page(client, url, settings, **kw)).body


def test_sequential_requests_share_one_keep_alive_connection() -> None:
    server = CountingServer(lambda n, head: _ok(b"answer %d" % n))

    async def use(client: Client, url: str) -> None:
        for n in range(1, 5):
            assert await _body(client, url) == b"answer %d" % n

    _run(server.serve, use)
    assert (server.connections, server.requests) == (1, 4)


def test_concurrent_requests_open_a_connection_each() -> None:
    server = CountingServer(lambda n, head: _ok(b"column"))

    async def use(client: Client, url: str) -> None:
        answers = await asyncio.gather(*(_body(client, url) for _ in range(3)))
        assert answers == [b"column"] * 3
        assert await _body(client, url) == b"column"  # one of the three, reused

    _run(server.serve, use)
    assert (server.connections, server.requests) == (3, 4)


def test_connection_close_from_the_server_is_honoured() -> None:
    server = CountingServer(lambda n, head: _ok(b"bye", b"Connection: close"))

    async def use(client: Client, url: str) -> None:
        for _ in range(3):
            assert await _body(client, url) == b"bye"

    _run(server.serve, use)
    assert server.connections == 3


@pytest.mark.parametrize("stop", ["content type", "size cap"])
def test_a_body_left_unread_closes_its_connection(stop: str) -> None:
    server = CountingServer(lambda n, head: _ok(b"x" * 200_000, b"Content-Type: application/pdf"))

    async def use(client: Client, url: str) -> None:
        if stop == "content type":
            with pytest.raises(NotHTML):
                await fetch_page(client, url, SETTINGS, accept=("text/html",))
        else:
            small = SETTINGS.with_overrides(limits=Limits(max_bytes=1000))
            with pytest.raises(TooLarge):
                await fetch_page(client, url, small)
        assert len(await _body(client, url)) == 200_000

    _run(server.serve, use)
    assert server.connections == 2, "the half-read connection was reused"


def test_informational_answers_are_skipped_and_header_case_is_kept() -> None:
    continue_then_ok = b"HTTP/1.1 100 Continue\r\n\r\n" + _ok(b"page", b"X-Column-Id: 42")
    server = CountingServer(lambda n, head: continue_then_ok)

    async def use(client: Client, url: str) -> None:
        page = await fetch_page(client, url, SETTINGS)
        assert (page.status, page.body) == (200, b"page")
        assert ("X-Column-Id", "42") in page.headers  # as the server wrote it
        assert page.http_version == "HTTP/1.1"
        sent = dict(page.request_headers)
        assert sent["User-Agent"] == SETTINGS.user_agent and sent["Host"].startswith("127.0.0.1")

    _run(server.serve, use)


def test_a_server_closing_without_an_answer_is_a_network_error() -> None:
    async def close_at_once(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.close()

    async def use(client: Client, url: str) -> None:
        with pytest.raises(NetworkError, match="disconnected"):
            await fetch_page(client, url, SETTINGS)

    _run(close_at_once, use)


def test_an_idle_connection_the_server_closed_is_not_reused() -> None:
    server = CountingServer(lambda n, head: b"")

    async def answer_once(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        server.connections += 1
        await reader.readuntil(b"\r\n\r\n")
        writer.write(_ok(b"one answer, then the server hangs up"))
        await writer.drain()
        writer.close()  # without saying "Connection: close": the client must notice the FIN

    async def use(client: Client, url: str) -> None:
        for _ in range(3):
            assert await _body(client, url) == b"one answer, then the server hangs up"
            await asyncio.sleep(0.05)  # the FIN arrives while the connection is idle

    _run(answer_once, use)
    assert server.connections == 3


def test_a_cookie_set_on_a_redirect_goes_back_to_the_site() -> None:
    """A consent or session cookie set by one response is sent with the next request."""

    def answer(n: int, head: bytes) -> bytes:
        if b"cookie: consent=given" in head.lower():
            return _ok(b"the column itself")
        if head.startswith(b"GET /consent"):
            return (
                b"HTTP/1.1 302 Found\r\nSet-Cookie: consent=given; Path=/\r\n"
                b"Location: /column\r\nContent-Length: 0\r\n\r\n"
            )
        return _ok(b"consent wall")

    server = CountingServer(answer)

    async def use(client: Client, url: str) -> None:
        assert await _body(client, url + "column") == b"consent wall"
        assert await _body(client, url + "consent") == b"the column itself"
        assert await _body(client, url + "column") == b"the column itself"

    _run(server.serve, use)


def test_a_body_larger_than_the_read_buffer_arrives_whole() -> None:
    body = bytes(range(256)) * 12_000  # ~3 MB: reading pauses and resumes on the way
    server = CountingServer(lambda n, head: _ok(body, b"Connection: close"))

    async def use(client: Client, url: str) -> None:
        assert await _body(client, url) == body

    _run(server.serve, use)


def test_https_verifies_and_keeps_the_connection() -> None:
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(TLS / "cert.pem", TLS / "key.pem")
    server = CountingServer(lambda n, head: _ok(b"over TLS %d" % n))

    async def trusted(client: Client, url: str) -> None:
        assert await _body(client, url) == b"over TLS 1"
        assert await _body(client, url) == b"over TLS 2"

    async def untrusted(client: Client, url: str) -> None:
        with pytest.raises(NetworkError, match=r"TLS error.*CERTIFICATE_VERIFY_FAILED"):
            await fetch_page(client, url, SETTINGS)

    trust = ssl.create_default_context(cafile=str(TLS / "cert.pem"))
    _run(server.serve, trusted, server_tls, tls=trust)
    assert server.connections == 1
    _run(server.serve, untrusted, server_tls)
    assert server.connections == 1  # the refused handshake never reached serve()


def test_a_header_aiohttp_will_not_send_is_a_clean_error() -> None:
    server = CountingServer(lambda n, head: _ok(b"never"))

    async def use(client: Client, url: str) -> None:
        with pytest.raises(FetchError):
            await fetch_page(client, url, SETTINGS, headers={"If-None-Match": '"a"\r\nX: y'})

    _run(server.serve, use)
    assert server.requests == 0
