"""parse_sitemap on urlsets, news sitemaps, indexes, gzip'd, text and hostile input."""

from __future__ import annotations

import gzip
import time
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scraper.discovery import DiscoveryError, Link, SitemapRef, parse_feed, parse_sitemap
from scraper.discovery.sitemaps import MAX_SITEMAP_BYTES
from tests.scraper.discovery.helpers import discovery_bytes

SITE = "https://lakeside-courier.example"


def test_urlset_lastmod_and_unescaped_ampersand() -> None:
    base = f"{SITE}/sitemaps/opinion-2025-03.xml"

    page = parse_sitemap(discovery_bytes("sitemaps/opinion-2025-03.xml"), base)

    assert page.sitemaps == []
    assert [(link.url, link.published) for link in page.links] == [
        (f"{SITE}/opinion/2025/03/14/repair-cafes-need-rooms/", "2025-03-14T08:30:00+01:00"),
        (f"{SITE}/opinion/2025/03/12/tram-extension/", "2025-03-12"),
        (f"{SITE}/opinion/archive?month=03&year=2025", "2025-03-12"),  # the bare & survived
        (f"{SITE}/opinion/2025/02/20/old-column/", "2025-02-20"),
        (f"{SITE}/news/2025/03/13/council-vote/", "2025-03-13"),
    ]
    assert {link.found_on for link in page.links} == {base}


def test_gzipped_bytes_are_the_same_sitemap() -> None:
    plain = discovery_bytes("sitemaps/opinion-2025-03.xml")

    assert parse_sitemap(gzip.compress(plain), SITE) == parse_sitemap(plain, SITE)


def test_news_sitemap_gives_title_and_publication_date() -> None:
    page = parse_sitemap(discovery_bytes("sitemaps/news.xml"), f"{SITE}/sitemaps/news.xml")

    assert [(link.url, link.title, link.published) for link in page.links] == [
        (
            f"{SITE}/opinion/2025/03/14/repair-cafes-need-rooms/",
            "Repair cafés need rooms, not grants",
            "2025-03-14T08:30:00+01:00",
        ),
        (
            f"{SITE}/opinion/2025/03/13/night-trains/",
            "Bring back the night train to the coast",
            "2025-03-13T19:00:00+00:00",
        ),
    ]


def test_index_lists_child_sitemaps_with_lastmod() -> None:
    page = parse_sitemap(discovery_bytes("sitemaps/index.xml"), f"{SITE}/sitemap_index.xml")

    assert page.links == []
    assert page.sitemaps == [
        SitemapRef(f"{SITE}/sitemaps/opinion-2025-03.xml.gz", "2025-03-14T09:00:00+01:00"),
        SitemapRef(f"{SITE}/sitemaps/news.xml", "2025-03-14T09:05:00+01:00"),
        SitemapRef(f"{SITE}/sitemaps/opinion-2019-01.xml.gz", "2019-02-01"),
        SitemapRef(f"{SITE}/sitemaps/missing.xml", None),
    ]


def test_text_sitemap_and_unnamespaced_urlset() -> None:
    text = b"https://x.example/a\r\n\r\nnot a url\nhttps://x.example/b?utm_medium=txt\n"
    bare = b"<urlset><url><loc> /relative </loc></url><url><loc>mailto:a@b</loc></url></urlset>"

    assert [link.url for link in parse_sitemap(text, "https://x.example/s.txt").links] == [
        "https://x.example/a",
        "https://x.example/b",
    ]
    assert parse_sitemap(bare, "https://x.example/s.xml").links == [
        Link(url="https://x.example/relative", found_on="https://x.example/s.xml")
    ]


def test_feed_served_as_sitemap_is_read_as_feed() -> None:
    page = parse_sitemap(discovery_bytes("feeds/rss2.xml"), f"{SITE}/opinion/rss.xml")

    assert len(page.links) == 3


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty sitemap"),
        (b"<!DOCTYPE html><html><body>Oops</body></html>", "root element is <html>"),
        (b"Service temporarily unavailable", "no XML and no http"),
        (b"\x1f\x8b\x08\x00garbage", "corrupt gzip"),
        (gzip.compress(b"<urlset>", mtime=0)[:-6], "corrupt gzip"),
    ],
)
def test_unusable_input(data: bytes, message: str) -> None:
    with pytest.raises(DiscoveryError, match=message):
        parse_sitemap(data, SITE)


def test_gzip_bomb_is_capped() -> None:
    bomb = gzip.compress(b"<urlset>" + b" " * (MAX_SITEMAP_BYTES + 10), compresslevel=9)
    started = time.monotonic()

    with pytest.raises(DiscoveryError, match="larger than"):
        parse_sitemap(bomb, SITE)

    assert len(bomb) < 200_000
    assert time.monotonic() - started < 5


QUADRATIC = (
    b'<?xml version="1.0"?><!DOCTYPE urlset [<!ENTITY x "'
    + b"x" * 50_000
    + b'">]><urlset><url><loc>https://x.example/'
    + b"&x;" * 5_000
    + b"</loc></url></urlset>"
)
XXE = b"""<?xml version="1.0"?><!DOCTYPE urlset [<!ENTITY s SYSTEM "file:///etc/passwd">]>
<urlset><url><loc>https://x.example/&s;</loc></url></urlset>"""
PARAMETER_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE urlset [<!ENTITY % p SYSTEM "http://127.0.0.1:9/x.dtd"> %p;]>
<urlset/>"""
EXTERNAL_DTD = b"""<?xml version="1.0"?><!DOCTYPE urlset SYSTEM "http://127.0.0.1:9/s.dtd">
<urlset><url><loc>https://x.example/a</loc></url></urlset>"""


@pytest.mark.parametrize("bomb", [QUADRATIC, XXE, PARAMETER_ENTITY])
def test_entity_tricks_are_refused(bomb: bytes) -> None:
    started = time.monotonic()

    with pytest.raises(DiscoveryError, match="declares XML entities"):
        parse_sitemap(bomb, SITE)
    with pytest.raises(DiscoveryError, match="declares XML entities"):
        parse_sitemap(gzip.compress(bomb), SITE)

    assert time.monotonic() - started < 1


def test_external_dtd_is_not_fetched() -> None:
    # Port 9 on loopback: a fetch attempt would fail or hang; neither happens.
    page = parse_sitemap(EXTERNAL_DTD, SITE)

    assert [link.url for link in page.links] == ["https://x.example/a"]


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=2000))
def test_fuzz_arbitrary_bytes(data: bytes) -> None:
    for candidate in (data, gzip.compress(data)):
        try:
            page = parse_sitemap(candidate, SITE)
        except DiscoveryError:
            continue
        assert all(link.url.startswith(("http://", "https://")) for link in page.links)


_SITEMAP_PART = st.sampled_from(
    [
        "<?xml version='1.0'?>",
        "<urlset xmlns='http://www.sitemaps.org/schemas/sitemap/0.9'>",
        "<sitemapindex>",
        "<sitemap>",
        "<url>",
        "<loc>",
        "https://x.example/a?b=1&c=2",
        "/rel",
        "ftp://x",
        "</loc>",
        "<lastmod>",
        "2025-03-14",
        "2025-13-40T99:00",
        "</lastmod>",
        "<news:news><news:publication_date>2025-03-14T08:00:00Z</news:publication_date>",
        "</url>",
        "</sitemap>",
        "</urlset>",
        "</sitemapindex>",
        "<!DOCTYPE x>",
        "&amp;",
        "&bogus;",
        "\x00",
        "\ufeff",
    ]
)


@settings(max_examples=150, deadline=None)
@given(st.lists(_SITEMAP_PART, max_size=40))
def test_fuzz_sitemap_shaped_input(parts: list[str]) -> None:
    try:
        page = parse_sitemap("".join(parts).encode(), SITE)
    except DiscoveryError:
        return
    assert all(ref.url.startswith(("http://", "https://")) for ref in page.sitemaps)


def test_padded_and_utf16_bombs_are_refused() -> None:
    padded = QUADRATIC.replace(b"<!DOCTYPE", b"<!--" + b"x" * 300_000 + b"--><!DOCTYPE")
    wide = QUADRATIC.decode("utf-8").replace('<?xml version="1.0"?>', "").encode("utf-16-le")

    for bomb in (padded, wide, b"\xef\xbb\xbf" + QUADRATIC):
        with pytest.raises(DiscoveryError, match="declares XML entities"):
            parse_sitemap(bomb, SITE)


def test_blank_lines_before_the_declaration_keep_its_encoding() -> None:
    data = (
        b"\n\n  <?xml version='1.0' encoding='ISO-8859-1'?>\n"
        b"<urlset><url><loc>https://x.example/caf\xe9</loc></url></urlset>"
    )

    assert [link.url for link in parse_sitemap(data, SITE).links] == ["https://x.example/café"]


_BOMB_ENTITY = st.sampled_from(
    [
        '<!ENTITY a "{body}">',
        '<!ENTITY a SYSTEM "file:///etc/passwd">',
        '<!ENTITY % a SYSTEM "http://127.0.0.1:9/x"> %a;',
        "<!ENTITY a '{body}'>",
    ]
)


@settings(max_examples=60, deadline=None)
@given(
    entity=_BOMB_ENTITY,
    body_size=st.integers(0, 5000),
    padding=st.integers(0, 70_000),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-32"]),
    declaration=st.booleans(),
    gzipped=st.booleans(),
    root=st.sampled_from(["urlset", "sitemapindex", "rss", "feed"]),
)
def test_fuzz_entity_bombs_always_refused(
    entity: str,
    body_size: int,
    padding: int,
    encoding: str,
    declaration: bool,
    gzipped: bool,
    root: str,
) -> None:
    prolog = f'<?xml version="1.0" encoding="{encoding}"?>' if declaration else ""
    doctype = f"<!DOCTYPE {root} [{entity.format(body='x' * body_size)}]>"
    text = f"{prolog}<!--{' ' * padding}-->{doctype}<{root}><x>&a;&a;</x></{root}>"
    data = text.encode(encoding)
    data = gzip.compress(data) if gzipped else data

    with pytest.raises(DiscoveryError, match="declares XML entities"):
        parse_sitemap(data, SITE)
    if not gzipped:
        with pytest.raises(DiscoveryError, match="declares XML entities"):
            parse_feed(data, SITE)


def test_since_leaves_out_dated_entries_early_and_keeps_undated() -> None:
    urlset = discovery_bytes("sitemaps/opinion-2025-03.xml")
    undated = b"<urlset><url><loc>https://x.example/undated</loc></url></urlset>"
    index = discovery_bytes("sitemaps/index.xml")

    recent = parse_sitemap(urlset, SITE, since=date(2025, 3, 13))
    children = parse_sitemap(index, SITE, since=date(2025, 3, 1))

    assert [link.published for link in recent.links] == ["2025-03-14T08:30:00+01:00", "2025-03-13"]
    assert len(parse_sitemap(undated, SITE, since=date(2025, 3, 13)).links) == 1
    assert [ref.lastmod for ref in children.sitemaps] == [
        "2025-03-14T09:00:00+01:00",
        "2025-03-14T09:05:00+01:00",
        None,
    ]


def test_dot_segments_resolve_the_same_absolute_or_relative() -> None:
    data = (
        b"<urlset><url><loc>https://x.example/a/../opinion/b</loc></url>"
        b"<url><loc>/a/../opinion/b</loc></url></urlset>"
    )

    urls = {link.url for link in parse_sitemap(data, "https://x.example/s.xml").links}

    assert urls == {"https://x.example/opinion/b"}
