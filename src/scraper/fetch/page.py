"""A fetched page, and whether it is an article response: no HTTP library needed.

Apart from `scraper.fetch.http` so that what only reads pages (the cleaning workers and
their warm parent, the WARC writer) does not import aiohttp (~0.1 s and ~10 MB).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from scraper.errors import Blocked, HTTPStatusError, NotHTML

_BLOCKING = frozenset({401, 403, 451})
HTML_TYPES = ("text/html", "application/xhtml+xml")


@dataclass(frozen=True)
class FetchedPage:
    """One final HTTP response, with the request that produced it."""

    url: str  # the URL asked for
    final_url: str  # after redirects
    status: int
    headers: list[tuple[str, str]]
    body: bytes
    fetched_at: datetime
    request_headers: list[tuple[str, str]] = field(default_factory=list)
    redirects: tuple[str, ...] = ()
    http_version: str = "HTTP/1.1"
    # "page" for an article fetch; "discovery" for robots.txt, feeds, sitemaps and listings,
    # which the raw store keeps too but `scraper reclean` must not clean as articles.
    purpose: str = "page"

    def header(self, name: str) -> str | None:
        """The first value of a response header (case-insensitive)."""
        name = name.lower()
        return next((value for key, value in self.headers if key.lower() == name), None)

    @property
    def content_type(self) -> str:
        return (self.header("content-type") or "").split(";")[0].strip().lower()


def check_article_response(page: FetchedPage) -> None:
    """Raise the right `FetchError` unless ``page`` is a successful HTML response."""
    if page.status in _BLOCKING:
        raise Blocked(page.url, f"HTTP {page.status}: the site refused access", status=page.status)
    if page.status >= 400:
        raise HTTPStatusError(page.url, f"HTTP {page.status}", status=page.status)
    if page.status != 200:
        raise HTTPStatusError(page.url, f"unexpected HTTP {page.status}", status=page.status)
    if page.content_type and not page.content_type.startswith(HTML_TYPES):
        raise NotHTML(page.url, f"content type {page.content_type!r} is not HTML", status=200)
    head = page.body[:512].lstrip().lower()
    if not page.content_type and not head.startswith((b"<!doctype html", b"<html", b"<")):
        raise NotHTML(page.url, "no content type, and the body does not look like HTML")
