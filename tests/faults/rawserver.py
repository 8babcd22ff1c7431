"""A raw TCP server on 127.0.0.x whose routes write whatever bytes they like.

Fault tests need what a well-behaved HTTP server never does: reset a connection
mid-body, hang before the headers, drip one byte a second, lie about the length.
Each route gets the stream writer and writes the response itself, byte by byte if it
wants; the server counts the bytes it managed to send.
"""

from __future__ import annotations

import asyncio
import socket
import struct
from collections import Counter
from collections.abc import Awaitable, Callable

from tests.scraper.loopback import AsyncTCPServer

Route = Callable[[asyncio.StreamWriter], Awaitable[None]]


def head(status: int, headers: list[tuple[str, str]] | None = None) -> bytes:
    """A status line and headers, as bytes."""
    lines = [f"HTTP/1.1 {status} Status"] + [f"{k}: {v}" for k, v in headers or []]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def reply(status: int, body: bytes = b"", headers: list[tuple[str, str]] | None = None) -> Route:
    """A complete response with a correct Content-Length."""

    async def route(writer: asyncio.StreamWriter) -> None:
        writer.write(head(status, [*(headers or []), ("Content-Length", str(len(body)))]) + body)
        await writer.drain()

    return route


def redirect(location: str, status: int = 302) -> Route:
    """A redirect whose Location is sent as UTF-8 bytes, as servers send non-ASCII ones."""

    async def route(writer: asyncio.StreamWriter) -> None:
        writer.write(
            f"HTTP/1.1 {status} Found\r\n".encode()
            + b"Location: "
            + location.encode("utf-8")
            + b"\r\nContent-Length: 0\r\n\r\n"
        )
        await writer.drain()

    return route


def html(text: str, charset: str | None = "utf-8") -> Route:
    kind = "text/html" + (f"; charset={charset}" if charset else "")
    return reply(200, text.encode("utf-8"), [("Content-Type", kind)])


def reset(writer: asyncio.StreamWriter) -> None:
    """Close with an RST instead of a FIN: the peer sees ECONNRESET."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


def drip(interval: float) -> Route:
    """A 200 that promises 100,000 bytes and sends one every ``interval`` seconds, forever."""

    async def route(writer: asyncio.StreamWriter) -> None:
        writer.write(head(200, [("Content-Type", "text/html"), ("Content-Length", "100000")]))
        while True:
            writer.write(b"x")
            await writer.drain()
            await asyncio.sleep(interval)

    return route


class TaskServer(AsyncTCPServer):
    """A server whose connections (one task each) are cancelled when it stops."""

    def __init__(self, host: str) -> None:
        super().__init__(host)
        self._tasks: set[asyncio.Task[None]] = set()

    def _drop_connections(self) -> None:
        for task in list(self._tasks):
            task.cancel()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            await self._handle(reader, writer)
        finally:
            self._tasks.discard(task)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        raise NotImplementedError


class RawServer(TaskServer):
    """``async with RawServer(routes) as server:``; unknown paths get a 404."""

    def __init__(self, routes: dict[str, Route], host: str = "127.0.0.1") -> None:
        super().__init__(host)
        self.routes = routes
        self.hits: Counter[str] = Counter()
        self.sent = 0  # body and head bytes written by routes, for "it stopped early" checks

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        counting = _Counting(writer, self)
        try:
            while True:
                request = await reader.readuntil(b"\r\n\r\n")
                path = request.split(b" ", 2)[1].decode("latin-1")
                self.hits[path] += 1
                route = self.routes.get(path, reply(404, b"not found"))
                await route(counting)  # type: ignore[arg-type]
                if writer.is_closing():
                    break
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()


class _Counting:
    """A stream writer that counts what it writes."""

    def __init__(self, writer: asyncio.StreamWriter, server: RawServer) -> None:
        self._writer = writer
        self._server = server

    def write(self, data: bytes) -> None:
        self._server.sent += len(data)
        self._writer.write(data)

    def __getattr__(self, name: str) -> object:
        return getattr(self._writer, name)
