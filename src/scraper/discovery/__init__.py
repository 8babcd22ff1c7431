"""Discovery: listing pages, feeds and sitemaps to article links.

The parsers are pure (bytes in, links out); `discover` is the async glue that fetches a
configured source through any fetch function and merges what it finds.

Each name is imported on first use (PEP 562): the parsers bring lxml, charset detection
and the listing rules' models (~60 ms), which a run over a given list of URLs
(``fetch-many``), needing only `Link`, does not use.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from scraper.discovery.discover import (
        MAX_SITEMAP_DEPTH,
        DiscoveryResult,
        Fetch,
        discover,
        fetcher_fetch,
    )
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

_HOMES = {
    "MAX_SITEMAP_DEPTH": "discover",
    "DiscoveryResult": "discover",
    "Fetch": "discover",
    "discover": "discover",
    "fetcher_fetch": "discover",
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


class _Package(types.ModuleType):
    """Keeps the package's `discover` the function: importing the submodule of the same
    name (``from scraper.discovery.discover import ...``) would set the module in its
    place. The submodule stays in ``sys.modules``."""

    def __setattr__(self, name: str, value: object) -> None:
        if name == "discover" and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{home}"), name)
