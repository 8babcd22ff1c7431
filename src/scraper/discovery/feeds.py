"""RSS 0.9x/1.0/2.0 and Atom feeds to links, through feedparser."""

from __future__ import annotations

import io
import re
from typing import Any

import feedparser

from scraper.discovery.errors import DiscoveryError
from scraper.discovery.links import Link, absolute_url, clean_text, iso_date

# Feeds have no use for entity declarations; refusing them defuses "billion laughs" and
# quadratic blow-up before any XML parser sees the bytes (feedparser's fallback parser
# would otherwise expand simple ones). Checked in the prolog, in any ASCII-compatible or
# UTF-16/32 encoding.
_ENTITY_DECLARATION = re.compile(r"<!ENTITY", re.IGNORECASE)
_PROLOG_SCAN_CHARS = 65536


def _prolog_text(data: bytes) -> str:
    head = data[: _PROLOG_SCAN_CHARS * 4]
    for bom, encoding in (
        (b"\xff\xfe\x00\x00", "utf-32-le"),
        (b"\x00\x00\xfe\xff", "utf-32-be"),
        (b"\xff\xfe", "utf-16-le"),
        (b"\xfe\xff", "utf-16-be"),
    ):
        if head.startswith(bom):
            return head.decode(encoding, errors="replace")
    if head[:4] in (b"<\x00?\x00", b"\x00<\x00?"):  # UTF-16 without a BOM
        return head.decode("utf-16-le" if head[0] == 0x3C else "utf-16-be", errors="replace")
    return head.decode("latin-1")


def refuse_entity_declarations(data: bytes, what: str) -> None:
    """Raise DiscoveryError when an XML document declares entities (the XML-bomb shape)."""
    if _ENTITY_DECLARATION.search(_prolog_text(data)):
        raise DiscoveryError(f"{what} declares XML entities; refused (entity-expansion risk)")


def _entry_url(entry: Any, base_url: str) -> str | None:
    candidates: list[str | None] = []
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
    parsed = feedparser.parse(
        io.BytesIO(data),
        response_headers={"content-location": base_url, "content-type": "application/xml"},
        sanitize_html=False,
        resolve_relative_uris=False,
    )
    if not parsed.get("version"):
        problem = parsed.get("bozo_exception")
        detail = f": {problem}" if problem else ""
        raise DiscoveryError(f"not an RSS or Atom feed{detail}")
    links: list[Link] = []
    for entry in parsed.get("entries", []):
        url = _entry_url(entry, base_url)
        if url is None:
            continue
        published = iso_date(entry.get("published")) or iso_date(entry.get("updated"))
        links.append(
            Link(
                url=url,
                title=clean_text(entry.get("title")),
                published=published,
                found_on=base_url,
            )
        )
    return links
