"""discover() against a real HTTP site on 127.0.0.1, fetched through scraper.fetch.http."""

from __future__ import annotations

import asyncio
import gzip
import socket
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

from scraper.discovery import (
    DiscoveryResult,
    ListingRules,
    discover,
    fetcher_fetch,
    load_listing_rules,
)
from scraper.discovery.sources import PolitenessOverride, Source
from scraper.errors import HTTPStatusError
from scraper.fetch.fetcher import Fetcher
from scraper.fetch.http import fetch_page, make_client
from scraper.settings import Settings
from tests.scraper.discovery.helpers import discovery_bytes

NOW = datetime(2025, 3, 15, 12, 0, tzinfo=UTC)
XML = "application/xml"


@pytest.fixture
def site(httpserver: HTTPServer) -> Iterator[HTTPServer]:
    """A small aggregator + publisher site: listings with pagination, feeds, sitemaps."""
    base = httpserver.url_for("").rstrip("/")

    def serve(path: str, body: bytes, content_type: str = "text/html", **match: Any) -> None:
        httpserver.expect_request(path, **match).respond_with_data(body, content_type=content_type)

    for number, query in ((1, ""), (2, "page=2"), (3, "page=3")):
        page = discovery_bytes(f"qoshe/columnist-page{number}.html")
        serve("/columnist/jo-parker", page, query_string=query)
    serve("/newspaper/riverside-gazette", discovery_bytes("qoshe/newspaper.html"))
    serve("/redesigned", b"<html><body><div class='new-grid'>soon</div></body></html>")
    serve("/opinion/rss.xml", discovery_bytes("feeds/rss2.xml"), "application/rss+xml")
    serve("/columnists/atom.xml", discovery_bytes("feeds/atom.xml"), "application/atom+xml")
    httpserver.expect_request("/broken/rss.xml").respond_with_data("oops", status=500)
    serve("/moved-feed", b"<!DOCTYPE html><html><body>We moved!</body></html>")
    serve("/sitemap_index.xml", discovery_bytes("sitemaps/index.xml", base), XML)
    gz = gzip.compress(discovery_bytes("sitemaps/opinion-2025-03.xml", base))
    serve("/sitemaps/opinion-2025-03.xml.gz", gz, "application/gzip")
    serve("/sitemaps/news.xml", discovery_bytes("sitemaps/news.xml", base), XML)
    old = b"<urlset><url><loc>https://SITE/opinion/2019/01/05/x/</loc></url></urlset>"
    serve("/sitemaps/opinion-2019-01.xml.gz", gzip.compress(old), "application/gzip")
    httpserver.expect_request("/sitemaps/missing.xml").respond_with_data("gone", status=404)
    yield httpserver


async def _discover(source: Source, **kwargs: Any) -> tuple[DiscoveryResult, list[str]]:
    """Discover through the project's HTTP layer; a status >= 400 raises HTTPStatusError."""
    settings = Settings(allow_private_addresses=True)
    fetched: list[str] = []
    async with make_client(settings) as client:

        async def fetch(url: str) -> bytes:
            fetched.append(url)
            page = await fetch_page(client, url, settings)
            if page.status >= 400:
                raise HTTPStatusError(url, f"HTTP {page.status}", status=page.status)
            return page.body

        return await discover(source, fetch, now=NOW, **kwargs), fetched


def run(source: Source, **kwargs: Any) -> tuple[DiscoveryResult, list[str]]:
    """The links found and the URLs fetched, in order."""
    return asyncio.run(_discover(source, **kwargs))


def _aggregator(server: HTTPServer, *paths: str, **options: Any) -> Source:
    urls = [server.url_for(path) for path in paths]
    return Source(name="qoshe-test", kind="aggregator", urls=urls, listing="qoshe", **options)


def test_listings_follow_pagination_and_dedupe(site: HTTPServer) -> None:
    source = _aggregator(site, "/columnist/jo-parker", "/newspaper/riverside-gazette")

    result, fetched = run(source)

    base = site.url_for("/columnist/jo-parker")
    assert sorted(fetched) == sorted(
        [base, f"{base}?page=2", f"{base}?page=3", site.url_for("/newspaper/riverside-gazette")]
    )
    assert result.errors == []
    urls = [link.url for link in result.links]
    assert len(urls) == len(set(urls)) == 11  # night-buses: 2 pages + 1 tracked link, kept once
    night = site.url_for("/riverside-gazette/jo-parker/night-buses/188000100")
    assert result.links[0].url == night
    assert result.links[0].published == "2025-03-14"
    assert result.links[0].source == "qoshe-test"
    assert result.links[0].found_on == base
    days = [link.published[:10] for link in result.links if link.published]
    assert days == sorted(days, reverse=True)  # newest first
    assert result.links[-1].title == "A Budget Written for the Ring Road"  # undated: last
    assert result.fetched == 4


def test_max_age_days_stops_pagination_and_filters(site: HTTPServer) -> None:
    source = _aggregator(
        site, "/columnist/jo-parker", "/newspaper/riverside-gazette", max_age_days=7
    )

    result, fetched = run(source)

    assert f"{site.url_for('/columnist/jo-parker')}?page=3" not in fetched  # page 2 was all old
    assert [(link.title, link.published) for link in result.links] == [
        ("Opinion – Why Small Towns Need Night Buses", "2025-03-14"),
        ("The Ferry Timetable Is a Puzzle by Design", "2025-03-13"),
        ("Mend the Harbour Wall Before the Storms Do", "2025-03-11"),
        ("Keep the Library Open After Six", "2025-03-10"),
    ]
    assert result.too_old == 5


def test_max_pages_keeps_the_newest(site: HTTPServer) -> None:
    source = _aggregator(site, "/columnist/jo-parker", max_pages=2, max_listing_pages=1)

    result, fetched = run(source)

    assert len(fetched) == 1
    assert [link.published for link in result.links] == ["2025-03-14", "2025-03-10"]
    assert result.over_limit == 2


def test_feeds_with_a_broken_and_a_moved_url(site: HTTPServer) -> None:
    urls = [site.url_for(path) for path in ("/opinion/rss.xml", "/broken/rss.xml")]
    urls += [site.url_for("/moved-feed"), site.url_for("/columnists/atom.xml")]
    source = Source(name="feeds", kind="feed", urls=urls)

    result, _ = run(source)

    assert len(result.links) == 5
    assert result.links[0].title == "Repair cafés need rooms, not grants"
    assert [url for url, _ in result.errors] == urls[1:3]
    assert "HTTP 500" in result.errors[0][1]
    assert "not an RSS or Atom feed" in result.errors[1][1]


def test_sitemap_index_gzip_news_lastmod_and_include(site: HTTPServer) -> None:
    source = Source(
        name="courier-sitemap",
        kind="sitemap",
        urls=[site.url_for("/sitemap_index.xml")],
        max_age_days=14,
        include=["/opinion/"],
    )

    result, fetched = run(source)

    assert site.url_for("/sitemaps/opinion-2019-01.xml.gz") not in fetched  # old lastmod
    assert [(link.url.removeprefix(site.url_for("")), link.title) for link in result.links] == [
        ("opinion/2025/03/14/repair-cafes-need-rooms/", "Repair cafés need rooms, not grants"),
        ("opinion/2025/03/13/night-trains/", "Bring back the night train to the coast"),
        ("opinion/2025/03/12/tram-extension/", None),
        ("opinion/archive?month=03&year=2025", None),
    ]  # the title came from the news sitemap, the first sighting from the gz one
    assert result.links[0].published == "2025-03-14T08:30:00+01:00"
    assert len(result.errors) == 1
    assert result.errors[0][0] == site.url_for("/sitemaps/missing.xml")
    assert "HTTP 404" in result.errors[0][1]


def test_sitemap_loops_and_depth_are_capped(httpserver: HTTPServer) -> None:
    def index(*children: str) -> bytes:
        locs = "".join(
            f"<sitemap><loc>{httpserver.url_for(child)}</loc></sitemap>" for child in children
        )
        return f"<sitemapindex>{locs}</sitemapindex>".encode()

    for path, body in {
        "/a.xml": index("/b.xml", "/a.xml"),
        "/b.xml": index("/a.xml", "/c.xml", "/urls.xml"),
        "/c.xml": index("/d.xml"),
        "/d.xml": index("/e.xml"),
        "/urls.xml": b"<urlset><url><loc>https://x.example/one</loc></url></urlset>",
    }.items():
        httpserver.expect_request(path).respond_with_data(body, content_type=XML)
    source = Source(name="s", kind="sitemap", urls=[httpserver.url_for("/a.xml")])

    result, fetched = run(source)

    assert [link.url for link in result.links] == ["https://x.example/one"]
    assert sorted(fetched) == sorted(
        httpserver.url_for(path) for path in ("/a.xml", "/b.xml", "/c.xml", "/urls.xml", "/d.xml")
    )  # each once; /e.xml is past the depth cap
    assert result.errors == [
        (httpserver.url_for("/d.xml"), "sitemap indexes nested deeper than 3; not followed")
    ]


def test_max_sitemaps_caps_the_fetches(site: HTTPServer) -> None:
    source = Source(
        name="s", kind="sitemap", urls=[site.url_for("/sitemap_index.xml")], max_sitemaps=2
    )

    result, fetched = run(source)

    assert len(fetched) == 2
    assert result.errors[-1][1] == "3 sitemaps not fetched: over max_sitemaps=2"


def test_layout_change_and_unreachable_listing_are_errors(site: HTTPServer) -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{closed.getsockname()[1]}/columnist/x"
    source = _aggregator(site, "/redesigned", "/newspaper/riverside-gazette")
    source = source.model_copy(update={"urls": [*source.urls, dead]})

    result, _ = run(source)

    assert len(result.links) == 3  # the newspaper listing still counts
    assert result.errors[0][0] == site.url_for("/redesigned")
    assert "found no items; the layout may have changed" in result.errors[0][1]
    assert result.errors[1][0] == dead
    assert "connection refused" in result.errors[1][1]


def test_numbered_pagination_ends_quietly_at_404(httpserver: HTTPServer) -> None:
    for number in (1, 2):
        body = f"<ul><li><a href='/a{number}'>A{number}</a></li></ul>".encode()
        query = "" if number == 1 else f"p={number}"
        httpserver.expect_request("/list", query_string=query).respond_with_data(
            body, content_type="text/html"
        )
    httpserver.expect_request("/list", query_string="p=3").respond_with_data("", status=404)
    rules = ListingRules.model_validate(
        {"name": "numbered", "selectors": {"item": ["li"]}, "page_param": "p"}
    )

    result, fetched = run(_aggregator(httpserver, "/list"), rules=rules)

    assert [link.title for link in result.links] == ["A1", "A2"]
    assert len(fetched) == 3
    assert result.errors == []


def test_next_page_on_another_host_is_not_followed(httpserver: HTTPServer) -> None:
    body = (
        b"<div class='card'><a href='/a'><h1>A</h1></a></div><div class='pagination'>"
        b"<a rel='next' href='http://127.0.0.2:9/list?page=2'>Next</a></div>"
    )
    httpserver.expect_request("/list").respond_with_data(body, content_type="text/html")

    result, fetched = run(_aggregator(httpserver, "/list"))

    assert fetched == [httpserver.url_for("/list")]
    assert [link.title for link in result.links] == ["A"]
    assert result.errors == [
        (
            httpserver.url_for("/list"),
            "next page http://127.0.0.2:9/list?page=2 is on another host; not followed",
        )
    ]


def test_oldest_first_listing_is_paged_past_old_items(httpserver: HTTPServer) -> None:
    pages = {
        "": b"<ul><li><a href='/old'>Old</a><i>01.01.2020</i></li></ul>",
        "p=2": b"<ul><li><a href='/new'>New</a><i>14.03.2025</i></li></ul>",
    }
    for query, body in pages.items():
        httpserver.expect_request("/list", query_string=query).respond_with_data(
            body, content_type="text/html"
        )
    httpserver.expect_request("/list", query_string="p=3").respond_with_data("", status=404)

    def rules(newest_first: bool) -> ListingRules:
        return ListingRules.model_validate(
            {
                "name": "oldest-first",
                "selectors": {"item": ["li"], "date": ["i"]},
                "date_formats": ["%d.%m.%Y"],
                "page_param": "p",
                "newest_first": newest_first,
            }
        )

    source = _aggregator(httpserver, "/list", max_age_days=30)

    stopped, _ = run(source, rules=rules(True))
    paged, _ = run(source, rules=rules(False))

    assert stopped.links == []
    assert [link.title for link in paged.links] == ["New"]


def test_through_the_polite_fetcher_robots_and_source_politeness(site: HTTPServer) -> None:
    site.expect_request("/robots.txt").respond_with_data(
        "User-agent: *\nDisallow: /newspaper/\n", content_type="text/plain"
    )
    source = _aggregator(
        site,
        "/columnist/jo-parker",
        "/newspaper/riverside-gazette",
        politeness=PolitenessOverride(delay=0.0),  # the default 1 s would make this slow
    )

    async def go() -> DiscoveryResult:
        async with Fetcher(Settings(allow_private_addresses=True)) as fetcher:
            return await discover(source, fetcher_fetch(fetcher, source), now=NOW)

    result = asyncio.run(go())

    assert len(result.links) == 9  # the three columnist pages
    assert result.errors == [(site.url_for("/newspaper/riverside-gazette"), result.errors[0][1])]
    assert "robots.txt" in result.errors[0][1]
    assert "/newspaper/riverside-gazette" not in [request.path for request, _ in site.log]


def test_expired_listing_rules_warn(site: HTTPServer) -> None:
    rules = load_listing_rules("qoshe").model_copy(update={"valid_until": date(2025, 3, 1)})

    result, _ = run(_aggregator(site, "/newspaper/riverside-gazette"), rules=rules)
    fresh, _ = run(_aggregator(site, "/newspaper/riverside-gazette"))

    assert len(result.links) == 3
    assert result.warnings == [
        "listing rules 'qoshe' are past their valid_until (2025-03-01): check them against the site"
    ]
    assert fresh.warnings == []
