"""The only module that knows HTTP (aiohttp): one page fetched, streamed under a byte cap.

Retries, politeness and robots.txt are layered on top in `scraper.fetch.fetcher`.

Where a request may go is decided in three places, all by `AddressPolicy` and all on the
host as aiohttp will use it (yarl's IDNA/UTS-46 form, see `addresses.url_host`):
before each hop (`hop_refusal`: scheme, literal private addresses, local names), when a
name is resolved (`_GuardedResolver`: every address it resolves to), and when a socket is
made (`_GuardedResolver.socket_for`: the address connected to, literals included). The
connection goes to an address that was checked, so a DNS answer that changes between the
check and the connection (DNS rebinding) gains nothing.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import urllib.request
from collections.abc import Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self, TypeVar
from urllib.parse import urljoin

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from yarl import URL

from scraper.clock import Clock, utc_now
from scraper.errors import (
    FetchError,
    FetchTimeout,
    ForbiddenAddress,
    NetworkError,
    NotHTML,
    TooLarge,
    TooManyRedirects,
)
from scraper.fetch.addresses import AddressPolicy, is_ip_literal, is_reserved_name, parse_url
from scraper.fetch.encodings import BoundedDecoder
from scraper.fetch.page import FetchedPage
from scraper.settings import Settings

_REDIRECTS = frozenset({301, 302, 303, 307, 308})
# Real pages send long Content-Security-Policy and Set-Cookie lines; aiohttp's default
# (8 KB a line) would turn them into network errors.
_MAX_HEADER_LINE = 64 * 1024
_E = TypeVar("_E", bound=BaseException)


def address_policy(settings: Settings) -> AddressPolicy:
    """Where the settings let requests go."""
    return AddressPolicy(settings.allow_private_addresses, settings.treat_as_public)


class PeerRefused(OSError):
    """Raised at connect time when a name resolves to (or a socket would reach) an address
    the policy forbids; an OSError so that aiohttp carries it out as the cause."""


@dataclass(frozen=True)
class _Hop:
    """What the connect-time checks must know about the request being sent."""

    private_ok: bool = False  # the URL names a private host and the hop to it was allowed
    via_proxy: bool = False  # the connection is to the user's proxy, not to the target


# Set around each request by `_send`; the default (nothing allowed) holds for any other use.
_STRICT = _Hop()
_HOP: ContextVar[_Hop] = ContextVar("scraper_hop", default=_STRICT)


class _GuardedResolver(AbstractResolver):
    """Resolves each name once, checks every address, and checks each socket's address."""

    def __init__(self, policy: AddressPolicy) -> None:
        self.policy = policy

    async def lookup(self, host: str, port: int, family: int = socket.AF_UNSPEC) -> list[Any]:
        """getaddrinfo's answers for ``host``, or an OSError naming the DNS failure."""
        if is_reserved_name(host):
            raise OSError(f"DNS lookup failed ({host} is a reserved name)")
        try:
            return await asyncio.get_running_loop().getaddrinfo(
                host, port, family=family, type=socket.SOCK_STREAM
            )
        except (OSError, UnicodeError) as exc:  # UnicodeError: a label IDNA cannot encode
            detail = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
            raise OSError(f"DNS lookup failed ({detail})") from exc

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        infos = await self.lookup(host, port, family)
        if not _HOP.get().via_proxy:
            refusal = self.policy.peer_refusal(host, [str(info[4][0]) for info in infos])
            if refusal is not None:
                raise PeerRefused(refusal)
        flags = socket.AI_NUMERICHOST | socket.AI_NUMERICSERV
        return [
            ResolveResult(
                hostname=host,
                host=str(info[4][0]),
                port=int(info[4][1]),
                family=info[0],
                proto=info[2],
                flags=flags,
            )
            for info in infos
        ]

    async def close(self) -> None:
        return None

    def socket_for(self, addr_info: tuple[Any, ...]) -> socket.socket:
        """aiohttp's socket factory: the last check, on the very address connected to.

        IP literals never reach `resolve` (aiohttp connects to them directly), so a
        literal the hop check did not see as private is refused here.
        """
        family, kind, proto, _, address = addr_info
        hop = _HOP.get()
        if not (hop.via_proxy or hop.private_ok) and self.policy.is_private_address(
            str(address[0])
        ):
            raise PeerRefused(
                f"refusing to connect to the private address {address[0]}; "
                "set allow_private_addresses to fetch from private networks"
            )
        return socket.socket(family, kind, proto)


class Client:
    """The one HTTP client of a run: an aiohttp session with keep-alive per host, the
    address checks of `_GuardedResolver`, a cookie jar, and the proxy the user chose.

    Use as ``async with make_client(settings) as client:``; the session is opened at the
    first request, inside the running event loop.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        tls: ssl.SSLContext | None = None,
        idle_expiry: float = 5.0,
    ) -> None:
        self.settings = settings
        self.policy = address_policy(settings)
        self._resolver = _GuardedResolver(self.policy)
        self._tls = tls
        self._idle_expiry = idle_expiry
        self._session: aiohttp.ClientSession | None = None
        self._env_proxies = urllib.request.getproxies_environment() if settings.trust_env else {}

    def session(self) -> aiohttp.ClientSession:
        if self._session is None:
            timeouts = self.settings.timeouts
            connector = aiohttp.TCPConnector(
                resolver=self._resolver,
                socket_factory=self._resolver.socket_for,
                use_dns_cache=False,  # every new connection's addresses are checked afresh
                limit=0,  # the Fetcher bounds requests per host and in all
                keepalive_timeout=self._idle_expiry,
                ssl=self._tls or True,
            )
            self._session = aiohttp.ClientSession(
                connector=connector,
                # Only the encodings BoundedDecoder can cap.
                headers={
                    "User-Agent": self.settings.user_agent,
                    "Accept-Encoding": "gzip, deflate, br",
                },
                timeout=aiohttp.ClientTimeout(
                    total=None, sock_connect=timeouts.connect, sock_read=timeouts.read
                ),
                auto_decompress=False,  # BoundedDecoder decodes under the size cap
                cookie_jar=aiohttp.CookieJar(unsafe=True),  # IP-literal hosts keep cookies too
                max_line_size=_MAX_HEADER_LINE,
                max_field_size=_MAX_HEADER_LINE,
                trust_env=False,  # proxies only as `proxy_for` decides
            )
        return self._session

    def proxy_for(self, target: URL) -> str | None:
        """The proxy to send ``target`` through: the `proxy` setting, else (with
        ``trust_env``) ``HTTP(S)_PROXY`` unless ``NO_PROXY`` names the host."""
        if self.settings.proxy:
            return self.settings.proxy
        if not self._env_proxies or not target.raw_host:
            return None
        if urllib.request.proxy_bypass(target.raw_host):  # NO_PROXY
            return None
        return self._env_proxies.get(target.scheme)

    async def check_proxied_target(self, target: URL) -> None:
        """Through a proxy the target is not connected by us: resolve it and check its
        addresses before sending. A name we cannot resolve is left to the proxy (behind
        many proxies only the proxy can resolve outside names)."""
        host = target.raw_host or ""
        if is_reserved_name(host):  # not even to the proxy, which would ask its DNS
            raise OSError(f"DNS lookup failed ({host} is a reserved name)")
        if self.policy.allow_private or is_ip_literal(host) or self.policy.is_private_host(host):
            return  # a literal or a local name: judged by the hop check
        try:
            infos = await self._resolver.lookup(host, target.port or 0)
        except OSError:
            return
        refusal = self.policy.peer_refusal(host, [str(info[4][0]) for info in infos])
        if refusal is not None:
            raise PeerRefused(refusal)

    async def aclose(self) -> None:
        if self._session is not None:
            session, self._session = self._session, None
            await session.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()


def make_client(
    settings: Settings, *, tls: ssl.SSLContext | None = None, idle_expiry: float = 5.0
) -> Client:
    """The one client of a run: pooled per host, no automatic redirects (we follow).

    ``tls`` replaces the default verifying TLS context (tests trust their own CA with it).
    """
    return Client(settings, tls=tls, idle_expiry=idle_expiry)


def _decode_headers(raw: tuple[tuple[bytes, bytes], ...]) -> list[tuple[str, str]]:
    """Header bytes as text: ASCII, else UTF-8, else Latin-1 (every byte maps)."""
    for encoding in ("ascii", "utf-8"):
        try:
            return [(k.decode(encoding), v.decode(encoding)) for k, v in raw]
        except UnicodeDecodeError:
            continue
    return [(k.decode("latin-1"), v.decode("latin-1")) for k, v in raw]


async def _read_capped(
    response: aiohttp.ClientResponse, headers: list[tuple[str, str]], url: str, max_bytes: int
) -> bytes:
    declared = _first(headers, "content-length") or ""
    if declared.isascii() and declared.isdigit() and int(declared) > max_bytes:
        raise TooLarge(url, f"Content-Length {declared} is over the cap of {max_bytes} bytes")
    decoder = BoundedDecoder(_first(headers, "content-encoding") or "", url, max_bytes)
    chunks: list[bytes] = []
    async for raw in response.content.iter_any():
        chunks.append(decoder.decode(raw))
    decoder.finish()
    return b"".join(chunks)


def _first(headers: list[tuple[str, str]], name: str) -> str | None:
    return next((value for key, value in headers if key.lower() == name), None)


def _refuse_content_type(
    status: int, headers: list[tuple[str, str]], url: str, accept: tuple[str, ...]
) -> None:
    """Stop before the body when the response declares a type the caller does not want."""
    if not accept or status != 200:
        return
    kind = (_first(headers, "content-type") or "").split(";")[0].strip().lower()
    if kind and not kind.startswith(accept):
        raise NotHTML(url, f"content type {kind!r} is not {' or '.join(accept)}", status=200)


async def _send(client: Client, current: str, headers: Mapping[str, str]) -> aiohttp.ClientResponse:
    """One request, with what the connect-time checks must know about it."""
    target = parse_url(current)
    proxy = client.proxy_for(target)
    if proxy is not None:
        await client.check_proxied_target(target)
    policy = client.policy
    hop = _Hop(
        private_ok=policy.allow_private or policy.is_private_host(target.raw_host or ""),
        via_proxy=proxy is not None,
    )
    token = _HOP.set(hop)
    try:
        return await client.session().get(
            target, headers=dict(headers), allow_redirects=False, proxy=proxy
        )
    finally:
        _HOP.reset(token)


async def _fetch_following_redirects(
    client: Client,
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
    policy = client.policy
    while True:
        refusal = policy.hop_refusal(previous, current)
        if refusal is not None:
            raise ForbiddenAddress(url, refusal)
        if current in seen:
            raise TooManyRedirects(url, f"redirect loop back to {current}")
        seen.append(current)
        response = await _send(client, current, headers)
        try:
            response_headers = _decode_headers(response.raw_headers)
            location = _first(response_headers, "location")
            if response.status in _REDIRECTS and location:
                if len(seen) > settings.limits.max_redirects:
                    raise TooManyRedirects(
                        url, f"more than {settings.limits.max_redirects} redirects"
                    )
                previous, current = current, urljoin(current, location.strip())
                continue
            _refuse_content_type(response.status, response_headers, url, accept)
            body = await _read_capped(response, response_headers, url, settings.limits.max_bytes)
            version = response.version
            return FetchedPage(
                url=url,
                final_url=current,
                status=response.status,
                headers=response_headers,
                body=body,
                fetched_at=clock(),
                request_headers=list(response.request_info.headers.items()),
                redirects=tuple(seen[:-1]),
                http_version=f"HTTP/{version.major}.{version.minor}" if version else "HTTP/1.1",
            )
        finally:
            # A body read to its end keeps the connection for the next request; one left
            # unread (a redirect's, a refused type, the size cap) closes it.
            response.release()


async def fetch_page(
    client: Client,
    url: str,
    settings: Settings,
    *,
    headers: Mapping[str, str] | None = None,
    clock: Clock = utc_now,
    accept: tuple[str, ...] = (),
    referrer: str | None = None,
    timeout: float | None = None,
) -> FetchedPage:
    """Fetch ``url`` once (no retry), following redirects, under the total deadline.

    ``referrer`` is the page that linked to ``url``: a public page may not lead into a
    private network (unless ``settings.allow_private_addresses``). ``timeout`` is what is
    left of the page's budget (default: all of ``settings.timeouts.total``).

    Returns the final response whatever its status; `check_article_response` judges it.
    With ``accept`` (content-type prefixes such as `HTML_TYPES`), a 200 of another
    declared type raises `NotHTML` before its body is read.

    Raises:
        FetchError: network failure, timeout, redirect problem, forbidden hop or size cap.
    """
    limit = settings.timeouts.total if timeout is None else timeout
    deadline = asyncio.timeout(limit)
    try:
        async with deadline:
            return await _fetch_following_redirects(
                client, url, settings, headers or {}, clock, accept, referrer
            )
    except TimeoutError as exc:
        if deadline.expired():
            raise FetchTimeout(url, f"no complete response within {limit:g} s") from None
        raise FetchTimeout(url, _describe(exc) or "timed out") from None
    except FetchError:
        raise
    except (aiohttp.InvalidURL, aiohttp.NonHttpUrlClientError) as exc:
        # Also for a redirect to a URL aiohttp will not request (a legacy numeric IPv4
        # form such as 127.1, a malformed host): asking again would fail the same way.
        raise ForbiddenAddress(url, f"cannot request that URL ({exc})") from None
    except (aiohttp.ClientError, OSError) as exc:
        refused = _cause(exc, PeerRefused)
        if refused is not None:
            raise ForbiddenAddress(url, str(refused)) from None
        raise NetworkError(url, _describe(exc)) from None
    except ValueError as exc:  # a URL yarl cannot parse, a header aiohttp will not send
        raise FetchError(url, f"cannot send that request ({exc})") from None


def _cause(exc: BaseException, kind: type[_E]) -> _E | None:
    """The first exception of type ``kind`` in ``exc`` or its chain of causes."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, kind):
            return seen
        if isinstance(seen, aiohttp.ClientConnectorError) and isinstance(seen.os_error, kind):
            return seen.os_error
        seen = seen.__cause__ or seen.__context__
    return None


def _describe(exc: BaseException) -> str:
    """A short cause for a transport error (aiohttp names the connection key first)."""
    if isinstance(exc, aiohttp.ClientConnectorCertificateError):
        return f"TLS error ({exc.certificate_error})"
    if isinstance(exc, aiohttp.ClientSSLError):
        return f"TLS error ({exc.os_error})"
    if isinstance(exc, aiohttp.ClientConnectorError):
        cause = exc.os_error
        if isinstance(cause, ConnectionRefusedError):
            return "connection refused"
        if isinstance(cause, ssl.SSLError):
            return f"TLS error ({cause.reason or cause})"
        return str(cause.strerror or cause) if isinstance(cause, OSError) else str(cause)
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return "server disconnected without sending a complete response"
    if isinstance(exc, aiohttp.ClientPayloadError):
        return f"response body cut short ({exc})"
    if isinstance(exc, aiohttp.ClientResponseError):
        return f"invalid HTTP response ({exc.message})"
    if isinstance(exc, ConnectionResetError):
        return "connection reset by peer"
    if isinstance(exc, ssl.SSLError):
        return f"TLS error ({exc.reason or exc})"
    return str(exc) or type(exc).__name__


__all__ = [
    "Client",
    "FetchError",
    "fetch_page",
    "make_client",
]
