"""Which URLs the scraper may reach: http(s) only, and no hop from public into private."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

_LOCAL_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})


def is_private_host(host: str) -> bool:
    """True for a loopback, private, link-local or otherwise non-public host literal or name."""
    host = host.strip("[]").rstrip(".").lower()
    if host in _LOCAL_NAMES or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False  # a DNS name; resolved addresses are checked at connect time
    return not address.is_global


def hop_refusal(from_url: str | None, to_url: str, *, allow_private: bool) -> str | None:
    """Why the scraper must not go from ``from_url`` to ``to_url``, or None when it may."""
    parts = urlsplit(to_url)
    if parts.scheme.lower() not in ("http", "https"):
        return f"refusing non-http(s) URL {to_url!r}"
    if not parts.hostname:
        return f"refusing URL without a host {to_url!r}"
    if allow_private or from_url is None:
        return None
    from_host = urlsplit(from_url).hostname or ""
    if is_private_host(parts.hostname) and not is_private_host(from_host):
        return f"refusing to go from public {from_host} to private address {parts.hostname}"
    return None
