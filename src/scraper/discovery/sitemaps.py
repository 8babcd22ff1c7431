"""Sitemaps to links: urlsets (plain and Google News), sitemap indexes, gzip'd and text ones.

Parsed with lxml hardened against hostile XML: no entity resolution, no network, no huge
trees; before it, expat refuses any DTD internal subset (`xmlguard`) and the prolog is dropped.
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass, field
from datetime import date

from lxml import etree  # type: ignore[import-untyped]  # no stubs shipped

from scraper.discovery.errors import DiscoveryError
from scraper.discovery.feeds import parse_feed
from scraper.discovery.links import Link, absolute_url, clean_text, iso_date, published_day
from scraper.discovery.xmlguard import without_prolog

# The sitemap protocol caps a file at 50 MB uncompressed; more is a gzip bomb or not a sitemap.
MAX_SITEMAP_BYTES = 50 * 1024 * 1024
_GZIP_MAGIC = b"\x1f\x8b"
_FEED_ROOTS = frozenset({"rss", "RDF", "feed"})
# Real sitemaps often carry query strings with an unescaped "&"; escaping it keeps the
# parameter instead of letting the recovering parser drop it.
_BARE_AMPERSAND = re.compile(rb"&(?!(?:[A-Za-z][A-Za-z0-9._-]*|#[0-9]+|#x[0-9A-Fa-f]+);)")


@dataclass(frozen=True)
class SitemapRef:
    """A child sitemap listed by a sitemap index."""

    url: str
    lastmod: str | None = None  # ISO 8601 as given


@dataclass(frozen=True)
class SitemapPage:
    """One parsed sitemap file: article links (a urlset) or child sitemaps (an index)."""

    links: list[Link] = field(default_factory=list)
    sitemaps: list[SitemapRef] = field(default_factory=list)
    sitemaps_dropped: int = 0  # child sitemaps over ``max_refs``, the oldest


def _gunzip(data: bytes, max_bytes: int) -> bytes:
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    try:
        out = inflater.decompress(data, max_bytes + 1)
    except zlib.error as exc:
        raise DiscoveryError(f"corrupt gzip'd sitemap: {exc}") from exc
    if len(out) > max_bytes or inflater.unconsumed_tail:
        raise DiscoveryError(f"sitemap larger than {max_bytes} bytes uncompressed")
    if not inflater.eof:
        raise DiscoveryError("corrupt gzip'd sitemap: truncated stream")
    return out


def _local(element: etree._Element) -> str:
    tag = element.tag
    if not isinstance(tag, str):  # comments, processing instructions
        return ""
    return tag.rsplit("}", 1)[-1]


def _text(element: etree._Element, path: str) -> str | None:
    """Text at ``path`` ('{*}' matches any namespace or none), whitespace collapsed."""
    return clean_text(element.findtext(path))


def _parse_text_sitemap(text: str, base_url: str) -> SitemapPage:
    links = []
    for line in text.splitlines():
        line = line.strip()
        if not line.lower().startswith(("http://", "https://")):
            continue
        url = absolute_url(line, base_url)
        if url is not None:
            links.append(Link(url=url, found_on=base_url))
    if not links:
        raise DiscoveryError("not a sitemap: no XML and no http(s) URL lines")
    return SitemapPage(links=links)


def _parse_xml(data: bytes) -> etree._Element:
    parser = etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        huge_tree=False,
        load_dtd=False,
        dtd_validation=False,
        recover=True,  # real sitemaps carry unescaped "&" in URLs
        remove_comments=True,
        remove_pis=True,
    )
    try:
        root = etree.fromstring(data, parser)
    except (etree.XMLSyntaxError, ValueError) as exc:
        raise DiscoveryError(f"sitemap is not well-formed XML: {exc}") from exc
    if root is None:
        raise DiscoveryError("sitemap is not XML (no root element)")
    return root


def parse_sitemap(
    data: bytes,
    base_url: str,
    *,
    since: date | None = None,
    max_bytes: int = MAX_SITEMAP_BYTES,
    max_refs: int | None = None,
) -> SitemapPage:
    """The links of a urlset or the child sitemaps of an index; gzip'd bytes are accepted.

    Args:
        data: the sitemap's bytes, gzip'd or not.
        base_url: where it was fetched from (relative URLs, ``found_on``).
        since: when given, entries dated (publication date or lastmod) before this day are
            left out early, which keeps a 50,000-URL sitemap cheap when only the last days
            matter. Undated entries are kept.
        max_bytes: the most the bytes may inflate to (at most the protocol's 50 MB).
        max_refs: of an index, keep this many child sitemaps (the newest): the URL work
            for refs that will never be fetched is most of the cost of a huge index.

    Raises:
        DiscoveryError: not a sitemap (HTML, garbage), corrupt gzip, over 50 MB, an XML bomb.
    """
    max_bytes = min(max_bytes, MAX_SITEMAP_BYTES)
    if data.startswith(_GZIP_MAGIC):
        data = _gunzip(data, max_bytes)
    elif len(data) > max_bytes:
        raise DiscoveryError(f"sitemap larger than {max_bytes} bytes")
    stripped = data.lstrip(b"\xef\xbb\xbf \t\r\n")
    if not stripped:
        raise DiscoveryError("empty sitemap")
    wide = b"\x00" in stripped[:4]  # UTF-16/32 XML: left to the XML parser as it is
    if not stripped.startswith(b"<") and not wide:
        return _parse_text_sitemap(stripped.decode("utf-8", errors="replace"), base_url)
    if not wide:
        # Blank lines before "<?xml" (a common CMS bug) would hide its encoding from lxml.
        data = _BARE_AMPERSAND.sub(b"&amp;", stripped)
    data = without_prolog(data, "sitemap")
    root = _parse_xml(data)
    kind = _local(root)
    if kind in _FEED_ROOTS:  # search engines accept an RSS/Atom feed as a sitemap
        links = parse_feed(data, base_url)
        return SitemapPage(links=[link for link in links if not _before(link.published, since)])
    if kind == "sitemapindex":
        entries = []
        for node in root.iterchildren("{*}sitemap"):
            lastmod = iso_date(_text(node, "{*}lastmod"))
            if not _before(lastmod, since):
                entries.append((_text(node, "{*}loc"), lastmod))
        dropped = 0
        if max_refs is not None and len(entries) > max_refs:
            entries.sort(key=lambda entry: published_day(entry[1]) or date.min, reverse=True)
            dropped, entries = len(entries) - max_refs, entries[:max_refs]
        refs = []
        for loc, lastmod in entries:
            url = absolute_url(loc, base_url)
            if url is not None:
                refs.append(SitemapRef(url=url, lastmod=lastmod))
        return SitemapPage(sitemaps=refs, sitemaps_dropped=dropped)
    if kind != "urlset":
        raise DiscoveryError(f"not a sitemap: root element is <{kind or root.tag}>")
    links = []
    for node in root.iterchildren("{*}url"):
        published = iso_date(_text(node, "{*}news/{*}publication_date")) or iso_date(
            _text(node, "{*}lastmod")
        )
        if _before(published, since):
            continue  # before the URL work, which is most of the cost
        url = absolute_url(_text(node, "{*}loc"), base_url)
        if url is None:
            continue
        title = _text(node, "{*}news/{*}title")
        links.append(Link(url=url, title=title, published=published, found_on=base_url))
    return SitemapPage(links=links)


def _before(published: str | None, since: date | None) -> bool:
    if since is None:
        return False
    day = published_day(published)
    return day is not None and day < since
