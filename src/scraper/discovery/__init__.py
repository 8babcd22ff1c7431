"""Discovery: listing pages, feeds and sitemaps to article links.

The parsers are pure (bytes in, links out); `discover` is the async glue that fetches a
configured source through any fetch function and merges what it finds.
"""

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
