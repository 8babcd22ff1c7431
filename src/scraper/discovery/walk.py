"""The I/O glue of discovery: fetch a source's listings, feeds or sitemaps and merge the links.

Transport-agnostic: the caller passes a ``fetch`` coroutine (any fetcher, with its own
politeness and retries). One bad URL is recorded in ``errors`` and never stops the rest.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from scraper.discovery.errors import DiscoveryError
from scraper.discovery.feeds import parse_feed
from scraper.discovery.links import Link, absolute_url, published_day
from scraper.discovery.listing import ListingRules, load_listing_rules, parse_listing
from scraper.discovery.sitemaps import MAX_SITEMAP_BYTES, SitemapRef, parse_sitemap
from scraper.errors import FetchError, HTTPStatusError
from scraper.fetch.addresses import AddressPolicy
from scraper.fetch.fetcher import FetchRequest

if TYPE_CHECKING:
    from scraper.discovery.sources import Source
    from scraper.fetch.fetcher import Fetcher

Fetch = Callable[[str], Awaitable[bytes]]
"""Returns the body of a URL, or raises `scraper.errors.FetchError`."""

MAX_SITEMAP_DEPTH = 3  # index -> index -> urlset is the deepest seen in practice; deeper loops


@dataclass
class DiscoveryResult:
    """What one source's discovery found, and which of its URLs failed."""

    links: list[Link] = field(default_factory=list)
    errors: list[tuple[str, str]] = field(default_factory=list)  # (url, message)
    warnings: list[str] = field(default_factory=list)  # worth a look, nothing failed
    fetched: int = 0  # listing, feed and sitemap documents fetched
    too_old: int = 0  # links dropped by max_age_days
    over_limit: int = 0  # links dropped by max_pages


class _Run:
    """State of one `discover` call."""

    def __init__(
        self,
        source: Source,
        fetch: Fetch,
        cutoff: date | None,
        policy: AddressPolicy,
        max_bytes: int = MAX_SITEMAP_BYTES,
    ) -> None:
        self.source = source
        self.max_bytes = max_bytes
        self.fetch = fetch
        self.cutoff = cutoff
        self.policy = policy
        self.result = DiscoveryResult()

    async def get(self, url: str) -> bytes:
        self.result.fetched += 1
        return await self.fetch(url)

    def fail(self, url: str, error: Exception, errors: list[tuple[str, str]]) -> None:
        errors.append((url, str(error) or type(error).__name__))

    def is_old(self, published: str | None) -> bool:
        day = published_day(published)
        return self.cutoff is not None and day is not None and day < self.cutoff

    async def feed(self, url: str, errors: list[tuple[str, str]]) -> list[Link]:
        try:
            return parse_feed(await self.get(url), url)
        except (FetchError, DiscoveryError) as exc:
            self.fail(url, exc, errors)
            return []

    async def listing(
        self, url: str, rules: ListingRules, errors: list[tuple[str, str]]
    ) -> list[Link]:
        links: list[Link] = []
        seen_links: set[str] = set()
        visited: set[str] = set()
        page_url: str | None = url
        for number in range(1, self.source.max_listing_pages + 1):
            if page_url is None or page_url in visited:
                break
            visited.add(page_url)
            try:
                page = parse_listing(await self.get(page_url), page_url, rules)
            except HTTPStatusError as exc:
                if number > 1 and exc.status in (404, 410):
                    break  # numbered pagination ran past the last page
                self.fail(page_url, exc, errors)
                break
            except (FetchError, DiscoveryError) as exc:
                self.fail(page_url, exc, errors)
                break
            if number == 1 and not page.links:
                what = "no items" if page.items == 0 else f"{page.items} items but no links"
                message = f"listing rules {rules.name!r} found {what}; the layout may have changed"
                self.fail(page_url, DiscoveryError(message), errors)
            new = [link for link in page.links if link.url not in seen_links]
            seen_links.update(link.url for link in new)
            links.extend(new)
            if not new:
                break  # a repeated or empty page: the end of the list
            if rules.newest_first and all(self.is_old(link.published) for link in new):
                break  # later pages are older still: nothing wanted there
            page_url = page.next_page
            if page_url is not None and urlsplit(page_url).hostname != urlsplit(url).hostname:
                message = f"next page {page_url} is on another host; not followed"
                self.fail(url, DiscoveryError(message), errors)
                break
        return links

    async def sitemaps(self, urls: list[str], errors: list[tuple[str, str]]) -> list[Link]:
        """Breadth first over indexes, newest children first, within ``max_sitemaps``
        fetches; stops once ``max_pages`` wanted links are in hand.

        The queue never holds more than the fetches left: an index of millions of child
        sitemaps costs their count, not a queue of millions (nor its pops).
        """
        links: list[Link] = []
        wanted = 0
        queue: deque[tuple[str, int]] = deque((url, 0) for url in urls)
        queued = {absolute_url(url, url) or url for url in urls}
        fetched = 0
        skipped = 0
        cap = self.source.max_sitemaps
        while queue:
            if fetched >= cap:
                skipped += len(queue)
                break
            if wanted >= self.source.max_pages:
                break  # enough links: the rest would be cut by max_pages anyway
            url, depth = queue.popleft()
            fetched += 1
            try:
                data = await self.get(url)
                page = parse_sitemap(
                    data,
                    url,
                    since=self.cutoff,
                    max_bytes=self.max_bytes,
                    max_refs=max(0, cap - fetched - len(queue)),
                )
            except (FetchError, DiscoveryError) as exc:
                self.fail(url, exc, errors)
                continue
            links.extend(page.links)
            skipped += page.sitemaps_dropped
            wanted += sum(
                1
                for link in page.links
                if self.source.wants(link.url) and not self.is_old(link.published)
            )
            children = page.sitemaps  # old ones already left out by `since`
            if children and depth >= MAX_SITEMAP_DEPTH:
                too_deep = f"sitemap indexes nested deeper than {MAX_SITEMAP_DEPTH}; not followed"
                self.fail(url, DiscoveryError(too_deep), errors)
                continue
            for position, ref in enumerate(_newest_first_refs(children)):
                if fetched + len(queue) >= cap:
                    skipped += len(children) - position  # not even looked at
                    break
                key = absolute_url(ref.url, ref.url) or ref.url
                if key in queued:
                    continue  # an index listing itself or an ancestor
                refusal = self.policy.hop_refusal(url, ref.url)
                if refusal is None:
                    queued.add(key)
                    queue.append((ref.url, depth + 1))
                else:
                    self.fail(ref.url, DiscoveryError(refusal), errors)
        if skipped:
            message = f"{skipped} sitemaps not fetched: over max_sitemaps={cap}"
            self.fail(urls[0], DiscoveryError(message), errors)
        return links


def _newest_first_refs(refs: list[SitemapRef]) -> list[SitemapRef]:
    dated = sorted(
        (ref for ref in refs if published_day(ref.lastmod)),
        key=lambda ref: published_day(ref.lastmod) or date.min,
        reverse=True,
    )
    return dated + [ref for ref in refs if not published_day(ref.lastmod)]


def _merge(links: list[Link]) -> list[Link]:
    """One link per canonical URL: the first seen, gaps filled from later sightings."""
    merged: dict[str, Link] = {}
    for link in links:
        first = merged.get(link.url)
        if first is None:
            merged[link.url] = link
        elif first.title is None or first.published is None:
            merged[link.url] = replace(
                first,
                title=first.title or link.title,
                published=first.published or link.published,
            )
    return list(merged.values())


def _newest_first(links: list[Link]) -> list[Link]:
    """Dated links newest first (stable), then undated ones in discovery order."""
    dated = [link for link in links if published_day(link.published) is not None]
    undated = [link for link in links if published_day(link.published) is None]
    dated.sort(key=lambda link: published_day(link.published) or date.min, reverse=True)
    return dated + undated


async def discover(
    source: Source,
    fetch: Fetch,
    *,
    now: datetime,
    rules: ListingRules | None = None,
    policy: AddressPolicy | None = None,
    max_bytes: int = MAX_SITEMAP_BYTES,
) -> DiscoveryResult:
    """Discover the article links of one source.

    Args:
        source: the configured source (its kind, URLs and limits).
        fetch: returns a URL's body bytes or raises `FetchError`.
        now: the run's clock reading; ``max_age_days`` counts back from its date.
        rules: listing rules to use instead of ``source.listing`` (aggregator kind).
        policy: where links may lead; by default a public page's links into private
            networks are refused (reported in ``errors``), as are non-http(s) links.
        max_bytes: the most a gzip'd sitemap may inflate to (the fetch's byte cap: what
            a plain response could not exceed, a compressed file cannot either).

    Returns:
        Links deduplicated by canonical URL, filtered by the source's include/exclude
        patterns and ``max_age_days`` (by date, when known), newest first when dates are
        known, capped at ``max_pages``; and the URLs that failed, with why.
    """
    cutoff = None
    if source.max_age_days is not None:
        cutoff = (now - timedelta(days=source.max_age_days)).date()
    run = _Run(source, fetch, cutoff, policy or AddressPolicy(), max_bytes)
    # One error list per source URL, joined in config order: deterministic whatever
    # order the concurrent fetches finish in.
    errors: list[list[tuple[str, str]]] = [[] for _ in source.urls]
    found: list[list[Link]]
    if source.kind == "feed":
        found = await asyncio.gather(
            *(run.feed(url, errs) for url, errs in zip(source.urls, errors, strict=True))
        )
    elif source.kind == "sitemap":
        found = [await run.sitemaps(list(source.urls), errors[0])]
    else:
        try:
            rules = rules or load_listing_rules(source.listing or "")
        except DiscoveryError as exc:
            run.fail(source.urls[0], exc, errors[0])
            found = []
        else:
            if rules.valid_until is not None and now.date() > rules.valid_until:
                run.result.warnings.append(
                    f"listing rules {rules.name!r} are past their valid_until"
                    f" ({rules.valid_until.isoformat()}): check them against the site"
                )
            found = await asyncio.gather(
                *(
                    run.listing(url, rules, errs)
                    for url, errs in zip(source.urls, errors, strict=True)
                )
            )
    allowed: list[Link] = []
    for link in (link for group in found for link in group):
        refusal = run.policy.hop_refusal(link.found_on, link.url)
        if refusal is None:
            allowed.append(link)
        else:
            errors[0].append((link.url, refusal))
    run.result.errors = [error for group in errors for error in group]
    links = _merge(allowed)
    links = [replace(link, source=source.name) for link in links if source.wants(link.url)]
    fresh = [link for link in links if not run.is_old(link.published)]
    run.result.too_old = len(links) - len(fresh)
    ordered = _newest_first(fresh)
    run.result.links = ordered[: source.max_pages]
    run.result.over_limit = len(ordered) - len(run.result.links)
    return run.result


def fetcher_fetch(fetcher: Fetcher, source: Source) -> Fetch:
    """A `Fetch` over the project's polite `Fetcher`, with the source's politeness.

    Robots.txt, per-host delays and retries apply to discovery documents as to articles;
    a failed outcome raises its `FetchError`.
    """
    politeness = source.effective_politeness(fetcher.settings.politeness)

    async def fetch(url: str) -> bytes:
        outcome = await fetcher.fetch(FetchRequest(url, source=source.name, politeness=politeness))
        if outcome.error is not None:
            raise outcome.error
        if outcome.page is None:  # not reachable: an outcome without error carries a page
            raise FetchError(url, "no response")
        return outcome.page.body

    return fetch
