"""Sitemap discovery is bounded by the source's limits, whatever the indexes hold: a
fan-out index of 100,000 children costs max_sitemaps fetches and well under a second of
bookkeeping, enough links for max_pages stop the walk, and a gzip'd sitemap may not
inflate past the fetch's byte cap."""

from __future__ import annotations

import asyncio
import gzip
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from scraper.discovery import DiscoveryError, discover, parse_sitemap
from scraper.discovery.sources import Source
from tests.conftest import run_scraper

SITE = "https://harbour.test"
NOW = datetime(2026, 11, 20, tzinfo=UTC)


def _index(children: list[str]) -> bytes:
    refs = "".join(f"<sitemap><loc>{url}</loc></sitemap>" for url in children)
    return f'<?xml version="1.0"?><sitemapindex>{refs}</sitemapindex>'.encode()


def _urlset(prefix: str, count: int) -> bytes:
    urls = "".join(f"<url><loc>{SITE}/{prefix}/{i}</loc></url>" for i in range(count))
    return f'<?xml version="1.0"?><urlset>{urls}</urlset>'.encode()


class Site:
    """Documents by URL, and every URL asked for, in order."""

    def __init__(
        self, documents: dict[str, bytes], default: Callable[[str], bytes] = lambda url: b""
    ) -> None:
        self.documents = documents
        self.default = default
        self.asked: list[str] = []

    async def fetch(self, url: str) -> bytes:
        self.asked.append(url)
        return self.documents[url] if url in self.documents else self.default(url)


def test_a_fan_out_index_costs_max_sitemaps_fetches() -> None:
    # 100,000 children, each an index of 5,000 children of its own: millions of refs.
    children = [f"{SITE}/s/{i}.xml" for i in range(100_000)]
    site = Site(
        {f"{SITE}/index.xml": _index(children)},
        lambda url: _index([f"{url}/{i}.xml" for i in range(5_000)]),
    )
    source = Source(name="fan", kind="sitemap", urls=[f"{SITE}/index.xml"], max_sitemaps=20)

    # CPU time, not wall time: a loaded machine (a CI runner beside other jobs) stretches
    # the wall clock several times over, and this bound is about work done.
    started = time.process_time()
    result = asyncio.run(discover(source, site.fetch, now=NOW))
    elapsed = time.process_time() - started

    assert len(site.asked) == 20
    assert any("not fetched: over max_sitemaps=20" in message for _, message in result.errors)
    assert elapsed < 10, f"{elapsed:.1f} CPU s"  # mostly reading the 4 MB index once


def test_enough_links_for_max_pages_stop_the_walk() -> None:
    children = [f"{SITE}/s/{i}.xml" for i in range(30)]
    documents = {f"{SITE}/index.xml": _index(children)}
    documents |= {url: _urlset(f"s{i}", 100) for i, url in enumerate(children)}
    site = Site(documents)
    source = Source(name="many", kind="sitemap", urls=[f"{SITE}/index.xml"], max_pages=150)

    result = asyncio.run(discover(source, site.fetch, now=NOW))

    assert len(result.links) == 150
    assert len(site.asked) == 3  # the index and two urlsets of 100


def test_a_gzipd_sitemap_may_not_inflate_past_the_byte_cap() -> None:
    inflated = _urlset("big", 40_000)  # ~1.5 MB of XML
    packed = gzip.compress(inflated)
    assert len(packed) < 200_000
    with pytest.raises(DiscoveryError, match="larger than 1000000 bytes uncompressed"):
        parse_sitemap(packed, f"{SITE}/big.xml.gz", max_bytes=1_000_000)
    assert len(parse_sitemap(packed, f"{SITE}/big.xml.gz").links) == 40_000


def test_a_run_refuses_a_sitemap_inflating_past_limits_max_bytes(
    httpserver: HTTPServer, workdir: Path
) -> None:
    packed = gzip.compress(_urlset("big", 40_000))
    httpserver.expect_request("/robots.txt").respond_with_data("", status=404)
    httpserver.expect_request("/big.xml.gz").respond_with_data(
        packed, content_type="application/octet-stream"
    )
    (workdir / "sources.toml").write_text(
        "[settings]\nallow_private_addresses = true\n[settings.limits]\nmax_bytes = 1000000\n"
        f'[[sources]]\nname = "big"\nkind = "sitemap"\n'
        f'urls = ["{httpserver.url_for("/big.xml.gz")}"]\n',
        encoding="utf-8",
    )

    result = run_scraper("run", cwd=workdir)

    assert result.returncode == 11, result.stderr
    assert "larger than 1000000 bytes uncompressed" in result.stdout + result.stderr
