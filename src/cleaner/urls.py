"""URL canonicalization and the stable record id derived from it."""

from __future__ import annotations

import functools
import hashlib
import re
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

# Query parameters that identify a campaign or a click, never the content.
_TRACKING_PREFIXES = ("utm_", "mtm_", "pk_", "hsa_")
_TRACKING_PARAMS = frozenset(
    {
        "fbclid",
        "gclid",
        "dclid",
        "msclkid",
        "yclid",
        "igshid",
        "mc_cid",
        "mc_eid",
        "_ga",
        "_gl",
        "ocid",
        "cmpid",
        "ito",
        "sr_share",
        "share",
        "ref_src",
    }
)
_DEFAULT_PORTS = {"http": 80, "https": 443}
# The longest URL the scraper requests or follows: what servers commonly take in a request
# line (nginx's and aiohttp's buffers are 8 KB); past it a server answers 414 at best, and
# a 10 MB "URL" from a hostile feed or file would be sent, logged and stored whole.
MAX_URL_CHARS = 8192
# What the WHATWG URL parser percent-encodes in a path too: C0 controls, space, DEL; and
# what no one can see: C1 controls, bidi and other format characters, line separators.
# Letters of any script stay as they are (record ids of existing records stay the same).
_INVISIBLE = re.compile(r"[\x00-\x20\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]")


def is_http_url(url: str) -> bool:
    """True for an absolute http(s) URL with a host."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme.lower() in _DEFAULT_PORTS and bool(parts.hostname)


# A URL this matches is its own canonical form: lower-case scheme and host name (no
# trailing dot, no user info), a port with no leading zero, a path of printable ASCII
# with nothing to encode, no query, no fragment. Most URLs a run reads are (links are
# canonicalized when found; a URL file is often a list of them): one match instead of
# two splits, a query parse and a rebuild, ~8 us a URL, 80 ms before the first fetch of
# 10,000. Held equal to the general code by a property test.
_CANONICAL = re.compile(
    r"(https?)://([a-z0-9-]+(?:\.[a-z0-9-]+)*)(?::([1-9][0-9]{0,4}))?/[!\"$->@-~]*"
)


def canonicalize_url(url: str) -> str:
    """Return the canonical form used for identity and deduplication.

    Lower-cases scheme and host, drops default ports, fragments, tracking
    parameters and empty queries, and sorts the remaining query parameters.

    Raises:
        ValueError: the URL is not an absolute http(s) URL.
    """
    if (match := _CANONICAL.fullmatch(url)) is not None:
        port = match.group(3)
        if port is None or _DEFAULT_PORTS[match.group(1)] != int(port) <= 65535:
            return url
    return _canonicalized(url)


def _canonicalized(url: str) -> str:
    """`canonicalize_url` for any URL."""
    url = url.strip()
    if not is_http_url(url):
        raise ValueError(f"not an absolute http(s) URL: {url!r}")
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").rstrip(".")
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    port = parts.port
    netloc = host if port in (None, _DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    query = [
        (key, value)
        for key, value in parse_qsl(parts.query, keep_blank_values=True)
        if key.lower() not in _TRACKING_PARAMS and not key.lower().startswith(_TRACKING_PREFIXES)
    ]
    query.sort()
    path = _INVISIBLE.sub(_percent_encoded, parts.path or "/")
    return urlunsplit((scheme, netloc, path, urlencode(query), ""))


def _percent_encoded(match: re.Match[str]) -> str:
    return quote(match.group(0), safe="")


def article_id(url: str) -> str:
    """Stable 16-hex-digit id of the article at ``url``.

    Same canonical URL, same id; on a site whose rules define a record key (QOSHE's
    numeric column id), the same key, same id, whatever the slugs or the mirror host.
    """
    # The site rules come with it (pydantic models, the rule files): imported on the
    # first id, not by a process that only canonicalizes (``fetch-many --raw-only``).
    from cleaner.pages import record_key

    canonical = canonicalize_url(url)
    key = record_key(canonical) or canonical
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]


@functools.lru_cache(maxsize=4096)
def _site(host: str) -> str:
    """The registrable domain of ``host`` (public suffix list, shipped with tld), or the
    host itself for addresses and names without a public suffix (127.0.0.1, localhost).

    tld is imported here, on the first comparison: ~30 ms at start-up that a process
    which only canonicalizes URLs (``fetch-many --raw-only``) does not need.
    """
    from tld import get_fld

    return get_fld(host, fix_protocol=True, fail_silently=True) or host


def same_site(url: str, other: str) -> bool:
    """True when both URLs belong to one registrable domain (amp.x.com and www.x.com do)."""
    first, second = urlsplit(url).hostname, urlsplit(other).hostname
    if not first or not second:
        return False
    return _site(first.rstrip(".").lower()) == _site(second.rstrip(".").lower())
