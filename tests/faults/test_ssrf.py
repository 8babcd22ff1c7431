"""SSRF: a public page may not lead the scraper into a private network.

All on loopback, honestly: `settings.treat_as_public` lets 127.0.0.1 play a public
host while 127.0.0.2 stays private; everything else (the URL checks, the resolution
and the connect-time check of the resolved address) is the real code path.
"""

from __future__ import annotations

import asyncio
import ipaddress
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from pytest_httpserver import HTTPServer

from scraper.discovery import discover, fetcher_fetch
from scraper.discovery.sources import Source
from scraper.errors import FetchError, ForbiddenAddress
from scraper.fetch.addresses import AddressPolicy
from scraper.fetch.fetcher import Fetcher, FetchRequest
from scraper.fetch.http import fetch_page, make_client
from scraper.settings import Politeness, Settings
from tests.conftest import run_scraper
from tests.faults.rawserver import RawServer, html, redirect, reply

PUBLIC = [ipaddress.ip_network("127.0.0.1/32")]
SECRET = "<html><head><title>Internal admin</title></head><body><p>secret</p></body></html>"
PAGE = (
    "<html><head><title>Harbour fees rise again</title></head><body><article>"
    "<h1>Harbour fees rise again</h1>"
    + "<p>The harbour board raised mooring fees for the third year running.</p>" * 12
    + "</article></body></html>"
)


@pytest.mark.parametrize(
    ("from_url", "to_url", "refused"),
    [
        ("http://news.example/a", "http://127.0.0.1/admin", True),
        ("http://news.example/a", "http://10.1.2.3/", True),
        ("http://news.example/a", "http://192.168.0.1/", True),
        ("http://news.example/a", "http://169.254.169.254/latest/meta-data/", True),
        ("http://news.example/a", "http://[::1]:8080/", True),
        ("http://news.example/a", "http://[fe80::1]/", True),
        ("http://news.example/a", "http://100.64.0.1/", True),  # carrier-grade NAT
        ("http://news.example/a", "http://0.0.0.0/", True),
        ("http://news.example/a", "http://localhost:631/", True),
        ("http://news.example/a", "http://printer.localhost/", True),
        ("http://news.example/a", "http://other.example/b", False),
        ("http://news.example/a", "https://93.184.215.14/", False),
        ("http://127.0.0.1/feed", "http://127.0.0.1/a", False),  # private to private
        ("http://192.168.1.5/feed", "http://10.0.0.1/a", False),
        (None, "http://127.0.0.1/a", False),  # asked for by the user
        (None, "file:///etc/passwd", True),
        ("http://news.example/a", "ftp://news.example/file", True),
        ("http://news.example/a", "gopher://127.0.0.1:6379/_FLUSHALL", True),
        ("http://news.example/a", "javascript:alert(1)", True),
        ("http://news.example/a", "http:///no-host", True),
        ("http://news.example/a", "http://[::1/", True),  # malformed: refused, not raised
        # Full stops and digits IDNA (UTS-46) maps to ASCII, as aiohttp will send them:
        (
            "http://news.example/a",
            "http://127\u30020\u30020\u30021/",
            True,
        ),  # U+3002 ideographic full stop
        (
            "http://news.example/a",
            "http://127\uff0e0\uff0e0\uff0e1/",
            True,
        ),  # U+FF0E fullwidth full stop
        (
            "http://news.example/a",
            "http://127\uff610\uff610\uff611/",
            True,
        ),  # U+FF61 halfwidth ideographic full stop
        ("http://news.example/a", "http://10.0\u30020.1/", True),  # one among ASCII dots
        ("http://news.example/a", "http://\uff11\uff12\uff17.0.0.1/", True),  # fullwidth digits
        ("http://news.example/a", "http://169\u3002254.169.254/latest/", True),
        ("http://news.example/a", "http://localhost\u3002/", True),
        ("http://news.example/a", "http://\u24dbocalhost/", True),  # circled l
        ("http://news.example/a", "http://[::ffff:127.0.0.1]/", True),  # IPv4-mapped IPv6
        ("http://news.example/a", "http://b\u00fccher.example/", False),  # a real IDN
        ("http://127\u30020.0.1/feed", "http://127.0.0.1/a", False),  # private to private
    ],
)
def test_hop_refusal(from_url: str | None, to_url: str, refused: bool) -> None:
    assert (AddressPolicy().hop_refusal(from_url, to_url) is not None) is refused


def test_allow_private_still_refuses_other_schemes() -> None:
    policy = AddressPolicy(allow_private=True)
    assert policy.hop_refusal("http://news.example/", "http://127.0.0.1/") is None
    assert policy.hop_refusal("http://news.example/", "file:///etc/passwd") is not None


def test_peer_refusal_judges_resolved_addresses() -> None:
    policy = AddressPolicy()
    assert policy.peer_refusal("cdn.example", ["93.184.215.14"]) is None
    assert "private address 127.0.0.1" in (policy.peer_refusal("127.1", ["127.0.0.1"]) or "")
    assert policy.peer_refusal("evil.example", ["93.184.215.14", "10.0.0.7"]) is not None
    assert policy.peer_refusal("127.0.0.1", ["127.0.0.1"]) is None  # a literal: judged by URL
    assert AddressPolicy(allow_private=True).peer_refusal("x.example", ["10.0.0.7"]) is None


def public_settings(**changes: Any) -> Settings:
    return Settings(
        politeness=Politeness(delay=0, obey_robots=False), treat_as_public=PUBLIC, **changes
    )


async def _through_redirect(location_for: Any, settings: Settings) -> tuple[Any, int]:
    """Fetch a "public" page on 127.0.0.1 that redirects into 127.0.0.2."""
    async with RawServer({"/admin": html(SECRET)}, host="127.0.0.2") as private:
        routes = {"/": redirect(location_for(private.port))}
        async with RawServer(routes) as public, make_client(settings) as client:
            try:
                result: Any = await fetch_page(client, public.url("/"), settings)
            except FetchError as exc:
                result = exc
            return result, private.hits["/admin"]


@pytest.mark.parametrize(
    "location",
    [
        "http://127.0.0.2:{port}/admin",  # an IP literal: refused before any request
        "http://127.0.2:{port}/admin",  # legacy all-digit forms: aiohttp refuses them
        "http://2130706434:{port}/admin",  # outright (not canonical IPv4)
        "http://0x7f.0.0.2:{port}/admin",  # the resolver turns it into 127.0.0.2 (no DNS
        "http://0x7f.2:{port}/admin",  # query) and the resolved address is refused
        "http://localhost:{port}/admin",
        "http://127\u30020\u30020\u30022:{port}/admin",  # non-ASCII full stops: aiohttp
        "http://127\uff0e0\uff0e0\uff0e2:{port}/admin",  # maps them to "." and connects
        "http://127\uff610\uff610\uff612:{port}/admin",  # to 127.0.0.2 unresolved
        "http://127.0\u30020.2:{port}/admin",
        "http://\uff11\uff12\uff17.0.0.2:{port}/admin",
        "http://[::ffff:127.0.0.2]:{port}/admin",
    ],
)
def test_redirect_from_public_into_private_is_refused(location: str) -> None:
    result, hits = asyncio.run(
        _through_redirect(lambda port: location.format(port=port), public_settings())
    )
    assert isinstance(result, ForbiddenAddress), result
    assert hits == 0, "the private server must never see the request"


@pytest.mark.parametrize("location", ["file:///etc/passwd", "ftp://127.0.0.1/", "gopher://x/"])
def test_redirect_to_another_scheme_is_refused(location: str) -> None:
    result, _ = asyncio.run(_through_redirect(lambda port: location, public_settings()))
    assert isinstance(result, ForbiddenAddress)


def test_a_location_that_is_not_a_web_url_is_a_clean_error() -> None:
    """``data:,x`` has no host to request."""
    result, _ = asyncio.run(_through_redirect(lambda port: "data:,hi", public_settings()))
    assert isinstance(result, FetchError)


def test_a_literal_is_checked_at_connect_time_too() -> None:
    """Below the hop check: a request that did not come through `fetch_page` (so nothing
    said its private host was allowed) is refused by the socket factory itself."""

    async def main() -> tuple[str, int]:
        settings = Settings(treat_as_public=PUBLIC)
        async with (
            RawServer({"/admin": html(SECRET)}, host="127.0.0.2") as private,
            make_client(settings) as client,
        ):
            try:
                await client.session().get(private.url("/admin"))
            except aiohttp.ClientConnectorError as exc:
                return str(exc.os_error), private.hits["/admin"]
            return "connected", private.hits["/admin"]

    outcome, hits = asyncio.run(main())
    assert "private address 127.0.0.2" in outcome and hits == 0


def test_allow_private_addresses_lets_the_redirect_through() -> None:
    settings = public_settings(allow_private_addresses=True)
    result, hits = asyncio.run(
        _through_redirect(lambda port: f"http://0x7f.0.0.2:{port}/admin", settings)
    )
    assert not isinstance(result, FetchError), result
    assert result.status == 200 and hits == 1


@pytest.mark.parametrize("host", ["127.0.2", "2130706434", "017700000002"])
def test_legacy_numeric_hosts_are_never_requested(host: str) -> None:
    """All-digit IPv4 spellings other than the dotted quad are refused even where private
    addresses are allowed: aiohttp will not connect to them, and neither is retried."""
    settings = public_settings(allow_private_addresses=True)
    result, hits = asyncio.run(
        _through_redirect(lambda port: f"http://{host}:{port}/admin", settings)
    )
    assert isinstance(result, ForbiddenAddress) and "canonical" in result.detail
    assert hits == 0


def test_a_name_resolving_to_a_private_address_is_refused_by_default() -> None:
    """The DNS defence: the URL names no private address, the resolved address is one."""

    async def main(settings: Settings) -> Any:
        async with (
            RawServer({"/": html(PAGE)}, host="127.0.0.2") as server,
            make_client(settings) as client,
        ):
            try:
                return await fetch_page(client, f"http://0x7f.0.0.2:{server.port}/", settings)
            except FetchError as exc:
                return exc

    refused = asyncio.run(main(Settings()))
    assert isinstance(refused, ForbiddenAddress)
    assert "resolves to the private address 127.0.0.2" in refused.detail
    assert asyncio.run(main(Settings(allow_private_addresses=True))).status == 200


def test_fetcher_refuses_a_private_link_from_a_public_referrer_before_robots() -> None:
    async def main() -> tuple[Any, int]:
        async with RawServer({"/a": html(PAGE)}, host="127.0.0.2") as private:
            settings = Settings(treat_as_public=PUBLIC)  # robots.txt obeyed
            async with Fetcher(settings) as fetcher:
                outcome = await fetcher.fetch(
                    FetchRequest(private.url("/a"), referrer="http://127.0.0.1/listing")
                )
            return outcome, sum(private.hits.values())

    outcome, hits = asyncio.run(main())
    assert isinstance(outcome.error, ForbiddenAddress) and outcome.attempts == 0
    assert hits == 0, "not even robots.txt is asked for"


def _feed(links: list[str]) -> bytes:
    items = "".join(
        f"<item><title>Column {i}</title><link>{link}</link></item>" for i, link in enumerate(links)
    )
    return (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>Opinion</title>'
        f"{items}</channel></rss>"
    ).encode()


def test_discovered_links_and_child_sitemaps_into_private_networks_are_refused() -> None:
    async def main() -> tuple[Any, Any, RawServer]:
        async with RawServer({"/a": html(PAGE)}, host="127.0.0.2") as private:
            secret, child = private.url("/a"), private.url("/child.xml")
            dotted = secret.replace("127.0.0.2", "127\u30020\uff0e0\uff612")
            index = (
                '<?xml version="1.0"?><sitemapindex '
                'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
                f"<sitemap><loc>{child}</loc></sitemap></sitemapindex>"
            ).encode()
            routes = {
                "/feed.xml": reply(200, b"", []),
                "/index.xml": reply(200, index, [("Content-Type", "application/xml")]),
            }
            async with RawServer(routes) as public:
                feed = _feed([public.url("/ok"), secret, dotted])
                routes["/feed.xml"] = reply(200, feed, [("Content-Type", "application/rss+xml")])
                settings = public_settings()
                policy = AddressPolicy(False, settings.treat_as_public)
                now = datetime.now(UTC)
                async with Fetcher(settings) as fetcher:
                    feed_source = Source(name="f", kind="feed", urls=[public.url("/feed.xml")])
                    found = await discover(
                        feed_source, fetcher_fetch(fetcher, feed_source), now=now, policy=policy
                    )
                    map_source = Source(name="s", kind="sitemap", urls=[public.url("/index.xml")])
                    mapped = await discover(
                        map_source, fetcher_fetch(fetcher, map_source), now=now, policy=policy
                    )
                return found, mapped, private

    found, mapped, private = asyncio.run(main())
    assert [link.url.rsplit("/", 1)[1] for link in found.links] == ["ok"]
    assert sum("private address 127.0.0.2" in message for _, message in found.errors) == 2
    assert any("private address 127.0.0.2" in message for _, message in mapped.errors)
    assert sum(private.hits.values()) == 0


@pytest.fixture
def two_hosts() -> Iterator[tuple[HTTPServer, HTTPServer]]:
    public, private = HTTPServer(host="127.0.0.1"), HTTPServer(host="127.0.0.2")
    public.start()
    private.start()
    yield public, private
    public.clear()
    private.clear()
    public.stop()
    private.stop()


def test_scraper_run_never_fetches_a_private_link_from_a_public_feed(
    two_hosts: tuple[HTTPServer, HTTPServer], workdir: Path
) -> None:
    public, private = two_hosts
    private.expect_request("/admin").respond_with_data(SECRET, content_type="text/html")
    private.expect_request("/robots.txt").respond_with_data("", status=404)
    public.expect_request("/robots.txt").respond_with_data("", status=404)
    public.expect_request("/feed.xml").respond_with_data(
        _feed([public.url_for("/harbour-fees"), private.url_for("/admin")]),
        content_type="application/rss+xml",
    )
    public.expect_request("/harbour-fees").respond_with_data(PAGE, content_type="text/html")
    (workdir / "sources.toml").write_text(
        "[settings]\ntreat_as_public = ['127.0.0.1/32']\n[settings.politeness]\ndelay = 0\n"
        f'[[sources]]\nname = "harbour"\nkind = "feed"\nurls = ["{public.url_for("/feed.xml")}"]\n',
        encoding="utf-8",
    )

    result = run_scraper("run", cwd=workdir)

    assert result.returncode == 11, result.stderr  # partial: the refused link is reported
    assert "private address 127.0.0.2" in result.stdout + result.stderr
    assert private.log == [], "nothing, not even robots.txt, was asked of the private host"
    saved = list((workdir / "data" / "clean").rglob("*.json"))
    assert len(saved) == 1 and "Harbour fees" in saved[0].read_text(encoding="utf-8")
