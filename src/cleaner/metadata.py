"""Structured metadata: JSON-LD, OpenGraph and ``<meta>`` tags, read into one `PageMetadata`."""

from __future__ import annotations

import html
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
        "WebPage",  # last resort: some sites type the article page only as a WebPage
    }
)
_PERSON_TYPES = frozenset({"Person"})
# <meta> keys that carry the publication date, most specific first.
_DATE_KEYS = (
    "article:published_time",
    "og:article:published_time",
    "datePublished",
    "publishdate",
    "publish-date",
    "pubdate",
    "parsely-pub-date",
    "sailthru.date",
    "dcterms.date",
    "dcterms.created",
    "dc.date",
    "dc.date.issued",
    "date",
    "article:modified_time",
)
_AUTHOR_KEYS = ("author", "article:author", "dc.creator", "parsely-author", "sailthru.author")
_MODIFIED_KEYS = ("article:modified_time", "og:updated_time", "dateModified", "dcterms.modified")
_DESCRIPTION_KEYS = ("og:description", "twitter:description", "description", "dc.description")
_IMAGE_KEYS = ("og:image:secure_url", "og:image", "og:image:url", "twitter:image", "image")
_TAG_KEYS = ("article:tag", "news_keywords", "keywords", "parsely-tags", "sailthru.tags")


@dataclass
class PageMetadata:
    """What the page says about itself, before any judgement."""

    title: str | None = None
    og_title: str | None = None
    ld_title: str | None = None
    date_raw: str | None = None
    authors: list[str] = field(default_factory=list)
    organisation_authors: list[str] = field(default_factory=list)
    meta_authors: list[str] = field(default_factory=list)
    publisher: str | None = None
    site_names: list[str] = field(default_factory=list)
    sections: list[str] = field(default_factory=list)
    language: str | None = None
    body: str | None = None
    canonical_url: str | None = None
    is_free: bool | None = None
    description: str | None = None
    image: str | None = None  # as written on the page: may be relative
    tags: list[str] = field(default_factory=list)
    date_modified_raw: str | None = None


def _types(node: dict[str, Any]) -> set[str]:
    value = node.get("@type", [])
    if isinstance(value, str):
        return {value}
    return {v for v in value if isinstance(v, str)} if isinstance(value, list) else set()


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


def clean_string(value: str) -> str:
    """Unescape HTML entities (JSON-LD often carries ``&#8217;``) and squeeze whitespace."""
    return " ".join(html.unescape(html.unescape(value)).split())


def _string(value: Any) -> str | None:
    if isinstance(value, str) and value.strip():
        return clean_string(value) or None
    if isinstance(value, list) and value:
        return _string(value[0])
    return None


def _person_name(node: dict[str, Any]) -> str | None:
    name = _string(node.get("name"))
    if name:
        return name
    given, family = _string(node.get("givenName")), _string(node.get("familyName"))
    return " ".join(part for part in (given, family) if part) or None


def _people(value: Any, ids: dict[str, dict[str, Any]]) -> tuple[list[str], list[str]]:
    """(person names, organisation names) in a JSON-LD author value; resolves ``@id`` links."""
    persons: list[str] = []
    organisations: list[str] = []
    items = value if isinstance(value, list) else [value]
    for item in items:
        if isinstance(item, str):
            text = clean_string(item)
            if text and "://" not in text:
                persons.append(text)
            continue
        if not isinstance(item, dict):
            continue
        node = ids.get(item["@id"], item) if isinstance(item.get("@id"), str) else item
        name = _person_name(node) or _person_name(item)
        if not name:
            continue
        types = _types(node) | _types(item)
        (persons if not types or types & _PERSON_TYPES else organisations).append(name)
    return persons, organisations


def _documents(tree: HTMLParser) -> list[Any]:
    documents = []
    for script in tree.css('script[type="application/ld+json"]'):
        try:
            documents.append(json.loads(script.text(deep=True) or "null", strict=False))
        except (json.JSONDecodeError, RecursionError):
            continue  # broken JSON-LD is common; the other witnesses remain
    return documents


def json_ld_articles(tree: HTMLParser) -> list[dict[str, Any]]:
    """The article-typed JSON-LD objects of the page, article types before WebPage."""
    nodes = [node for document in _documents(tree) for node in _walk(document)]
    articles = [node for node in nodes if _types(node) & _ARTICLE_TYPES]
    return sorted(articles, key=lambda node: _types(node) == {"WebPage"})


_META_KEYS = ("property", "name", "itemprop")


def _meta_index(tree: HTMLParser) -> dict[tuple[str, str], list[str]]:
    """The non-empty contents of the page's ``<meta>`` tags by (attribute, key), in page
    order: one walk over them instead of three selector queries per key looked up."""
    index: dict[tuple[str, str], list[str]] = {}
    for node in tree.css("meta"):
        attributes = node.attributes
        content = _string(attributes.get("content"))
        if content:
            for attr in _META_KEYS:
                key = attributes.get(attr)
                if key is not None:
                    index.setdefault((attr, key), []).append(content)
    return index


def _meta_all(metas: dict[tuple[str, str], list[str]], key: str) -> list[str]:
    return [value for attr in _META_KEYS for value in metas.get((attr, key), ())]


def _meta(metas: dict[tuple[str, str], list[str]], *keys: str) -> str | None:
    for key in keys:
        values = _meta_all(metas, key)
        if values:
            return values[0]
    return None


def read_metadata(tree: HTMLParser) -> PageMetadata:
    """Collect metadata, JSON-LD first, then OpenGraph and ``<meta>``."""
    meta = PageMetadata()
    nodes = [node for document in _documents(tree) for node in _walk(document)]
    ids = {
        node["@id"]: node for node in nodes if isinstance(node.get("@id"), str) and len(node) > 1
    }
    articles = sorted(
        (node for node in nodes if _types(node) & _ARTICLE_TYPES),
        key=lambda node: _types(node) == {"WebPage"},
    )
    for article in articles:
        meta.ld_title = (
            meta.ld_title or _string(article.get("headline")) or _string(article.get("name"))
        )
        meta.date_raw = meta.date_raw or _string(article.get("datePublished"))
        persons, organisations = _people(article.get("author"), ids)
        meta.authors = meta.authors or persons
        meta.organisation_authors = meta.organisation_authors or organisations
        publisher = _people(article.get("publisher"), ids)
        names = publisher[0] + publisher[1]
        meta.publisher = meta.publisher or (names[0] if names else None)
        meta.language = meta.language or _string(article.get("inLanguage"))
        section = article.get("articleSection")
        for name in section if isinstance(section, list) else [section]:
            if isinstance(name, str) and name.strip():
                meta.sections.append(name.strip())
        meta.body = meta.body or _string_keep_lines(article.get("articleBody"))
        meta.description = meta.description or _string(article.get("description"))
        meta.image = meta.image or _image_url(article.get("image"), ids)
        meta.date_modified_raw = meta.date_modified_raw or _string(article.get("dateModified"))
        meta.tags = meta.tags or _keywords(article.get("keywords"))
        free = article.get("isAccessibleForFree")
        if meta.is_free is None and free is not None:
            meta.is_free = str(free).strip().lower() in {"true", "1", "yes"}
    for node in nodes:
        if _types(node) & {"WebSite", "Organization", "NewsMediaOrganization"}:
            name = _string(node.get("name"))
            # An agency credited as author ("SDA", "dpa") is an Organization too, not the site.
            if name and (name not in meta.organisation_authors or name == meta.publisher):
                meta.site_names.append(name)
    metas = _meta_index(tree)
    meta.og_title = _meta(metas, "og:title", "twitter:title")
    meta.title = meta.og_title or meta.ld_title
    meta.date_raw = meta.date_raw or _meta(metas, *_DATE_KEYS)
    meta.sections.extend(_meta_all(metas, "article:section"))
    meta.description = meta.description or _meta(metas, *_DESCRIPTION_KEYS)
    meta.image = meta.image or _meta(metas, *_IMAGE_KEYS)
    meta.date_modified_raw = meta.date_modified_raw or _meta(metas, *_MODIFIED_KEYS)
    if not meta.tags:
        for key in _TAG_KEYS:
            meta.tags = [tag for value in _meta_all(metas, key) for tag in _keywords(value)]
            if meta.tags:
                break
    for key in _AUTHOR_KEYS:
        meta.meta_authors.extend(a for a in _meta_all(metas, key) if "://" not in a)
    site_name = _meta(metas, "og:site_name", "application-name")
    meta.publisher = meta.publisher or site_name
    meta.site_names.extend(name for name in (site_name, meta.publisher) if name)
    root = tree.css_first("html")
    meta.language = meta.language or (root.attributes.get("lang") if root else None) or None
    link = tree.css_first('link[rel="canonical"]')
    meta.canonical_url = link.attributes.get("href") if link is not None else None
    return meta


def _image_url(value: Any, ids: dict[str, dict[str, Any]]) -> str | None:
    """The first image URL of a JSON-LD ``image`` (a URL, an ImageObject, or a list of them)."""
    for item in value if isinstance(value, list) else [value]:
        if isinstance(item, str) and item.strip():
            return item.strip()
        if isinstance(item, dict):
            node = ids.get(item["@id"], item) if isinstance(item.get("@id"), str) else item
            url = _string(node.get("url")) or _string(node.get("contentUrl"))
            if url:
                return url
    return None


def _keywords(value: Any) -> list[str]:
    """Tags from a keywords value: a list, or one comma-separated string."""
    items = value if isinstance(value, list) else [value]
    tags: list[str] = []
    for item in items:
        if isinstance(item, str):
            tags.extend(part for part in (clean_string(p) for p in item.split(",")) if part)
    return list(dict.fromkeys(tags))


def _string_keep_lines(value: Any) -> str | None:
    """Like `_string`, but keeps line breaks (an articleBody's paragraphs)."""
    if isinstance(value, list):
        value = "\n".join(item for item in value if isinstance(item, str))
    if not isinstance(value, str) or not value.strip():
        return None
    lines = (" ".join(html.unescape(line).split()) for line in value.splitlines())
    return "\n".join(line for line in lines if line) or None
