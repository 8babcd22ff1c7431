"""`scraper.Crawler`: records from sources in a script, against the demo web on 127.0.0.1."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from cleaner import Article, Reject
from scraper import Crawler
from scraper.demo.server import DemoServer
from scraper.errors import ConfigError
from scraper.settings import Settings
from tests.scraper.jobs.test_run import DEMO_TITLES, write_config


@pytest.fixture
def server() -> Iterator[DemoServer]:
    with DemoServer() as demo:
        yield demo


def test_crawl_yields_the_articles_and_writes_nothing(server: DemoServer, workdir: Path) -> None:
    config = write_config(workdir, server)

    articles = list(Crawler.from_config(config).crawl())

    assert all(isinstance(article, Article) for article in articles)
    assert {article.title for article in articles} == DEMO_TITLES
    assert len({article.id for article in articles}) == len(articles)
    # Teasers on the aggregator became their originals, credited to it, as `run` saves them.
    gazette = next(a for a in articles if a.title == "Why small towns need night buses")
    assert gazette.aggregator == "QOSHE" and not gazette.truncated
    assert sorted(p.name for p in workdir.iterdir()) == ["sources.toml"], "no data/ written"


def test_max_articles_stops_the_crawl(server: DemoServer, workdir: Path) -> None:
    config = write_config(workdir, server)
    crawler = Crawler.from_config(config, sources=["feed"], settings={"politeness.delay": 0})

    articles = list(crawler.crawl(max_articles=1))

    assert len(articles) == 1
    assert articles[0].source == "The Lakeside Courier"
    with pytest.raises(ConfigError, match="unknown source nope"):
        Crawler.from_config(config, sources=["nope"])


def test_urls_with_rejects(server: DemoServer) -> None:
    settings = Settings(allow_private_addresses=True)
    good = server.site.url("/lakeside/opinion/repair-shops")
    crawler = Crawler.from_urls([good, server.site.url("/no-such-page")], settings=settings)

    results = {type(r).__name__: r for r in crawler.crawl(rejects=True)}

    assert isinstance(results["Article"], Article) and results["Article"].url == good
    reject = results["Reject"]
    assert isinstance(reject, Reject) and reject.status == 404


def test_acrawl_in_an_event_loop_and_crawl_refuses_one(server: DemoServer, workdir: Path) -> None:
    config = write_config(workdir, server)
    crawler = Crawler.from_config(config, sources=["sitemap"])

    async def main() -> list[str]:
        with pytest.raises(
            RuntimeError, match=re.escape("use `async for article in crawler.acrawl")
        ):
            next(iter(crawler.crawl()))
        return [article.title async for article in crawler.acrawl()]

    titles = asyncio.run(main())

    assert sorted(titles) == [
        "School streets are working, so make them permanent",
        "Ten years on an allotment waiting list",
    ]
