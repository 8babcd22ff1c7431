"""Errors raised by the scraper, each mapped to a reject reason and a CLI exit code.

ScraperError
├── FetchError                   a page could not be fetched usefully
│   ├── NetworkError             DNS failure, refused or reset connection, TLS
│   ├── FetchTimeout             connect, read or total deadline passed
│   ├── TooManyRedirects         redirect limit reached or a redirect loop
│   ├── ForbiddenAddress         non-http(s) scheme or a private address not allowed
│   ├── TooLarge                 body over the byte cap (decompressed size counts)
│   ├── HTTPStatusError          a 4xx/5xx status after retries
│   │   └── Blocked              401/403/451: the site refused us
│   ├── NotHTML                  the response is not an HTML page
│   └── RobotsDisallowed         robots.txt forbids the URL, or could not be read (RFC 9309)
│       └── RobotsUnreachable    could not be read (network error, 429, 5xx): not for good
├── StorageError                 a record or raw page could not be written
└── ConfigError                  settings or sources are invalid
"""

from __future__ import annotations

from typing import Any

from cleaner import RejectReason


class ScraperError(Exception):
    """Base class of every error the scraper raises."""


class FetchError(ScraperError):
    """A page could not be fetched usefully; ``reason`` classifies it."""

    reason: RejectReason = RejectReason.NETWORK_ERROR

    def __init__(self, url: str, detail: str, *, status: int | None = None) -> None:
        super().__init__(f"{url}: {detail}")
        self.url = url
        self.detail = detail
        self.status = status

    def __reduce__(self) -> tuple[Any, ...]:
        # Outcomes travel between processes (a Dask worker to the driver): keep every field.
        return (_rebuild_fetch_error, (type(self), self.url, self.detail, self.status))


def _rebuild_fetch_error(
    kind: type[FetchError], url: str, detail: str, status: int | None
) -> FetchError:
    return kind(url, detail, status=status)


class NetworkError(FetchError):
    reason = RejectReason.NETWORK_ERROR


class FetchTimeout(FetchError):
    reason = RejectReason.TIMEOUT


class TooManyRedirects(FetchError):
    reason = RejectReason.TOO_MANY_REDIRECTS


class ForbiddenAddress(FetchError):
    reason = RejectReason.FORBIDDEN_ADDRESS


class TooLarge(FetchError):
    reason = RejectReason.TOO_LARGE


class HTTPStatusError(FetchError):
    reason = RejectReason.HTTP_ERROR


class Blocked(HTTPStatusError):
    reason = RejectReason.BLOCKED


class NotHTML(FetchError):
    reason = RejectReason.NOT_HTML


class RobotsDisallowed(FetchError):
    reason = RejectReason.ROBOTS_DISALLOWED


class RobotsUnreachable(RobotsDisallowed):
    """The host is skipped as disallowed (RFC 9309), but only until robots.txt answers
    again: a down host is a network failure worth a look (exit 11), not a settled page."""

    reason = RejectReason.NETWORK_ERROR


class StorageError(ScraperError):
    """A record or a raw page could not be written."""


class ConfigError(ScraperError):
    """Settings or sources are invalid."""
