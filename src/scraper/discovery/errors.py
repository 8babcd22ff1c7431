"""The one error discovery raises: a listing, feed or sitemap that cannot be used."""

from __future__ import annotations

from scraper.errors import ScraperError


class DiscoveryError(ScraperError):
    """A listing page, feed, sitemap or listing-rules file is unusable; the message says why."""
