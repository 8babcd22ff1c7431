"""Renders the demo content (content.toml) into the pages of a small example web."""

from __future__ import annotations

import gzip
import json
import re
import tomllib
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from html import escape
from importlib import resources
from typing import Any

from cleaner.dates import parse_iso_date

Page = tuple[str, bytes]  # (content type, body)
_HTML = "text/html; charset=utf-8"

# The aggregator's chrome as the real site shows it (shared QOSHE.md): an icon-font menu
# whose ligature name shows as text, the cookie notice, font-size controls, app badges.
_CHROME_TOP = """<div class="topbar"><i class="material-icons">menu_open</i>
<a href="/columnists">Columnists</a> <a href="/actual">Actual</a> .
<a href="/favourites">Favourites</a> . <a href="/archive">Archive</a></div>
<div class="cookie">We use cookies to provide some features and experiences in QOSHE
<p><a href="/privacy">More information</a> . <a href="#">Close</a></p></div>
<div class="font-size"><span>Aa</span> <span>Aa</span> <span>Aa</span></div>
<div class="zoom"><button>-</button> A <button>+</button></div>"""
_CHROME_BOTTOM = """<div class="apps"><a href="#">Get it on Google Play</a></div>
<footer>© QOSHE · All rights reserved</footer>"""
# The site's cut marker: exactly eight dots glued to the teaser's last word.
_CUT = "........"


@dataclass(frozen=True)
class DemoArticle:
    slug: str
    publisher: str
    columnist: str
    date: str
    title: str
    paragraphs: list[str]
    id: int  # the aggregator's numeric column id


def _title_slug(title: str) -> str:
    """The aggregator's slug of a title: lower case, every other character a dash."""
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:95]


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

    def url(self, path: str) -> str:
        return f"{self.base_url}{path}"

    def original_path(self, article: DemoArticle) -> str:
        return f"/{article.publisher}/opinion/{article.slug}"

    def column_path(self, article: DemoArticle) -> str:
        """The aggregator's copy: /<newspaper>/<columnist>/<title-slug>/<id>."""
        newspaper = self.publishers[article.publisher]["slug"]
        columnist = article.columnist or "editorial"
        return f"/{newspaper}/{columnist}/{_title_slug(article.title)}/{article.id}"

    def listing_path(self, columnist: str) -> str:
        """A columnist's page on the aggregator: /yazar/<columnist>/<id>."""
        return f"/yazar/{columnist}/{self.columnists[columnist]['id']}"

    def newspaper_path(self, publisher: str) -> str:
        """A newspaper's page on the aggregator: /gazete/<newspaper>."""
        return f"/gazete/{self.publishers[publisher]['slug']}"

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
            mine = [a for a in self.articles if a.columnist == key]
            pages[self.listing_path(key)] = (
                _HTML,
                self._listing(self.columnists[key]["name"], mine),
            )
        for key, publisher in self.publishers.items():
            theirs = [a for a in self.articles if a.publisher == key and a.columnist]
            if theirs and publisher.get("aggregated", False):
                pages[self.newspaper_path(key)] = (_HTML, self._listing(publisher["name"], theirs))
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
        teaser = article.paragraphs[:2]
        body = "\n".join(f"<p>{escape(p)}</p>" for p in teaser[:-1])
        body += f"\n<p>{escape(teaser[-1][: len(teaser[-1]) // 2].rstrip())}{_CUT}</p>"
        return f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<title>{escape(article.title)} - QOSHE</title>
<meta property="og:site_name" content="QOSHE"></head><body>{_CHROME_TOP}
<article><h1>{escape(article.title)}</h1>
<div class="counters"><span>41</span> <span>2</span></div>
<div class="date">{_day_month_year(article.date)}</div>
<div class="article-body">{body}</div>
</article>
<div class="source">© <a href="{self.url(self.original_path(article))}">
{escape(publisher)}</a></div>
{_CHROME_BOTTOM}</body></html>""".encode()

    def _card(self, article: DemoArticle) -> str:
        publisher = self.publishers[article.publisher]
        columnist = self.columnists[article.columnist]
        teaser = escape(article.paragraphs[0][:90].rsplit(" ", 1)[0])
        return f"""<div class="card"><a href="{self.column_path(article)}">
<h1>{escape(article.title)}</h1></a><p>{teaser}...</p>
<i>{_day_month_year(article.date)}</i> <span>41</span>
<a href="{self.newspaper_path(article.publisher)}">{escape(publisher["name"])}</a>
<a href="{self.listing_path(article.columnist)}">{escape(columnist["name"])}</a></div>"""

    def _listing(self, heading: str, articles: list[DemoArticle]) -> bytes:
        """A columnist's or a newspaper's page: cards newest first, no pagination."""
        ordered = sorted(articles, key=lambda a: parse_iso_date(a.date).isoformat(), reverse=True)
        cards = "\n".join(self._card(article) for article in ordered)
        return f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<title>{escape(heading)} - QOSHE</title><meta property="og:site_name" content="QOSHE"></head>
<body>{_CHROME_TOP}<div class="header"><b>{escape(heading)}</b></div>
<div class="cards">{cards}</div>
{_CHROME_BOTTOM}</body></html>""".encode()

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
