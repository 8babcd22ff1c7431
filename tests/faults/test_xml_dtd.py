"""Feeds and sitemaps never get a DTD past the guard, however the prolog is dressed: a
comment that looks like a tag before the DOCTYPE (the bypass of the old text scan), a
DOCTYPE written in a comment for feedparser's own scan, any encoding. Refused fast, with
memory bounded, and a feed without a DTD still parses."""

from __future__ import annotations

import gzip
import time
import tracemalloc

import pytest

from scraper.discovery import DiscoveryError, parse_feed, parse_sitemap

SITE = "https://harbour.test/feed.xml"
LAUGHS = (
    '<!ENTITY a "'
    + "a" * 80
    + '">'
    + "".join(
        f'<!ENTITY {n} "{("&" + p + ";") * 25}">' for p, n in zip("abcd", "bcde", strict=True)
    )
)
FEED_BODY = (
    '<rss version="2.0"><channel><title>&e;</title>'
    "<item><title>&e;&e;</title><link>https://harbour.test/a</link></item></channel></rss>"
)
URLSET_BODY = "<urlset><url><loc>https://harbour.test/&e;</loc></url></urlset>"
DISGUISES = {
    "comment with a tag": "<!-- <a -->",
    "comment with a root": "<!-- <rss version='2.0'> -->",
    "processing instruction": "<?php <a ?>",
    "two comments": "<!-- <b> --><!-- > <c -->",
    "padded comment": "<!-- " + "<a " * 30_000 + "-->",
}


def _bomb(disguise: str, body: str, encoding: str = "utf-8") -> bytes:
    text = f'<?xml version="1.0" encoding="{encoding}"?>{disguise}<!DOCTYPE r [{LAUGHS}]>{body}'
    return text.encode(encoding)


def _refused_fast(call: object, data: bytes) -> None:
    assert callable(call)
    tracemalloc.start()
    started = time.perf_counter()
    try:
        with pytest.raises(DiscoveryError, match="declares XML entities"):
            call(data, SITE)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert time.perf_counter() - started < 1.0
    assert peak < 10 * len(data) + 5_000_000


@pytest.mark.parametrize("disguise", DISGUISES.values(), ids=DISGUISES.keys())
@pytest.mark.parametrize("encoding", ["utf-8", "utf-16", "utf-32", "shift_jis"])
def test_a_disguised_dtd_is_refused_in_a_feed(disguise: str, encoding: str) -> None:
    _refused_fast(parse_feed, _bomb(disguise, FEED_BODY, encoding))


@pytest.mark.parametrize("disguise", DISGUISES.values(), ids=DISGUISES.keys())
@pytest.mark.parametrize("gzipped", [False, True])
def test_a_disguised_dtd_is_refused_in_a_sitemap(disguise: str, gzipped: bool) -> None:
    for body in (URLSET_BODY, FEED_BODY):  # search engines take a feed as a sitemap too
        data = _bomb(disguise, body)
        _refused_fast(parse_sitemap, gzip.compress(data) if gzipped else data)


def test_a_doctype_hidden_in_a_comment_never_reaches_feedparser() -> None:
    # feedparser scans the prolog as text for "safe" entities and its loose parser expands
    # them: a large one, referenced many times, is a quadratic bomb in a well-formed feed.
    value = "x" * 100_000
    feed = (
        '<?xml version="1.0"?>\n<!--\n<!DOCTYPE rss [\n<!ENTITY big "' + value + '">\n]>\n-->\n'
        '<rss version="2.0"><channel><title>t</title><item><title>'
        + "&big;" * 2_000
        + "&nbsp;</title><link>https://harbour.test/a</link></item></channel></rss>"
    ).encode()
    tracemalloc.start()
    try:
        links = parse_feed(feed, SITE)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert [link.url for link in links] == ["https://harbour.test/a"]
    assert peak < 50 * len(feed), f"{peak / 1e6:.0f} MB"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16", "utf-32", "shift_jis", "koi8-r"])
def test_a_feed_without_a_dtd_still_parses_in_any_encoding(encoding: str) -> None:
    feed = (
        f'<?xml version="1.0" encoding="{encoding}"?>\n<!-- made by hand -->\n'
        '<!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN" '
        '"http://my.netscape.com/publish/formats/rss-0.91.dtd">\n'
        '<rss version="0.91"><channel><title>t</title><item><title>Ferry</title>'
        "<link>https://harbour.test/a</link></item></channel></rss>"
    )
    assert [link.url for link in parse_feed(feed.encode(encoding), SITE)] == [
        "https://harbour.test/a"
    ]
