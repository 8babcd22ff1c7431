"""Renders the demo content (content.toml) into the pages of a small example web."""

from __future__ import annotations

import gzip
import json
import tomllib
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from html import escape
from importlib import resources
from typing import Any

from cleaner.models import parse_iso_date

Page = tuple[str, bytes]  # (content type, body)
_HTML = "text/html; charset=utf-8"

_CHROME_TOP = """<header><div class="menu_open">menu_open</div>
<nav><a href="/qoshe/columnists">Columnists</a> <a href="/qoshe/actual">Actual</a> .
<a href="/qoshe/favourites">Favourites</a> . <a href="/qoshe/archive">Archive</a></nav></header>
<div class="cookie">We use cookies to provide some features and experiences in QOSHE
<p><a href="/privacy">More information</a> . <a href="#">Close</a></p></div>
<div class="font-size"><span>Aa</span> <span>Aa</span> <span>Aa</span></div>
<div class="zoom"><button>-</button> A <button>+</button></div>"""
_CHROME_BOTTOM = """<div class="apps"><a href="#">Get it on Google Play</a>
<a href="#">Download on the App Store</a></div><footer>QOSHE · All rights reserved</footer>"""


@dataclass(frozen=True)
class DemoArticle:
    slug: str
    publisher: str
    columnist: str
    date: str
    title: str
    paragraphs: list[str]


def _content() -> dict[str, Any]:
    text = (resources.files("scraper.demo") / "content.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)


def _day_month_year(iso: str) -> str:
    return parse_iso_date(iso).strftime("%d.%m.%Y")


def _rfc822(iso: str) -> str:
    value = parse_iso_date(iso)
    if not isinstance(value, datetime):  # RSS needs a time; a date-only column is at midnight UTC
        value = datetime(value.year, value.month, value.day, tzinfo=UTC)
    return format_datetime(value)


class DemoSite:
    """All pages of the demo web, addressed by path, for a server at ``base_url``."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")
        content = _content()
        self.publishers = {p["key"]: p for p in content["publishers"]}
        self.columnists = {c["key"]: c for c in content["columnists"]}
        self.articles = [DemoArticle(**a) for a in content["articles"]]
        self.page_size = 1  # one column per listing page, so pagination is exercised

    def url(self, path: str) -> str:
        return f"{self.base_url}{path}"

    def original_path(self, article: DemoArticle) -> str:
        return f"/{article.publisher}/opinion/{article.slug}"

    def column_path(self, article: DemoArticle) -> str:
        return f"/qoshe/column/{article.slug}"

    def pages(self) -> dict[str, Page]:
        """Every path the demo server answers, with its content."""
        pages: dict[str, Page] = {
            "/robots.txt": ("text/plain", b"User-agent: *\nDisallow: /private/\n"),
        }
        for article in self.articles:
            pages[self.original_path(article)] = (_HTML, self._original(article))
            if article.columnist:
                pages[self.column_path(article)] = (_HTML, self._column(article))
        for key in self.columnists:
            for number, html in enumerate(self._listing_pages(key), start=1):
                suffix = "" if number == 1 else f"?page={number}"
                pages[f"/qoshe/columnist/{key}{suffix}"] = (_HTML, html)
        pages["/lakeside/feed.xml"] = ("application/rss+xml", self._feed("lakeside"))
        pages["/ledger/sitemap.xml"] = ("application/xml", self._sitemap_index("ledger"))
        pages["/ledger/sitemap-opinion.xml.gz"] = ("application/gzip", self._sitemap("ledger"))
        return pages

    def _original(self, article: DemoArticle) -> bytes:
        publisher = self.publishers[article.publisher]["name"]
        author = self.columnists.get(article.columnist, {}).get("name")
        ld = {
            "@context": "https://schema.org",
            "@type": "OpinionNewsArticle",
            "headline": article.title,
            "datePublished": article.date,
            "author": [{"@type": "Person", "name": author}] if author else [],
            "publisher": {"@type": "Organization", "name": publisher},
            "inLanguage": "en",
        }
        body = "\n".join(f"<p>{escape(p)}</p>" for p in article.paragraphs)
        byline = f'<p class="byline">By {escape(author)}</p>' if author else ""
        return f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<title>{escape(article.title)} | {escape(publisher)}</title>
<meta property="og:site_name" content="{escape(publisher)}">
<script type="application/ld+json">{json.dumps(ld)}</script></head><body>
<nav><a href="/">Home</a> <a href="/opinion">Opinion</a></nav>
<div id="cookie-consent">This site uses cookies. <button>Accept all</button></div>
<main><article><h1>{escape(article.title)}</h1>{byline}
<div class="share"><a href="#">Share</a> <span>23</span></div>
<div class="article-content">{body}</div>
<aside class="newsletter">Sign up to our newsletter <button>Subscribe</button></aside>
</article></main><footer>© {escape(publisher)}</footer></body></html>""".encode()

    def _column(self, article: DemoArticle) -> bytes:
        publisher = self.publishers[article.publisher]["name"]
        author = self.columnists[article.columnist]["name"]
        teaser = article.paragraphs[:2]
        body = "\n".join(f"<p>{escape(p)}</p>" for p in teaser[:-1])
        body += f"\n<p>{escape(teaser[-1][: len(teaser[-1]) // 2].rstrip())}........</p>"
        return f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<title>Opinion – {escape(article.title)} | QOSHE</title>
<meta property="og:site_name" content="QOSHE"></head><body>{_CHROME_TOP}
<article class="article"><h1>Opinion – {escape(article.title)}</h1>
<div class="author-name">{escape(author)}</div>
<div class="counters"><span>41</span> <span>2</span></div>
<div class="date">{_day_month_year(article.date)}</div>
<div class="article-body">{body}</div>
<div class="source">© <a href="{self.url(self.original_path(article))}">
{escape(publisher)}</a></div>
</article>{_CHROME_BOTTOM}</body></html>""".encode()

    def _listing_pages(self, columnist: str) -> list[bytes]:
        mine = [a for a in self.articles if a.columnist == columnist]
        mine.sort(key=lambda a: parse_iso_date(a.date).isoformat(), reverse=True)
        chunks = [mine[i : i + self.page_size] for i in range(0, len(mine), self.page_size)]
        name = escape(self.columnists[columnist]["name"])
        pages = []
        for number, chunk in enumerate(chunks, start=1):
            items = "\n".join(
                f"""<li class="article-item"><a class="article-title" href="{self.column_path(a)}">
{escape(a.title)}</a> <span class="article-date">{_day_month_year(a.date)}</span>
<span class="counters">41 2</span></li>"""
                for a in chunk
            )
            more = (
                f'<a class="next" rel="next" href="/qoshe/columnist/{columnist}?page={number + 1}">'
                "Next</a>"
                if number < len(chunks)
                else ""
            )
            pages.append(
                f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<title>{name} | QOSHE</title><meta property="og:site_name" content="QOSHE"></head>
<body>{_CHROME_TOP}<h1 class="columnist-name">{name}</h1>
<ul class="articles-list">{items}</ul><div class="pagination">{more}</div>
{_CHROME_BOTTOM}</body></html>""".encode()
            )
        return pages

    def _feed(self, publisher: str) -> bytes:
        info = self.publishers[publisher]
        items = "".join(
            f"""<item><title>{escape(a.title)}</title>
<link>{self.url(self.original_path(a))}?utm_source=rss</link>
<pubDate>{_rfc822(a.date)}</pubDate></item>"""
            for a in self.articles
            if a.publisher == publisher
        )
        return f"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>{escape(info["name"])} – Opinion</title>
<link>{self.url("/" + publisher)}</link>{items}</channel></rss>""".encode()

    def _sitemap_index(self, publisher: str) -> bytes:
        return f"""<?xml version="1.0" encoding="UTF-8"?>
<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
<sitemap><loc>{self.url(f"/{publisher}/sitemap-opinion.xml.gz")}</loc></sitemap>
</sitemapindex>""".encode()

    def _sitemap(self, publisher: str) -> bytes:
        urls = "".join(
            f"<url><loc>{self.url(self.original_path(a))}</loc><lastmod>{a.date}</lastmod></url>"
            for a in self.articles
            if a.publisher == publisher
        )
        xml = f"""<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>"""
        return gzip.compress(xml.encode(), mtime=0)
