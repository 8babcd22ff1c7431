"""Which URLs the scraper may reach: http(s) only, and no hop from public into private.

Two layers: `AddressPolicy.hop_refusal` judges a URL by its host before any request
(scheme, IP literals, local names), and `AddressPolicy.peer_refusal` judges the
addresses a DNS name resolves to, at connect time, so a public-looking name (or a
numeric form such as ``0x7f.1``) cannot lead into a private network.

The host judged is the one the HTTP client will use: yarl (aiohttp's URL type) maps it
through IDNA/UTS-46, which turns full stops such as U+3002 or U+FF0E and fullwidth
digits into ASCII, so ``127。0。0。1`` is judged as the ``127.0.0.1`` it becomes.
"""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass

from yarl import URL

from cleaner.urls import MAX_URL_CHARS

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
_LOCAL_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})
# RFC 6761 and RFC 7686: these names never resolve, so never send them to a DNS server.
_RESERVED_SUFFIXES = (".invalid", ".onion")


# Every request asks about its host (and its referrer's) a few times, and a run meets few
# hosts: parsing one as an IP address (two raised ValueErrors for a name) and walking the
# reserved networks cost ~35 us a question, most of a strict-mode request's own checks.
@functools.lru_cache(maxsize=4096)
def _address(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host.strip("[]").split("%")[0])
    except ValueError:
        return None


@functools.lru_cache(maxsize=4096)
def _is_global(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    return address.is_global


def is_ip_literal(host: str) -> bool:
    """True for an IP address in a standard form (what aiohttp connects to unresolved)."""
    return _address(host) is not None


def parse_url(url: str) -> URL:
    """``url`` parsed as the HTTP client parses it.

    Raises:
        ValueError: a URL the client cannot parse (a bad port, an unbalanced bracket).
    """
    try:
        return URL(url)
    except IndexError as exc:  # yarl 1.25 on some broken authorities: "0://[]@"
        raise ValueError(f"malformed authority ({exc})") from None


def url_host(url: str) -> str | None:
    """The host of ``url`` exactly as the HTTP client will send and connect to it.

    Raises:
        ValueError: a URL the client cannot parse (a bad port, an unbalanced bracket).
    """
    return parse_url(url).raw_host


def is_reserved_name(host: str) -> bool:
    """True for a special-use name that must not be looked up (``.invalid``, ``.onion``)."""
    host = host.rstrip(".").lower()
    return host.endswith(_RESERVED_SUFFIXES) or host in ("invalid", "onion")


@dataclass(frozen=True)
class AddressPolicy:
    """Where requests may go.

    Args:
        allow_private: private, loopback and link-local addresses are allowed everywhere.
        public: networks counted as public anyway (tests play public hosts on loopback).
    """

    allow_private: bool = False
    public: tuple[Network, ...] = ()

    def is_private_address(self, host: str) -> bool:
        """True for an IP literal that is not globally routable (and not listed as public)."""
        address = _address(host)
        if address is None:
            return False
        return not _is_global(address) and not any(address in net for net in self.public)

    def is_private_host(self, host: str) -> bool:
        """True for a private IP literal or a local name; a DNS name is judged at connect."""
        host = host.strip("[]").rstrip(".").lower()
        if host in _LOCAL_NAMES or host.endswith(".localhost"):
            return True
        return self.is_private_address(host)

    def hop_refusal(self, from_url: str | None, to_url: str) -> str | None:
        """Why the scraper must not go from ``from_url`` to ``to_url``, or None when it may."""
        if len(to_url) > MAX_URL_CHARS:
            return f"refusing a URL of {len(to_url):,} characters (at most {MAX_URL_CHARS:,})"
        try:
            target = parse_url(to_url)
            hostname = target.raw_host
            from_host = (url_host(from_url) or "") if from_url else ""
        except ValueError as exc:  # "http://[::1/": an unbalanced IPv6 bracket, a bad port
            return f"refusing malformed URL {to_url!r} ({exc})"
        if target.scheme.lower() not in ("http", "https"):
            return f"refusing non-http(s) URL {to_url!r}"
        if not hostname:
            return f"refusing URL without a host {to_url!r}"
        if self.allow_private or from_url is None:
            return None
        if self.is_private_host(hostname) and not self.is_private_host(from_host):
            return f"refusing to go from public {from_host} to private address {hostname}"
        return None

    def peer_refusal(self, host: str, addresses: Iterable[str]) -> str | None:
        """Why the scraper must not connect to ``host`` at ``addresses``, or None.

        A URL naming a private address or a local name literally was judged by
        `hop_refusal` (a user may ask for it); any other name must resolve to public
        addresses only, so DNS cannot smuggle a request into the local network.
        """
        if self.allow_private or self.is_private_host(host):
            return None
        for address in addresses:
            if self.is_private_address(address):
                return (
                    f"{host} resolves to the private address {address}; "
                    "set allow_private_addresses to fetch from private networks"
                )
        return None


_DEFAULT = AddressPolicy()


def is_private_host(host: str) -> bool:
    """True for a loopback, private, link-local or otherwise non-public host literal or name."""
    return _DEFAULT.is_private_host(host)


def hop_refusal(from_url: str | None, to_url: str, *, allow_private: bool) -> str | None:
    """Why the scraper must not go from ``from_url`` to ``to_url``, or None when it may."""
    return AddressPolicy(allow_private=allow_private).hop_refusal(from_url, to_url)
