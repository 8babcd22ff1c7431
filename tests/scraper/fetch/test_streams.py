"""The asyncio network backend under httpcore: TLS, keep-alive, a closed idle connection,
timeouts and a body bigger than the read buffer, against real servers on 127.0.0.1."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpcore
import pytest

from scraper.fetch.streams import AsyncioBackend

TLS = Path(__file__).parents[2] / "fixtures" / "tls"  # self-signed for 127.0.0.1
Serve = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


def _answer(body: bytes, *, close: bool = False) -> bytes:
    extra = b"Connection: close\r\n" if close else b""
    return b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n%s\r\n%s" % (len(body), extra, body)


async def _requests(reader: asyncio.StreamReader) -> int:
    """Read one request head; 0 when the client closed instead."""
    try:
        await reader.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, ConnectionError):
        return 0
    return 1


async def _with_server(
    serve: Serve, use: Callable[[str], Awaitable[None]], tls: ssl.SSLContext | None = None
) -> None:
    async def serve_then_close(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await serve(reader, writer)
        finally:
            writer.close()

    server = await asyncio.start_server(serve_then_close, "127.0.0.1", 0, ssl=tls)
    port = server.sockets[0].getsockname()[1]
    try:
        await use(f"{'https' if tls else 'http'}://127.0.0.1:{port}/")
    finally:
        server.close()


def _pool(**options: object) -> httpcore.AsyncConnectionPool:
    return httpcore.AsyncConnectionPool(network_backend=AsyncioBackend(), **options)  # type: ignore[arg-type]


def test_https_keeps_one_connection_alive_for_several_requests() -> None:
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(TLS / "cert.pem", TLS / "key.pem")
    client_tls = ssl.create_default_context(cafile=str(TLS / "cert.pem"))
    connections = 0

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        while await _requests(reader):
            writer.write(_answer(b"the harbour ferry is late again"))
        writer.close()

    async def use(url: str) -> None:
        async with _pool(ssl_context=client_tls) as pool:
            for _ in range(3):
                response = await pool.request("GET", url)
                assert response.status == 200
                assert response.content == b"the harbour ferry is late again"
            (connection,) = pool.connections
            ssl_object = connection._connection._network_stream.get_extra_info("ssl_object")  # type: ignore[union-attr]
            assert ssl_object.version().startswith("TLS")

    asyncio.run(_with_server(serve, use, tls=server_tls))
    assert connections == 1


def test_a_certificate_nobody_trusts_fails_the_connection() -> None:
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(TLS / "cert.pem", TLS / "key.pem")

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _requests(reader)
        writer.close()

    async def use(url: str) -> None:
        async with _pool(ssl_context=ssl.create_default_context()) as pool:
            with pytest.raises(httpcore.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
                await pool.request("GET", url)

    asyncio.run(_with_server(serve, use, tls=server_tls))


def test_an_idle_connection_the_server_closed_is_not_reused() -> None:
    connections = 0

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        if await _requests(reader):
            writer.write(_answer(b"one answer, then the server hangs up"))
            await writer.drain()
        writer.close()  # without saying "Connection: close": the client must notice the FIN

    async def use(url: str) -> None:
        async with _pool() as pool:
            for _ in range(3):
                response = await pool.request("GET", url)
                assert response.content == b"one answer, then the server hangs up"
                await asyncio.sleep(0.05)  # the FIN arrives while the connection is idle

    asyncio.run(_with_server(serve, use))
    assert connections == 3


def test_no_answer_is_a_read_timeout() -> None:
    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _requests(reader)
        await asyncio.sleep(5)

    async def use(url: str) -> None:
        async with _pool() as pool:
            started = asyncio.get_running_loop().time()
            with pytest.raises(httpcore.ReadTimeout):
                await pool.request("GET", url, extensions={"timeout": {"read": 0.2}})
            assert asyncio.get_running_loop().time() - started < 2

    asyncio.run(_with_server(serve, use))


def test_a_body_larger_than_the_read_buffer_arrives_whole() -> None:
    body = bytes(range(256)) * 12_000  # ~3 MB: reading pauses and resumes on the way

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _requests(reader)
        writer.write(_answer(body, close=True))
        await writer.drain()
        writer.close()

    async def use(url: str) -> None:
        async with _pool() as pool, pool.stream("GET", url) as response:
            received = bytearray()
            async for chunk in response.aiter_stream():
                received += chunk
                await asyncio.sleep(0)  # a slow consumer: data piles up in the protocol
            assert bytes(received) == body

    asyncio.run(_with_server(serve, use))


def test_connection_refused_is_a_connect_error() -> None:
    async def use() -> None:
        backend = AsyncioBackend()
        with pytest.raises(httpcore.ConnectError, match=r"cannot connect to 127\.0\.0\.1:1"):
            await backend.connect_tcp("127.0.0.1", 1, timeout=2)

    asyncio.run(use())
