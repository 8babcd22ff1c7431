"""parse_feed on real RSS 0.91/1.0/2.0 and Atom bytes, hostile XML and garbage."""

from __future__ import annotations

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scraper.discovery import DiscoveryError, Link, parse_feed
from tests.scraper.discovery.helpers import discovery_bytes

COURIER = "https://lakeside-courier.example"


def test_rss2_links_titles_and_dates_as_stated() -> None:
    links = parse_feed(discovery_bytes("feeds/rss2.xml"), f"{COURIER}/opinion/rss.xml")

    assert links == [
        Link(
            url=f"{COURIER}/opinion/2025/03/14/repair-cafes-need-rooms/",
            title="Repair cafés need rooms, not grants",
            published="2025-03-14T08:30:00+01:00",
            found_on=f"{COURIER}/opinion/rss.xml",
        ),
        Link(
            url=f"{COURIER}/opinion/2025/03/12/tram-extension/",
            title="The tram extension stops one street short",
            published="2025-03-12T07:00:00+00:00",
            found_on=f"{COURIER}/opinion/rss.xml",
        ),
        Link(
            url=f"{COURIER}/opinion/2025/03/09/letters-school-meals/",
            title="Letters: school meals, bin days & the new car park",
            published="2025-03-09T18:45:00+00:00",
            found_on=f"{COURIER}/opinion/rss.xml",
        ),
    ]  # the podcast item has no article link: an enclosure is not an article


def test_atom_html_title_relative_link_and_date_only_updated() -> None:
    base = "https://harbour-herald.example/columnists/atom.xml"

    links = parse_feed(discovery_bytes("feeds/atom.xml"), base)

    assert [(link.url, link.title, link.published) for link in links] == [
        (
            "https://harbour-herald.example/columnists/sam-okafor/ferry-fares",
            "Ferry fares are a tax on islanders",
            "2025-03-13T17:20:00+00:00",
        ),
        (
            "https://harbour-herald.example/columnists/coastguard-budget",
            "Our coastguard station deserves a budget line",
            "2025-03-06",  # date-only stays date-only: no invented midnight or zone
        ),
    ]


def test_rss1_rdf_in_latin1() -> None:
    links = parse_feed(discovery_bytes("feeds/rss1.rdf"), "https://valley-post.example/o.rdf")

    assert [(link.url, link.title, link.published) for link in links] == [
        (
            "https://valley-post.example/opinion/water-meters",
            "Water meters, finally: a café owner's view",
            "2025-03-11T06:15:00+01:00",
        )
    ]


def test_rss091_with_netscape_doctype_and_no_dates() -> None:
    links = parse_feed(discovery_bytes("feeds/rss091.xml"), "http://oldtown-weekly.example/r")

    assert links == [
        Link(
            url="http://oldtown-weekly.example/columns/clock-tower.html",
            title="Why the clock tower should stay wrong",
            found_on="http://oldtown-weekly.example/r",
        )
    ]


def test_rfc822_date_without_zone_stays_naive() -> None:
    feed = b"""<rss version="2.0"><channel><title>t</title><item><title>a</title>
    <link>https://x.example/a</link><pubDate>Fri, 14 Mar 2025 08:30:00</pubDate></item>
    </channel></rss>"""

    (link,) = parse_feed(feed, "https://x.example/feed")

    assert link.published == "2025-03-14T08:30:00"


def test_empty_but_valid_feed_is_no_links() -> None:
    feed = b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title></channel></rss>'

    assert parse_feed(feed, "https://x.example/feed") == []


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty feed"),
        (b"<!DOCTYPE html><html><body><p>Not found</p></body></html>", "not an RSS or Atom"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "not an RSS or Atom"),
        (b"/etc/passwd", "not an RSS or Atom"),  # never opened as a file name
        (b"https://example.invalid/feed.xml", "not an RSS or Atom"),  # never fetched
    ],
)
def test_unusable_input_raises_discovery_error(data: bytes, message: str) -> None:
    with pytest.raises(DiscoveryError, match=message):
        parse_feed(data, "https://x.example/feed")


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE rss [
 <!ENTITY a "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa">
 <!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
 <!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">
 <!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">
 <!ENTITY e "&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;">
]>
<rss version="2.0"><channel><title>&e;</title>
<item><title>&e;</title><link>https://x.example/a</link></item></channel></rss>"""

EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE rss [<!ENTITY secret SYSTEM "file:///etc/hostname">]>
<rss version="2.0"><channel><title>t</title>
<item><title>&secret;</title><link>https://x.example/a</link></item></channel></rss>"""


@pytest.mark.parametrize("bomb", [BILLION_LAUGHS, EXTERNAL_ENTITY])
@pytest.mark.parametrize("encoding", ["utf-8", "utf-16"])
def test_entity_declarations_are_refused_fast(bomb: bytes, encoding: str) -> None:
    data = bomb.decode("utf-8").replace('version="1.0"?>', f'version="1.0" encoding="{encoding}"?>')
    started = time.monotonic()

    with pytest.raises(DiscoveryError, match="declares XML entities"):
        parse_feed(data.encode(encoding), "https://x.example/feed")

    assert time.monotonic() - started < 1.0


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=2000))
def test_fuzz_arbitrary_bytes(data: bytes) -> None:
    try:
        links = parse_feed(data, "https://x.example/feed")
    except DiscoveryError:
        return
    assert all(link.url.startswith(("http://", "https://")) for link in links)


_FEED_PART = st.sampled_from(
    [
        "<rss version='2.0'>",
        "<channel>",
        "<item>",
        "<title>",
        "x & y",
        "</title>",
        "<link>",
        "/a?utm_source=z",
        "https://x.example/b",
        "javascript:alert(1)",
        "</link>",
        "<pubDate>",
        "Fri, 14 Mar 2025 08:30:00 +0100",
        "32.13.2025",
        "</pubDate>",
        "</item>",
        "</channel>",
        "</rss>",
        "<feed xmlns='http://www.w3.org/2005/Atom'>",
        "<entry>",
        "<link href='c'/>",
        "</entry>",
        "<![CDATA[",
        "]]>",
        "&#0;",
        "\x00",
    ]
)


@settings(max_examples=150, deadline=None)
@given(st.lists(_FEED_PART, max_size=40))
def test_fuzz_feed_shaped_input(parts: list[str]) -> None:
    try:
        links = parse_feed("".join(parts).encode(), "https://x.example/feed")
    except DiscoveryError:
        return
    assert all(link.url.startswith(("http://", "https://")) for link in links)


def test_padded_prolog_bomb_is_refused_but_entity_text_in_content_is_not() -> None:
    padding = b"<!-- " + b"pad " * 100_000 + b"-->"
    padded = BILLION_LAUGHS.replace(b"<!DOCTYPE", padding + b"<!DOCTYPE")
    about_xml = b"""<rss version="2.0"><channel><title>XML weekly</title><item>
    <title>Entities explained</title><link>https://x.example/entities</link>
    <description><![CDATA[Write <!ENTITY a "b"> in the DTD.]]></description>
    </item></channel></rss>"""

    with pytest.raises(DiscoveryError, match="declares XML entities"):
        parse_feed(padded, "https://x.example/feed")
    assert [link.url for link in parse_feed(about_xml, "https://x.example/feed")] == [
        "https://x.example/entities"
    ]


def test_feedburner_original_link_wins() -> None:
    feed = b"""<rss version="2.0" xmlns:feedburner="http://rssnamespace.org/feedburner/ext/1.0">
    <channel><title>t</title><item><title>Tolls</title>
    <link>https://feeds.example/~r/courier/~3/abc/</link>
    <feedburner:origLink>https://courier.example/opinion/tolls</feedburner:origLink>
    </item></channel></rss>"""

    (link,) = parse_feed(feed, "https://feeds.example/courier")

    assert link.url == "https://courier.example/opinion/tolls"
