"""A Python API for the scraping side: records from sources, in a script, without the CLI.

    from scraper import Crawler

    for article in Crawler.from_config("sources.toml").crawl(max_articles=10):
        print(article.title, article.url)

A thin layer over what `scraper run` does (discovery, the polite fetcher, the cleaner,
teasers settled into their originals) that yields `cleaner.Article` records as they come
instead of saving them: nothing is written to disk, no state is kept, no lock is taken.
`crawl()` is a plain generator driving its own event loop (no thread, no pool); inside
a running event loop (asyncio, Jupyter), use ``async for ... in crawler.acrawl()``.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncGenerator, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, Literal, overload

from cleaner import Article, Reject, article_id, canonicalize_url
from scraper.clock import Clock, utc_now
from scraper.discovery import Link
from scraper.discovery.sources import Source, SourcesConfig, load_sources
from scraper.fetch.fetcher import Fetcher, FetchOutcome, FetchRequest
from scraper.fetch.page import HTML_TYPES
from scraper.jobs.pipeline import clean_page, reject_for_error, settle_teaser
from scraper.jobs.progress import Reporter
from scraper.jobs.run import discover_links
from scraper.settings import Settings, apply_overrides


class Crawler:
    """Articles from configured sources (or from a list of article URLs), as they come."""

    def __init__(
        self,
        config: SourcesConfig,
        sources: Sequence[str] = (),
        *,
        links: Sequence[Link] | None = None,
        clock: Clock = utc_now,
    ) -> None:
        """Args:
        config: the sources and settings, as `scraper run` reads them.
        sources: names of the sources to crawl (enabled or not); all enabled when empty.
        links: article URLs to fetch instead of discovering them from the sources.
        clock: the time source (tests inject one).

        Raises:
            scraper.errors.ConfigError: an unknown source name.
        """
        self.config = config
        self.sources: list[Source] = config.select(list(sources))
        self._links = list(links) if links is not None else None
        self._clock = clock
        self.source_errors: dict[str, list[str]] = {}
        """Listing, feed or sitemap URLs that failed in the last crawl, by source name."""

    @classmethod
    def from_config(
        cls,
        path: str | Path = "sources.toml",
        *,
        sources: Sequence[str] = (),
        settings: dict[str, Any] | None = None,
    ) -> Crawler:
        """A crawler over the sources of a ``sources.toml``; ``settings`` overrides
        settings by dotted key, as ``-s`` does: ``{"politeness.delay": 0.5}``.

        Raises:
            scraper.errors.ConfigError: the file, a key or a value is invalid.
        """
        config = load_sources(path)
        if settings:
            changed = apply_overrides(config.settings, settings, origin="settings")
            config = config.model_copy(update={"settings": changed})
        return cls(config, sources)

    @classmethod
    def from_urls(cls, urls: Iterable[str], *, settings: Settings | None = None) -> Crawler:
        """A crawler over article URLs given directly (no discovery).

        Raises:
            ValueError: a URL is not an absolute http(s) URL.
        """
        links = [Link(url=canonicalize_url(url)) for url in urls]
        return cls(SourcesConfig(settings=settings or Settings()), links=links)

    @overload
    def crawl(
        self, max_articles: int | None = None, *, rejects: Literal[False] = False
    ) -> Iterator[Article]: ...
    @overload
    def crawl(
        self, max_articles: int | None = None, *, rejects: Literal[True]
    ) -> Iterator[Article | Reject]: ...
    def crawl(
        self, max_articles: int | None = None, *, rejects: bool = False
    ) -> Iterator[Article | Reject]:
        """Articles as they are fetched and cleaned, at most ``max_articles``; with
        ``rejects``, pages that did not become one too (as `cleaner.Reject`).

        Between two items nothing is fetched: the crawl goes at the pace of the loop
        that reads it, and stopping the loop (break) stops the crawl.

        Raises:
            RuntimeError: called inside a running event loop; use `acrawl` there.
        """
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            pass
        else:
            raise RuntimeError(
                "Crawler.crawl() runs its own event loop; inside one (asyncio, Jupyter) "
                "use `async for article in crawler.acrawl(...)`"
            )
        loop = asyncio.new_event_loop()
        items = self.acrawl(max_articles, rejects=rejects)
        try:
            while True:
                try:
                    yield loop.run_until_complete(anext(items))
                except StopAsyncIteration:
                    return
        finally:
            loop.run_until_complete(items.aclose())
            loop.close()

    async def acrawl(
        self, max_articles: int | None = None, *, rejects: bool = False
    ) -> AsyncGenerator[Article | Reject, None]:
        """`crawl` for asyncio code: ``async for article in crawler.acrawl(10): ...``."""
        settings = self.config.settings
        by_name = {source.name: source for source in self.sources}
        seen: set[str] = set()
        count = 0
        async with Fetcher(settings, clock=self._clock) as fetcher:
            if self._links is None:
                # A script reads `source_errors`, not log lines (a few per source).
                reporter = Reporter("plain", clock=self._clock, stream=io.StringIO())
                links, self.source_errors = await discover_links(
                    self.sources, fetcher, reporter, self._clock
                )
            else:
                links = self._links

            def request(url: str, source: str | None, referrer: str | None) -> FetchRequest:
                known = by_name.get(source or "")
                politeness = known.effective_politeness(settings.politeness) if known else None
                return FetchRequest(
                    url, source=source, politeness=politeness, accept=HTML_TYPES, referrer=referrer
                )

            async for outcome in fetcher.fetch_all(
                request(link.url, link.source, link.found_on) for link in links
            ):
                result = _result(outcome)
                if isinstance(result, Article) and result.truncated and result.source_url:
                    # A teaser: the original, when it is a whole article, is the record.
                    original_url = canonicalize_url(result.source_url)
                    if article_id(original_url) in seen:
                        continue  # the original came first, and was yielded
                    original = await fetcher.fetch(
                        request(original_url, outcome.request.source, outcome.request.url)
                    )
                    result = settle_teaser(result, _result(original)) or result
                if isinstance(result, Article):
                    if result.id in seen:
                        continue
                    seen.add(result.id)
                    yield result
                    count += 1
                    if max_articles is not None and count >= max_articles:
                        return
                elif rejects:
                    yield result


def _result(outcome: FetchOutcome) -> Article | Reject:
    if outcome.error is not None:
        return reject_for_error(outcome.error)
    assert outcome.page is not None  # no error means a page
    return clean_page(outcome.page)


__all__ = ["Crawler"]
