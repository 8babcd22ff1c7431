"""RSS 0.9x/1.0/2.0 and Atom feeds to links, through feedparser."""

from __future__ import annotations

import io
import re
from typing import Any

import feedparser

from scraper.discovery.errors import DiscoveryError
from scraper.discovery.links import Link, absolute_url, clean_text, iso_date

# Feeds and sitemaps have no use for entity declarations; refusing them defuses "billion
# laughs", quadratic blow-up and external entities before any XML parser sees the bytes
# (feedparser's fallback parser would otherwise expand simple ones). The whole prolog is
# checked, however it is padded, in ASCII-compatible encodings and in UTF-16/32.
_ENTITY_DECLARATION = re.compile(r"<!ENTITY", re.IGNORECASE)
_ENTITY_DECLARATION_BYTES = re.compile(rb"<!ENTITY", re.IGNORECASE)
_ROOT_START = re.compile(r"<[A-Za-z_]")
_ROOT_START_BYTES = re.compile(rb"<[A-Za-z_]")
_WIDE_ENCODINGS = (
    (b"\xff\xfe\x00\x00", "utf-32-le"),
    (b"\x00\x00\xfe\xff", "utf-32-be"),
    (b"\xff\xfe", "utf-16-le"),
    (b"\xfe\xff", "utf-16-be"),
    (b"<\x00\x00\x00", "utf-32-le"),
    (b"\x00\x00\x00<", "utf-32-be"),
    (b"<\x00", "utf-16-le"),
    (b"\x00<", "utf-16-be"),
)


def refuse_entity_declarations(data: bytes, what: str) -> None:
    """Raise DiscoveryError when an XML document declares entities (the XML-bomb shape)."""
    encoding = next((name for mark, name in _WIDE_ENCODINGS if data.startswith(mark)), None)
    if encoding is None:
        root = _ROOT_START_BYTES.search(data)
        end = root.start() if root else len(data)
        declared = _ENTITY_DECLARATION_BYTES.search(data, 0, end) is not None
    else:
        text = data.decode(encoding, errors="replace")
        root_text = _ROOT_START.search(text)
        end = root_text.start() if root_text else len(text)
        declared = _ENTITY_DECLARATION.search(text, 0, end) is not None
    if declared:
        raise DiscoveryError(f"{what} declares XML entities; refused (entity-expansion risk)")


def _entry_url(entry: Any, base_url: str) -> str | None:
    # FeedBurner-style feeds link through a click counter and keep the real URL apart.
    candidates: list[str | None] = [entry.get("feedburner_origlink")]
    for link in entry.get("links") or []:
        if link.get("rel", "alternate") == "alternate" and "html" in link.get("type", "html"):
            candidates.append(link.get("href"))
    candidates.append(entry.get("link"))
    if entry.get("guidislink", False) or str(entry.get("id", "")).startswith("http"):
        candidates.append(entry.get("id"))
    for candidate in candidates:
        url = absolute_url(candidate, base_url)
        if url is not None:
            return url
    return None


def parse_feed(data: bytes, base_url: str) -> list[Link]:
    """The article links of an RSS or Atom feed, in feed order.

    Raises:
        DiscoveryError: the bytes are not a feed (HTML, garbage, an entity bomb).
    """
    if not data.strip():
        raise DiscoveryError("empty feed")
    refuse_entity_declarations(data, "feed")
    # A file object, never bytes or str: feedparser would treat a string as a URL to
    # fetch or a file name to open.
    try:
        parsed = feedparser.parse(
            io.BytesIO(data),
            response_headers={"content-location": base_url, "content-type": "application/xml"},
            sanitize_html=False,
            resolve_relative_uris=False,
        )
    except Exception as exc:  # its loose parser raises KeyError on <entry><link></item></link>
        raise DiscoveryError(f"not an RSS or Atom feed: feedparser failed ({exc!r})") from None
    if not parsed.get("version"):
        problem = parsed.get("bozo_exception")
        detail = f": {problem}" if problem else ""
        raise DiscoveryError(f"not an RSS or Atom feed{detail}")
    links: list[Link] = []
    for entry in parsed.get("entries", []):
        url = _entry_url(entry, base_url)
        if url is None:
            continue
        # dict.get: feedparser's own get maps a missing "updated" to "published" with a
        # DeprecationWarning (an empty <pubDate> found it by fuzzing).
        published = iso_date(entry.get("published")) or iso_date(dict.get(entry, "updated"))
        links.append(
            Link(
                url=url,
                title=clean_text(entry.get("title")),
                published=published,
                found_on=base_url,
            )
        )
    return links
