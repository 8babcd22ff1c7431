"""A small real HTTP proxy on 127.0.0.x for tests: forwards ``GET http://...`` requests
(one fresh upstream connection each, Content-Length bodies) and tunnels ``CONNECT``."""

from __future__ import annotations

import asyncio
import contextlib

from tests.faults.rawserver import TaskServer


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, asyncio.CancelledError):
        pass
    finally:
        writer.close()


def _length(head: bytes) -> int:
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value.strip())
    return 0


class Proxy(TaskServer):
    """``async with Proxy() as proxy:``; ``proxy.seen`` holds each request line received."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        super().__init__(host)
        self.seen: list[str] = []

    @property
    def address(self) -> str:
        return self.url("").rstrip("/")

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                line = head.split(b"\r\n", 1)[0].decode("latin-1")
                self.seen.append(line)
                method, target, _ = line.split(" ", 2)
                if method == "CONNECT":
                    await self._tunnel(target, reader, writer)
                    return
                await self._forward(target, head, writer)
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()

    async def _tunnel(
        self, target: str, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        host, _, port = target.rpartition(":")
        up_reader, up_writer = await asyncio.open_connection(host.strip("[]"), int(port))
        writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
        await writer.drain()
        await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))

    async def _forward(self, target: str, head: bytes, writer: asyncio.StreamWriter) -> None:
        rest = target.split("://", 1)[1]
        authority, _, path = rest.partition("/")
        host, _, port = authority.rpartition(":")
        lines = head.split(b"\r\n")
        method = lines[0].split(b" ", 1)[0]
        kept = [
            line
            for line in lines[1:]
            if line and not line.lower().startswith((b"proxy-", b"connection:"))
        ]
        upstream = b"\r\n".join(
            [method + b" /" + path.encode("latin-1") + b" HTTP/1.1", *kept, b"Connection: close"]
        )
        up_reader, up_writer = await asyncio.open_connection(host.strip("[]"), int(port or 80))
        try:
            up_writer.write(upstream + b"\r\n\r\n")
            await up_writer.drain()
            answer = await up_reader.readuntil(b"\r\n\r\n")
            body = await up_reader.readexactly(_length(answer))
            writer.write(answer + body)
            await writer.drain()
        finally:
            up_writer.close()
            with contextlib.suppress(ConnectionError):
                await up_writer.wait_closed()
