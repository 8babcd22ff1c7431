"""Discovery: listing pages, feeds and sitemaps to article links.

The parsers are pure (bytes in, links out); `discover` is the async glue that fetches a
configured source through any fetch function and merges what it finds.

Each name is imported on first use (PEP 562): the parsers bring lxml, charset detection
and the listing rules' models (~60 ms), which a run over a given list of URLs
(``fetch-many``), needing only `Link`, does not use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from scraper.discovery.errors import DiscoveryError
    from scraper.discovery.feeds import parse_feed
    from scraper.discovery.links import Link
    from scraper.discovery.listing import (
        ListingPage,
        ListingRules,
        builtin_listing_names,
        load_listing_rules,
        parse_listing,
        parse_listing_rules,
    )
    from scraper.discovery.sitemaps import SitemapPage, SitemapRef, parse_sitemap
    from scraper.discovery.walk import (
        MAX_SITEMAP_DEPTH,
        DiscoveryResult,
        Fetch,
        discover,
        fetcher_fetch,
    )

_HOMES = {
    "MAX_SITEMAP_DEPTH": "walk",
    "DiscoveryResult": "walk",
    "Fetch": "walk",
    "discover": "walk",
    "fetcher_fetch": "walk",
    "DiscoveryError": "errors",
    "parse_feed": "feeds",
    "Link": "links",
    "ListingPage": "listing",
    "ListingRules": "listing",
    "builtin_listing_names": "listing",
    "load_listing_rules": "listing",
    "parse_listing": "listing",
    "parse_listing_rules": "listing",
    "SitemapPage": "sitemaps",
    "SitemapRef": "sitemaps",
    "parse_sitemap": "sitemaps",
}

__all__ = [
    "MAX_SITEMAP_DEPTH",
    "DiscoveryError",
    "DiscoveryResult",
    "Fetch",
    "Link",
    "ListingPage",
    "ListingRules",
    "SitemapPage",
    "SitemapRef",
    "builtin_listing_names",
    "discover",
    "fetcher_fetch",
    "load_listing_rules",
    "parse_feed",
    "parse_listing",
    "parse_listing_rules",
    "parse_sitemap",
]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{home}"), name)
