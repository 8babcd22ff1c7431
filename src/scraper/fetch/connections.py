"""The httpx client's transport: keep-alive HTTP/1.1 connections per origin, spoken with h11.

httpx hands each request to its transport; its default one goes through httpcore, whose
pool, locks (anyio), tracing hooks and four layers of byte streams cost about a fifth of
the fetch CPU at hundreds of pages/s, for features a crawler of HTML pages does not use
(HTTP/2, proxies, connection sharing between concurrent requests). This transport keeps
what the fetcher needs: per-origin keep-alive connections, idle ones checked before reuse
and closed after the expiry, timeouts from the request, TLS, h11 for the protocol, and
httpx's own exceptions. The connecting itself (name resolution, the address check,
the socket) is the network backend's, as with httpcore.
"""

from __future__ import annotations

import ssl
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import h11
import httpcore
import httpx

_READ_BYTES = 64 * 1024
_MAX_HEAD = 100 * 1024  # the largest response head h11 will buffer, as httpcore allows
_NETWORK_ERRORS = (httpcore.TimeoutException, httpcore.NetworkError, h11.ProtocolError)
_MAPPED: list[tuple[type[Exception], type[httpx.TransportError]]] = [
    (httpcore.ConnectTimeout, httpx.ConnectTimeout),
    (httpcore.ReadTimeout, httpx.ReadTimeout),
    (httpcore.WriteTimeout, httpx.WriteTimeout),
    (httpcore.TimeoutException, httpx.TimeoutException),
    (httpcore.ConnectError, httpx.ConnectError),
    (httpcore.ReadError, httpx.ReadError),
    (httpcore.WriteError, httpx.WriteError),
    (h11.RemoteProtocolError, httpx.RemoteProtocolError),
    (h11.LocalProtocolError, httpx.LocalProtocolError),
]
Origin = tuple[bytes, bytes, int]


def _httpx_error(exc: Exception, request: httpx.Request) -> httpx.TransportError:
    kind = next((ours for theirs, ours in _MAPPED if isinstance(exc, theirs)), None)
    kind = kind or httpx.NetworkError
    return kind(str(exc) or type(exc).__name__, request=request)


class _Connection:
    """One HTTP/1.1 connection and its h11 state."""

    def __init__(self, stream: httpcore.AsyncNetworkStream) -> None:
        self.stream = stream
        self.h11 = h11.Connection(h11.CLIENT, max_incomplete_event_size=_MAX_HEAD)
        self.idle_since = 0.0

    async def next_event(self, read_timeout: float | None) -> Any:
        """The next h11 event, reading from the network as it needs."""
        while True:
            event = self.h11.next_event()
            if event is not h11.NEED_DATA:
                return event
            self.h11.receive_data(await self.stream.read(_READ_BYTES, read_timeout))


class HostConnections(httpx.AsyncBaseTransport):
    """Keep-alive connections per origin (scheme, host, port), for one `httpx.AsyncClient`.

    A connection serves one request at a time; a request finding no idle connection to
    its origin opens one (the fetcher bounds how many per host). Up to
    ``keepalive_per_host`` idle connections per origin are kept for ``idle_expiry``
    seconds; a crawl over thousands of hosts does not keep thousands of sockets open.
    """

    def __init__(
        self,
        backend: httpcore.AsyncNetworkBackend,
        tls: Callable[[], ssl.SSLContext],
        keepalive_per_host: int,
        idle_expiry: float = 5.0,
    ) -> None:
        self._backend = backend
        self._make_tls = tls
        self._tls: ssl.SSLContext | None = None  # made at the first https connection
        self._keepalive = keepalive_per_host
        self._idle_expiry = idle_expiry
        self._idle: dict[Origin, list[_Connection]] = {}
        self._busy: set[_Connection] = set()
        self._next_sweep = 0.0

    @property
    def pool_count(self) -> int:
        """Origins with an idle connection kept open."""
        return len(self._idle)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        if url.scheme not in ("http", "https"):
            raise httpx.UnsupportedProtocol(f"unsupported URL scheme {url.scheme!r}")
        timeouts = request.extensions.get("timeout", {})
        now = time.monotonic()
        if now >= self._next_sweep:
            await self._sweep(now)
        origin = (url.raw_scheme, url.raw_host, url.port or (443 if url.scheme == "https" else 80))
        connection = await self._idle_connection(origin, now)
        if connection is None:
            connection = await self._connect(request, origin, timeouts.get("connect"))
        self._busy.add(connection)
        try:
            head = await self._exchange(connection, request, timeouts)
        except BaseException as exc:
            await self._close(connection)
            if isinstance(exc, _NETWORK_ERRORS):
                raise _httpx_error(exc, request) from exc
            raise
        return httpx.Response(
            status_code=head.status_code,
            headers=head.headers.raw_items(),
            stream=_Body(self, connection, origin, request, timeouts.get("read")),
            extensions={
                "http_version": b"HTTP/" + head.http_version,
                "reason_phrase": head.reason,
            },
        )

    async def _idle_connection(self, origin: Origin, now: float) -> _Connection | None:
        idle = self._idle.get(origin)
        while idle:
            connection = idle.pop()  # the most recently used: least likely closed by now
            if not idle:
                del self._idle[origin]
            # Readable while idle: the server closed it (or sent bytes nobody asked for).
            if now - connection.idle_since < self._idle_expiry and not (
                connection.stream.get_extra_info("is_readable")
            ):
                return connection
            await connection.stream.aclose()
            idle = self._idle.get(origin)
        return None

    async def _connect(
        self, request: httpx.Request, origin: Origin, timeout: float | None
    ) -> _Connection:
        host = origin[1].decode("ascii")
        try:
            stream = await self._backend.connect_tcp(host, origin[2], timeout=timeout)
            if origin[0] == b"https":
                stream = await stream.start_tls(
                    self._context(), server_hostname=host, timeout=timeout
                )
        except _NETWORK_ERRORS as exc:
            raise _httpx_error(exc, request) from exc
        return _Connection(stream)

    def _context(self) -> ssl.SSLContext:
        """The one TLS context of all origins (each new one re-reads the CA bundle, ~50 ms)."""
        if self._tls is None:
            self._tls = self._make_tls()
            self._tls.set_alpn_protocols(["http/1.1"])
        return self._tls

    async def _exchange(
        self, connection: _Connection, request: httpx.Request, timeouts: dict[str, Any]
    ) -> h11.Response:
        """Send ``request`` and read the response head (the body is read as it is streamed)."""
        h11_request = h11.Request(
            method=request.method, target=request.url.raw_path, headers=request.headers.raw
        )
        write = timeouts.get("write")
        await connection.stream.write(connection.h11.send(h11_request) or b"", write)
        assert isinstance(request.stream, httpx.AsyncByteStream)
        async for chunk in request.stream:
            if chunk:
                await connection.stream.write(connection.h11.send(h11.Data(chunk)) or b"", write)
        await connection.stream.write(connection.h11.send(h11.EndOfMessage()) or b"", write)
        while True:
            event = await connection.next_event(timeouts.get("read"))
            if isinstance(event, h11.Response):
                return event
            if not isinstance(event, h11.InformationalResponse):  # 1xx: the real one follows
                raise httpx.RemoteProtocolError(
                    "server disconnected without sending a response", request=request
                )

    async def release(self, connection: _Connection, origin: Origin, complete: bool) -> None:
        """A response body was closed: keep its connection for the next request, or close it."""
        self._busy.discard(connection)
        state = connection.h11
        if complete and state.our_state is h11.DONE and state.their_state is h11.DONE:
            idle = self._idle.setdefault(origin, [])
            if len(idle) < self._keepalive:
                state.start_next_cycle()
                connection.idle_since = time.monotonic()
                idle.append(connection)
                return
        await connection.stream.aclose()

    async def _close(self, connection: _Connection) -> None:
        self._busy.discard(connection)
        await connection.stream.aclose()

    async def _sweep(self, now: float) -> None:
        """Close the connections idle for longer than the expiry (their origins with them)."""
        self._next_sweep = now + self._idle_expiry
        for origin, idle in list(self._idle.items()):
            for connection in [c for c in idle if now - c.idle_since >= self._idle_expiry]:
                idle.remove(connection)
                await connection.stream.aclose()
            if not idle:
                del self._idle[origin]

    async def aclose(self) -> None:
        connections = [c for idle in self._idle.values() for c in idle] + list(self._busy)
        self._idle, self._busy = {}, set()
        for connection in connections:
            await connection.stream.aclose()


class _Body(httpx.AsyncByteStream):
    """A response body read from its connection as it is iterated; closing releases it."""

    def __init__(
        self,
        pool: HostConnections,
        connection: _Connection,
        origin: Origin,
        request: httpx.Request,
        read_timeout: float | None,
    ) -> None:
        self._pool = pool
        self._connection: _Connection | None = connection
        self._origin = origin
        self._request = request
        self._read_timeout = read_timeout
        self._complete = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        connection = self._connection
        if connection is None:
            raise httpx.StreamClosed()
        try:
            while True:
                event = await connection.next_event(self._read_timeout)
                if isinstance(event, h11.Data):
                    yield bytes(event.data)
                elif isinstance(event, h11.EndOfMessage):
                    self._complete = True
                    return
                else:
                    raise httpx.RemoteProtocolError(
                        "server disconnected in the middle of the body", request=self._request
                    )
        except _NETWORK_ERRORS as exc:
            raise _httpx_error(exc, self._request) from exc

    async def aclose(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            await self._pool.release(connection, self._origin, self._complete)


__all__ = ["HostConnections"]
