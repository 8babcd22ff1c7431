"""Structured metadata: JSON-LD, OpenGraph and ``<meta>`` tags, read into one `PageMetadata`."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from selectolax.lexbor import LexborHTMLParser as HTMLParser

_ARTICLE_TYPES = frozenset(
    {
        "Article",
        "NewsArticle",
        "OpinionNewsArticle",
        "AnalysisNewsArticle",
        "ReportageNewsArticle",
        "BlogPosting",
        "ReviewNewsArticle",
        "BackgroundNewsArticle",
        "Report",
        "LiveBlogPosting",
        "ScholarlyArticle",
        "SocialMediaPosting",
    }
)


@dataclass
class PageMetadata:
    """What the page says about itself, before any judgement."""

    title: str | None = None
    date_raw: str | None = None
    authors: list[str] = field(default_factory=list)
    publisher: str | None = None
    language: str | None = None
    body: str | None = None
    canonical_url: str | None = None
    is_free: bool | None = None


def _types(node: dict[str, Any]) -> set[str]:
    value = node.get("@type", [])
    return {value} if isinstance(value, str) else {v for v in value if isinstance(v, str)}


def _walk(value: Any) -> list[dict[str, Any]]:
    """Every dict in a JSON-LD document, depth first (covers @graph and nesting)."""
    found: list[dict[str, Any]] = []
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            found.append(item)
            stack.extend(reversed(list(item.values())))
        elif isinstance(item, list):
            stack.extend(reversed(item))
    return found


def _names(value: Any) -> list[str]:
    """Person/organisation names from a JSON-LD author or publisher value."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        name = value.get("name")
        return [name] if isinstance(name, str) else []
    if isinstance(value, list):
        return [name for item in value for name in _names(item)]
    return []


def _string(value: Any) -> str | None:
    if isinstance(value, str) and value.strip():
        return value.strip()
    if isinstance(value, list) and value:
        return _string(value[0])
    return None


def json_ld_articles(tree: HTMLParser) -> list[dict[str, Any]]:
    """The article-typed JSON-LD objects of the page, in document order."""
    articles: list[dict[str, Any]] = []
    for script in tree.css('script[type="application/ld+json"]'):
        try:
            document = json.loads(script.text(deep=True) or "null", strict=False)
        except (json.JSONDecodeError, RecursionError):
            continue  # broken JSON-LD is common; the other witnesses remain
        articles.extend(node for node in _walk(document) if _types(node) & _ARTICLE_TYPES)
    return articles


def _meta(tree: HTMLParser, *keys: str) -> str | None:
    for key in keys:
        for attr in ("property", "name", "itemprop"):
            node = tree.css_first(f'meta[{attr}="{key}"]')
            if node is not None:
                content = _string(node.attributes.get("content"))
                if content:
                    return content
    return None


def read_metadata(tree: HTMLParser) -> PageMetadata:
    """Collect metadata, JSON-LD first, then OpenGraph and ``<meta>``."""
    meta = PageMetadata()
    for article in json_ld_articles(tree):
        meta.title = meta.title or _string(article.get("headline")) or _string(article.get("name"))
        meta.date_raw = meta.date_raw or _string(article.get("datePublished"))
        meta.authors = meta.authors or _names(article.get("author"))
        publisher = _names(article.get("publisher"))
        meta.publisher = meta.publisher or (publisher[0] if publisher else None)
        meta.language = meta.language or _string(article.get("inLanguage"))
        meta.body = meta.body or _string(article.get("articleBody"))
        free = article.get("isAccessibleForFree")
        if meta.is_free is None and free is not None:
            meta.is_free = str(free).strip().lower() in {"true", "1", "yes"}
    meta.title = meta.title or _meta(tree, "og:title", "twitter:title")
    meta.date_raw = meta.date_raw or _meta(
        tree, "article:published_time", "datePublished", "date", "pubdate", "dc.date"
    )
    if not meta.authors:
        author = _meta(tree, "author", "article:author", "dc.creator")
        meta.authors = [author] if author and "://" not in author else []
    meta.publisher = meta.publisher or _meta(tree, "og:site_name", "application-name")
    html = tree.css_first("html")
    meta.language = meta.language or (html.attributes.get("lang") if html else None) or None
    link = tree.css_first('link[rel="canonical"]')
    meta.canonical_url = link.attributes.get("href") if link is not None else None
    return meta
