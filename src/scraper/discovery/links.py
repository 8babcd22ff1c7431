"""What discovery yields: an article URL with whatever the listing already knew about it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urljoin, urlsplit, urlunsplit

from selectolax.lexbor import LexborHTMLParser

from cleaner.dates import normalize_date
from cleaner.urls import MAX_URL_CHARS, canonicalize_url

_RFC822_HINT = re.compile(r"[A-Za-z]{3},?\s+\d|\d{1,2}\s+[A-Za-z]{3}\s+\d{2,4}")


@dataclass(frozen=True)
class Link:
    """One discovered article URL, canonical, with what its listing, feed or sitemap said."""

    url: str  # canonicalized (cleaner.canonicalize_url), absolute http(s)
    title: str | None = None
    published: str | None = None  # ISO 8601 as given: date-only stays date-only, no invented tz
    source: str | None = None  # source name from the config
    found_on: str | None = None  # the listing, feed or sitemap URL it came from


def absolute_url(href: str | None, base_url: str) -> str | None:
    """The canonical absolute http(s) URL of ``href`` seen on ``base_url``, or None."""
    if not href:
        return None
    href = href.strip()
    if not href or href.startswith("#") or len(href) > MAX_URL_CHARS:
        return None
    try:
        if href.startswith(("https://", "http://")) and "/." not in href:
            return canonicalize_url(href)  # already absolute and plain: skip urljoin
        return canonicalize_url(_without_dot_segments(urljoin(base_url, href)))
    except ValueError:  # javascript:, mailto:, a malformed port or host
        return None


def _without_dot_segments(url: str) -> str:
    """``/a/../b`` as ``/b``: urljoin resolves dots in relative hrefs only, not absolute ones."""
    parts = urlsplit(url)
    if "/." not in parts.path or not parts.scheme or not parts.netloc:
        return url
    resolved = urlsplit(urljoin(f"{parts.scheme}://{parts.netloc}/", parts.path)).path
    return urlunsplit(parts._replace(path=resolved))


def clean_text(text: str | None) -> str | None:
    """Whitespace collapsed, markup (HTML-typed feed titles) reduced to text; None if empty."""
    if text is None:
        return None
    if "<" in text:
        body = LexborHTMLParser(f"<body>{text}</body>").body
        text = body.text(separator=" ") if body is not None else text
    text = " ".join(text.split())
    return text or None


def iso_date(raw: str | None, formats: tuple[str, ...] | list[str] = ()) -> str | None:
    """ISO 8601 text for a listing, feed or sitemap date, keeping exactly what it stated.

    Site formats first, then ISO 8601 / W3C datetime, then RFC 822 (RSS pubDate).
    A date without an offset stays without one.
    """
    text = clean_text(raw)
    if text is None or len(text) > 100:
        return None
    value = normalize_date(text, formats)
    if value is not None:
        return value
    if not _RFC822_HINT.search(text):
        return None
    try:
        parsed = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    return parsed.isoformat()


def published_day(published: str | None) -> date | None:
    """The calendar day of an ISO 8601 ``published`` value, as the page stated it."""
    if not published:
        return None
    try:
        return datetime.fromisoformat(published).date()
    except ValueError:
        return None
