"""The client's HTTP/1.1 transport (`HostConnections` behind `make_client`) against real
servers on 127.0.0.1: keep-alive reuse, when a connection must not be reused, 1xx, header
case, and httpx's own exceptions."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx
import pytest

from scraper.fetch.connections import HostConnections
from scraper.fetch.http import make_client
from scraper.fetch.streams import AsyncioBackend
from scraper.settings import Settings

Answer = Callable[[int, bytes], bytes]  # (request number on this connection, head) -> bytes


class CountingServer:
    """Answers each request head with ``answer``; counts connections and requests."""

    def __init__(self, answer: Answer) -> None:
        self.answer = answer
        self.connections = 0
        self.requests = 0
        self.port = 0

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


async def _against(
    server: CountingServer, use: Callable[[httpx.AsyncClient, str], Awaitable[None]]
) -> None:
    listener = await asyncio.start_server(server.serve, "127.0.0.1", 0)
    url = f"http://127.0.0.1:{listener.sockets[0].getsockname()[1]}/"
    try:
        async with make_client(Settings(allow_private_addresses=True)) as client:
            await use(client, url)
    finally:
        listener.close()


def _run(server: CountingServer, use: Callable[[httpx.AsyncClient, str], Awaitable[None]]) -> None:
    asyncio.run(_against(server, use))


def test_sequential_requests_share_one_keep_alive_connection() -> None:
    server = CountingServer(lambda n, head: _ok(b"answer %d" % n))

    async def use(client: httpx.AsyncClient, url: str) -> None:
        for n in range(1, 5):
            assert (await client.get(url)).content == b"answer %d" % n

    _run(server, use)
    assert (server.connections, server.requests) == (1, 4)


def test_concurrent_requests_open_a_connection_each() -> None:
    server = CountingServer(lambda n, head: _ok(b"column"))

    async def use(client: httpx.AsyncClient, url: str) -> None:
        answers = await asyncio.gather(*(client.get(url) for _ in range(3)))
        assert [a.content for a in answers] == [b"column"] * 3
        assert (await client.get(url)).content == b"column"  # one of the three, reused

    _run(server, use)
    assert (server.connections, server.requests) == (3, 4)


def test_connection_close_from_the_server_is_honoured() -> None:
    server = CountingServer(lambda n, head: _ok(b"bye", b"Connection: close"))

    async def use(client: httpx.AsyncClient, url: str) -> None:
        for _ in range(3):
            assert (await client.get(url)).content == b"bye"

    _run(server, use)
    assert server.connections == 3


def test_a_body_left_unread_closes_its_connection() -> None:
    server = CountingServer(lambda n, head: _ok(b"x" * 200_000))

    async def use(client: httpx.AsyncClient, url: str) -> None:
        async with client.stream("GET", url) as response:
            async for _ in response.aiter_raw():
                break  # e.g. the size cap or the content type stopped us
        assert len((await client.get(url)).content) == 200_000

    _run(server, use)
    assert server.connections == 2, "the half-read connection was reused"


def test_informational_answers_are_skipped_and_header_case_is_kept() -> None:
    continue_then_ok = b"HTTP/1.1 100 Continue\r\n\r\n" + _ok(b"page", b"X-Column-Id: 42")
    server = CountingServer(lambda n, head: continue_then_ok)

    async def use(client: httpx.AsyncClient, url: str) -> None:
        response = await client.get(url)
        assert (response.status_code, response.content) == (200, b"page")
        assert (b"X-Column-Id", b"42") in response.headers.raw  # as the server wrote it
        assert response.http_version == "HTTP/1.1" and response.reason_phrase == "OK"

    _run(server, use)


def test_a_server_closing_without_an_answer_is_a_remote_protocol_error() -> None:
    server = CountingServer(lambda n, head: b"")

    async def use(client: httpx.AsyncClient, url: str) -> None:
        with pytest.raises(httpx.RemoteProtocolError):
            await client.get(url)

    async def close_at_once(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.close()

    server.serve = close_at_once  # type: ignore[method-assign]
    _run(server, use)


def test_a_body_cut_short_is_a_remote_protocol_error() -> None:
    async def cut(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\nonly this")
        await writer.drain()
        writer.close()

    server = CountingServer(lambda n, head: b"")
    server.serve = cut  # type: ignore[method-assign]

    async def use(client: httpx.AsyncClient, url: str) -> None:
        with pytest.raises(httpx.RemoteProtocolError):
            await client.get(url)

    _run(server, use)


def test_other_schemes_are_unsupported() -> None:
    async def use() -> None:
        async with make_client(Settings()) as client:
            with pytest.raises(httpx.UnsupportedProtocol):
                await client.get("ftp://127.0.0.1/column.html")

    asyncio.run(use())


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

    async def use(client: httpx.AsyncClient, url: str) -> None:
        assert (await client.get(url + "column")).content == b"consent wall"
        assert (await client.get(url + "consent")).status_code == 302
        assert (await client.get(url + "column")).content == b"the column itself"

    _run(server, use)


def test_https_through_the_transport_verifies_and_keeps_the_connection() -> None:
    tls_dir = Path(__file__).parents[2] / "fixtures" / "tls"  # self-signed for 127.0.0.1
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(tls_dir / "cert.pem", tls_dir / "key.pem")
    server = CountingServer(lambda n, head: _ok(b"over TLS %d" % n))

    async def use() -> None:
        listener = await asyncio.start_server(server.serve, "127.0.0.1", 0, ssl=server_tls)
        url = f"https://127.0.0.1:{listener.sockets[0].getsockname()[1]}/"
        trusting = HostConnections(
            AsyncioBackend(),
            lambda: ssl.create_default_context(cafile=str(tls_dir / "cert.pem")),
            2,
        )
        try:
            async with httpx.AsyncClient(transport=trusting) as client:
                assert (await client.get(url)).content == b"over TLS 1"
                assert (await client.get(url)).content == b"over TLS 2"
            strict = HostConnections(AsyncioBackend(), ssl.create_default_context, 2)
            async with httpx.AsyncClient(transport=strict) as client:
                with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
                    await client.get(url)
        finally:
            listener.close()

    asyncio.run(use())
    assert server.connections == 1  # the refused handshake never reached serve()
