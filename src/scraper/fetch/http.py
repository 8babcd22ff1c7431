"""The only module that knows httpx: one page fetched, streamed under a byte cap.

Retries, politeness and robots.txt are layered on top in `scraper.fetch.fetcher`.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import ssl
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin

import brotli
import httpcore
import httpx

from scraper.errors import (
    Blocked,
    FetchError,
    FetchTimeout,
    ForbiddenAddress,
    HTTPStatusError,
    NetworkError,
    NotHTML,
    TooLarge,
    TooManyRedirects,
)
from scraper.fetch.addresses import AddressPolicy, is_reserved_name
from scraper.fetch.connections import HostConnections
from scraper.fetch.streams import AsyncioBackend
from scraper.settings import Settings

Clock = Callable[[], datetime]
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_BLOCKING = frozenset({401, 403, 451})
HTML_TYPES = ("text/html", "application/xhtml+xml")


def utc_now() -> datetime:
    """The default clock."""
    # Whole seconds: the raw store's WARC-Date has no fraction, and re-cleaning from it
    # must give the same record as the fetch did.
    return datetime.now(UTC).replace(microsecond=0)


@dataclass(frozen=True)
class FetchedPage:
    """One final HTTP response, with the request that produced it."""

    url: str  # the URL asked for
    final_url: str  # after redirects
    status: int
    headers: list[tuple[str, str]]
    body: bytes
    fetched_at: datetime
    request_headers: list[tuple[str, str]] = field(default_factory=list)
    redirects: tuple[str, ...] = ()
    http_version: str = "HTTP/1.1"
    # "page" for an article fetch; "discovery" for robots.txt, feeds, sitemaps and listings,
    # which the raw store keeps too but `scraper reclean` must not clean as articles.
    purpose: str = "page"

    def header(self, name: str) -> str | None:
        """The first value of a response header (case-insensitive)."""
        name = name.lower()
        return next((value for key, value in self.headers if key.lower() == name), None)

    @property
    def content_type(self) -> str:
        return (self.header("content-type") or "").split(";")[0].strip().lower()


def address_policy(settings: Settings) -> AddressPolicy:
    """Where the settings let requests go."""
    return AddressPolicy(settings.allow_private_addresses, settings.treat_as_public)


class PeerRefused(Exception):
    """Raised at connect time when a name resolves to an address the policy forbids."""


class _GuardedBackend(httpcore.AsyncNetworkBackend):
    """Resolves each host itself, checks every address, then connects to a checked one.

    Connecting to the address that was checked (not the name again) leaves no gap for
    a DNS answer that changes between the check and the connection (DNS rebinding).
    """

    def __init__(self, policy: AddressPolicy) -> None:
        self.policy = policy
        self._inner = AsyncioBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Any = None,
    ) -> httpcore.AsyncNetworkStream:
        if is_reserved_name(host):
            raise httpcore.ConnectError(f"DNS lookup failed ({host} is a reserved name)")
        addresses = [host] if _canonical_address(host) else await self._resolve(host, port)
        refusal = self.policy.peer_refusal(host, addresses)
        if refusal is not None:
            raise PeerRefused(refusal)
        last: Exception = httpcore.ConnectError(f"no address for {host}")
        for address in addresses:
            try:
                return await self._inner.connect_tcp(
                    address, port, timeout, local_address, socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last = exc
            except (OSError, OverflowError, ValueError) as exc:  # anyio lets a few through
                last = httpcore.ConnectError(f"cannot connect to {address}:{port}: {exc}")
        raise last

    async def _resolve(self, host: str, port: int) -> list[str]:
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(
                host, port, type=socket.SOCK_STREAM
            )
        except (OSError, UnicodeError) as exc:  # UnicodeError: a label IDNA cannot encode
            detail = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
            raise httpcore.ConnectError(f"DNS lookup failed ({detail})") from exc
        return list(dict.fromkeys(str(info[4][0]) for info in infos))

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Any = None
    ) -> httpcore.AsyncNetworkStream:
        raise PeerRefused("unix sockets are not fetched")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


def _canonical_address(host: str) -> bool:
    """True for an IP address in its standard form, which needs no resolver (nor its
    thread pool, ~10 ms per connection); other numeric forms (127.1, 2130706433) do."""
    try:
        return str(ipaddress.ip_address(host)) == host
    except ValueError:
        return False


class _PoolPerHost(HostConnections):
    """The client's transport: keep-alive connections per origin, to checked addresses only.

    One httpcore pool of 40 connections spent ~40 % of the fetch CPU at 800 pages/s on
    loopback (it walks every connection on each request and response); pools per host
    fixed that, and `HostConnections` then dropped httpcore's remaining overhead.
    """

    def __init__(
        self,
        keepalive_per_host: int,
        idle_expiry: float = 5.0,
        policy: AddressPolicy | None = None,
    ) -> None:
        # One TLS context for all origins, made at the first https connection: reading the
        # CA bundle takes ~50 ms, which a run over plain http need not spend.
        super().__init__(
            _GuardedBackend(policy or AddressPolicy()),
            httpx.create_ssl_context,
            keepalive_per_host,
            idle_expiry,
        )


def make_client(settings: Settings) -> httpx.AsyncClient:
    """The one async client of a run: pooled per host, no automatic redirects (we follow)."""
    timeouts = settings.timeouts
    return httpx.AsyncClient(
        # Only the encodings _BoundedDecoder can cap; httpx would add zstd when installed.
        headers={"User-Agent": settings.user_agent, "Accept-Encoding": "gzip, deflate, br"},
        timeout=httpx.Timeout(timeouts.read, connect=timeouts.connect, pool=timeouts.total),
        follow_redirects=False,
        transport=_PoolPerHost(
            keepalive_per_host=max(4, settings.politeness.per_host_concurrency),
            policy=address_policy(settings),
        ),
        trust_env=False,
    )


class _BoundedDecoder:
    """Content-Encoding decoding that never produces more than ``limit`` bytes.

    httpx decodes each raw chunk in one call, so a 64 KB chunk of a gzip bomb becomes
    64 MB in memory before any cap can look at it; here zlib's ``max_length`` and brotli's
    ``output_buffer_limit`` stop the expansion at the cap.
    """

    def __init__(self, encoding: str, url: str, limit: int) -> None:
        self.encoding = encoding
        self.url = url
        self.left = limit
        self.limit = limit
        self._zlib: zlib._Decompress | None = None
        self._brotli: Any = None
        if encoding in ("gzip", "x-gzip"):
            self._zlib = zlib.decompressobj(zlib.MAX_WBITS | 16)
        elif encoding == "deflate":
            self._zlib = zlib.decompressobj()
            self._first = True
        elif encoding == "br":
            self._brotli = brotli.Decompressor()

    def _over(self) -> TooLarge:
        return TooLarge(self.url, f"decompressed body over the cap of {self.limit} bytes")

    def decode(self, data: bytes) -> bytes:
        try:
            if self._zlib is not None:
                out = self._inflate(data)
            elif self._brotli is not None:
                out = self._brotli.process(data, output_buffer_limit=self.left + 1)
            else:
                out = data
        except (zlib.error, brotli.error) as exc:
            raise NetworkError(self.url, f"cannot decode {self.encoding} body: {exc}") from None
        self.left -= len(out)
        if self.left < 0:
            raise self._over()
        return out

    def _inflate(self, data: bytes) -> bytes:
        assert self._zlib is not None
        if self.encoding == "deflate" and self._first:
            self._first = False
            try:  # "deflate" is zlib-wrapped by the standard, raw deflate by some servers
                return self._zlib.decompress(data, self.left + 1)
            except zlib.error:
                self._zlib = zlib.decompressobj(-zlib.MAX_WBITS)
        return self._zlib.decompress(data, self.left + 1)


async def _read_capped(response: httpx.Response, url: str, max_bytes: int) -> bytes:
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise TooLarge(url, f"Content-Length {declared} is over the cap of {max_bytes} bytes")
    encoding = response.headers.get("content-encoding", "identity").strip().lower()
    decoder = _BoundedDecoder(encoding, url, max_bytes)
    chunks: list[bytes] = []
    async for raw in response.aiter_raw():
        chunks.append(decoder.decode(raw))
    return b"".join(chunks)


def _refuse_content_type(response: httpx.Response, url: str, accept: tuple[str, ...]) -> None:
    """Stop before the body when the response declares a type the caller does not want."""
    if not accept or response.status_code != 200:
        return
    declared = response.headers.get("content-type", "")
    kind = declared.split(";")[0].strip().lower()
    if kind and not kind.startswith(accept):
        raise NotHTML(url, f"content type {kind!r} is not {' or '.join(accept)}", status=200)


async def _fetch_following_redirects(
    client: httpx.AsyncClient,
    url: str,
    settings: Settings,
    headers: Mapping[str, str],
    clock: Clock,
    accept: tuple[str, ...],
    referrer: str | None,
) -> FetchedPage:
    seen: list[str] = []
    current = url
    previous = referrer
    policy = address_policy(settings)
    while True:
        refusal = policy.hop_refusal(previous, current)
        if refusal is not None:
            raise ForbiddenAddress(url, refusal)
        if current in seen:
            raise TooManyRedirects(url, f"redirect loop back to {current}")
        seen.append(current)
        request = client.build_request("GET", current, headers=dict(headers))
        response = await client.send(request, stream=True)
        try:
            location = response.headers.get("location")
            if response.status_code in _REDIRECTS and location:
                if len(seen) > settings.limits.max_redirects:
                    raise TooManyRedirects(
                        url, f"more than {settings.limits.max_redirects} redirects"
                    )
                previous, current = current, urljoin(current, location.strip())
                continue
            _refuse_content_type(response, url, accept)
            body = await _read_capped(response, url, settings.limits.max_bytes)
            return FetchedPage(
                url=url,
                final_url=current,
                status=response.status_code,
                headers=list(response.headers.multi_items()),
                body=body,
                fetched_at=clock(),
                request_headers=list(request.headers.multi_items()),
                redirects=tuple(seen[:-1]),
                http_version=response.http_version,
            )
        finally:
            await response.aclose()


async def fetch_page(
    client: httpx.AsyncClient,
    url: str,
    settings: Settings,
    *,
    headers: Mapping[str, str] | None = None,
    clock: Clock = utc_now,
    accept: tuple[str, ...] = (),
    referrer: str | None = None,
) -> FetchedPage:
    """Fetch ``url`` once (no retry), following redirects, under the total deadline.

    ``referrer`` is the page that linked to ``url``: a public page may not lead into a
    private network (unless ``settings.allow_private_addresses``).

    Returns the final response whatever its status; `check_article_response` judges it.
    With ``accept`` (content-type prefixes such as `HTML_TYPES`), a 200 of another
    declared type raises `NotHTML` before its body is read.

    Raises:
        FetchError: network failure, timeout, redirect problem, forbidden hop or size cap.
    """
    try:
        async with asyncio.timeout(settings.timeouts.total):
            return await _fetch_following_redirects(
                client, url, settings, headers or {}, clock, accept, referrer
            )
    except TimeoutError:
        raise FetchTimeout(
            url, f"no complete response within {settings.timeouts.total:g} s"
        ) from None
    except httpx.TimeoutException as exc:
        raise FetchTimeout(url, f"{type(exc).__name__.lower()}: {exc or 'timed out'}") from None
    except httpx.UnsupportedProtocol as exc:
        raise ForbiddenAddress(url, str(exc)) from None
    except PeerRefused as exc:
        raise ForbiddenAddress(url, str(exc)) from None
    except httpx.InvalidURL as exc:
        # Also raised inside send() for a redirect to a URL httpx cannot build (data:,
        # a malformed Location): asking again would fail the same way.
        raise ForbiddenAddress(url, f"cannot request that URL ({exc})") from None
    except httpx.TransportError as exc:
        raise NetworkError(url, _describe(exc)) from None


def _describe(exc: Exception) -> str:
    """A short cause for a transport error (httpx often hides the OS error in the chain)."""
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, socket.gaierror):
            return f"DNS lookup failed ({cause.strerror or cause})"
        if isinstance(cause, ConnectionRefusedError):
            return "connection refused"
        if isinstance(cause, ConnectionResetError):
            return "connection reset by peer"
        if isinstance(cause, ssl.SSLError):
            return f"TLS error ({cause.reason or cause})"
        cause = cause.__cause__ or cause.__context__
    text = str(exc) or type(exc).__name__
    if "Name or service not known" in text or "Temporary failure in name resolution" in text:
        return f"DNS lookup failed ({text})"
    return text


def check_article_response(page: FetchedPage) -> None:
    """Raise the right `FetchError` unless ``page`` is a successful HTML response."""
    if page.status in _BLOCKING:
        raise Blocked(page.url, f"HTTP {page.status}: the site refused access", status=page.status)
    if page.status >= 400:
        raise HTTPStatusError(page.url, f"HTTP {page.status}", status=page.status)
    if page.status != 200:
        raise HTTPStatusError(page.url, f"unexpected HTTP {page.status}", status=page.status)
    if page.content_type and not page.content_type.startswith(HTML_TYPES):
        raise NotHTML(page.url, f"content type {page.content_type!r} is not HTML", status=200)
    head = page.body[:512].lstrip().lower()
    if not page.content_type and not head.startswith((b"<!doctype html", b"<html", b"<")):
        raise NotHTML(page.url, "no content type, and the body does not look like HTML")


__all__ = [
    "HTML_TYPES",
    "Clock",
    "FetchError",
    "FetchedPage",
    "check_article_response",
    "fetch_page",
    "make_client",
    "utc_now",
]
