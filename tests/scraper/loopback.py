"""A tiny HTTP/1.1 server on 127.0.0.x for fetcher tests, run in the test's own event loop.

Routes map a path to a function of the request that returns a `Reply`. The server
counts requests per path and measures the largest number in flight, which a test
of politeness must see from the server's side, not the client's.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Self


@dataclass
class Seen:
    """One request as the server received it."""

    method: str
    path: str
    headers: dict[str, str]
    at: float  # time.monotonic() when the request line arrived


@dataclass
class Reply:
    status: int = 200
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    chunks: list[bytes] | None = None  # sent one by one, then the connection closes
    delay: float = 0.0  # before the status line
    hang: bool = False  # never answer

    @classmethod
    def html(cls, text: str, **kwargs: object) -> Reply:
        reply = cls(body=text.encode(), **kwargs)  # type: ignore[arg-type]
        reply.headers.append(("Content-Type", "text/html; charset=utf-8"))
        return reply


Handler = Callable[[Seen], Reply | Awaitable[Reply]]
_PHRASES = {200: "OK", 301: "Moved", 302: "Found", 304: "Not Modified", 404: "Not Found"}


class AsyncTCPServer:
    """Start, stop and addresses of an asyncio test server on 127.0.0.x; subclasses serve."""

    def __init__(self, host: str) -> None:
        self.host = host
        self.port = 0
        self._server: asyncio.Server | None = None

    def url(self, path: str) -> str:
        return f"http://{self.host}:{self.port}{path}"

    async def __aenter__(self) -> Self:
        self._server = await asyncio.start_server(self._serve, self.host, 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        self._drop_connections()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._server.wait_closed(), 1)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        raise NotImplementedError

    def _drop_connections(self) -> None:
        """End the connections still open when the server stops."""


class LoopbackServer(AsyncTCPServer):
    """``async with LoopbackServer(routes) as server:``; unknown paths answer 404."""

    def __init__(self, routes: dict[str, Handler], host: str = "127.0.0.1") -> None:
        super().__init__(host)
        self.routes = routes
        self.seen: list[Seen] = []
        self.hits: Counter[str] = Counter()
        self.in_flight = 0
        self.max_in_flight = 0
        self._writers: set[asyncio.StreamWriter] = set()

    def _drop_connections(self) -> None:
        for writer in list(self._writers):
            writer.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                method, target, _ = lines[0].split(" ", 2)
                headers = {}
                for line in lines[1:]:
                    if ":" in line:
                        name, value = line.split(":", 1)
                        headers[name.strip().lower()] = value.strip()
                seen = Seen(method, target, headers, time.monotonic())
                self.seen.append(seen)
                self.hits[target] += 1
                self.in_flight += 1
                self.max_in_flight = max(self.max_in_flight, self.in_flight)
                try:
                    keep_open = await self._answer(seen, writer)
                finally:
                    self.in_flight -= 1
                if not keep_open:
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            self._writers.discard(writer)
            writer.close()

    async def _answer(self, seen: Seen, writer: asyncio.StreamWriter) -> bool:
        handler = self.routes.get(seen.path)
        if handler is None:
            reply = Reply(404, [("Content-Type", "text/plain")], b"not found")
        else:
            result = handler(seen)
            reply = await result if isinstance(result, Awaitable) else result
        if reply.hang:
            await asyncio.sleep(3600)
        if reply.delay:
            await asyncio.sleep(reply.delay)
        head = [f"HTTP/1.1 {reply.status} {_PHRASES.get(reply.status, 'Status')}"]
        head += [f"{name}: {value}" for name, value in reply.headers]
        if reply.chunks is None:
            head.append(f"Content-Length: {len(reply.body)}")
        else:
            head.append("Connection: close")
        writer.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1"))
        if reply.chunks is None:
            writer.write(reply.body)
            await writer.drain()
            return True
        for chunk in reply.chunks:
            writer.write(chunk)
            await writer.drain()
            await asyncio.sleep(0)
        return False
