"""Saved records as an Atom feed (feedgen), so a columnist can be followed in a reader.

The output depends only on the records: the feed's ``updated`` is its newest entry's,
never the clock, so the same records give the same bytes (and an unchanged file).
"""

from __future__ import annotations

import datetime as dt
from datetime import UTC, datetime

from feedgen.feed import FeedGenerator  # type: ignore[import-untyped]

from cleaner import Article

_SUMMARY_CHARS = 600
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _instant(value: dt.date | datetime | None) -> datetime | None:
    """An aware datetime for Atom, which requires one: a date alone is midnight UTC of
    that day, a time without an offset is read as UTC (the record keeps what the page
    stated)."""
    if value is None:
        return None
    if not isinstance(value, datetime):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def teaser(article: Article) -> str:
    """The first paragraphs of the body, up to about ``_SUMMARY_CHARS`` characters."""
    kept: list[str] = []
    for paragraph in article.body.split("\n\n"):
        if kept and sum(map(len, kept)) + len(paragraph) > _SUMMARY_CHARS:
            break
        kept.append(paragraph)
    text = "\n\n".join(kept)
    if len(text) > _SUMMARY_CHARS:
        text = text[:_SUMMARY_CHARS].rsplit(" ", 1)[0]
    return text + (" …" if article.truncated or text != article.body else "")


def original_link(article: Article) -> str:
    """The original article when known (a teaser's credit link), else the record's URL."""
    return article.source_url or article.url


def atom_feed(articles: list[Article], *, title: str, feed_id: str) -> str:
    """The Atom document for ``articles`` (newest first, as given)."""
    feed = FeedGenerator()
    feed.id(feed_id)
    feed.title(title)
    updated = [_entry_updated(article) for article in articles]
    feed.updated(max(updated, default=_EPOCH))
    for article, when in zip(articles, updated, strict=True):
        entry = feed.add_entry(order="append")
        entry.id(f"urn:opinion-scraper:article:{article.id}")
        entry.title(article.title)
        # One link only: feedgen 1.0 writes no rel (nor type) on an entry's links, so a
        # second one (the aggregator's copy, rel="via") would be a second "alternate",
        # which Atom forbids.
        entry.link(href=original_link(article))
        published = _instant(article.published)
        if published is not None:
            entry.published(published)
        entry.updated(when)
        for name in article.authors:
            entry.author(name=name)
        entry.summary(teaser(article))
        entry.category(term=article.source, label=article.source)
    text: bytes = feed.atom_str(pretty=True)
    return text.decode("utf-8")


def _entry_updated(article: Article) -> datetime:
    return _instant(article.published) or article.fetched_at or _EPOCH
