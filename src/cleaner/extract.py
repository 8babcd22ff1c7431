"""The extraction cascade: site rules, then structured metadata, then generic extraction."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from urllib.parse import urljoin, urlsplit

import trafilatura
from pydantic import ValidationError
from selectolax.lexbor import LexborHTMLParser as HTMLParser
from selectolax.lexbor import LexborNode as Node

from cleaner.dates import normalize_date
from cleaner.decode import decode_html
from cleaner.errors import ExtractionError
from cleaner.metadata import PageMetadata, read_metadata
from cleaner.models import Article, RejectReason
from cleaner.noise import is_noise_line, normalize_text, strip_truncation
from cleaner.rules import SiteRules, find_rules
from cleaner.urls import is_http_url

_BLOCK_TAGS = "p, h2, h3, h4, h5, h6, li, blockquote, pre"
_TITLE_SEPARATORS = re.compile(r"\s+[|\-–—:·]\s+")
_MIN_JSONLD_BODY = 200  # shorter articleBody values are usually a description


def _first_text(tree: HTMLParser, selectors: list[str]) -> str | None:
    for selector in selectors:
        node = tree.css_first(selector)
        if node is not None:
            text = normalize_text(node.text(separator=" ", deep=True))
            if text:
                return text
    return None


def _block_texts(container: Node) -> list[str]:
    """Paragraph-level texts of a container, in order; loose text if it has no blocks."""
    blocks = [normalize_text(node.text(separator=" ")) for node in container.css(_BLOCK_TAGS)]
    blocks = [text for text in blocks if text]
    if blocks:
        return blocks
    return [
        line for line in map(normalize_text, container.text(separator="\n").split("\n")) if line
    ]


def _strip_site_name(title: str, site_names: list[str]) -> str:
    """Drop a trailing or leading "| Site Name" when it names the site."""
    parts = _TITLE_SEPARATORS.split(title)
    if len(parts) < 2:
        return title
    names = {name.casefold() for name in site_names if name}
    if parts[-1].casefold() in names:
        return title[: title.rfind(parts[-1])].rstrip(" |-–—:·")
    if parts[0].casefold() in names:
        return title[len(parts[0]) :].lstrip(" |-–—:·")
    return title


def _generic_body(html: str, url: str) -> str | None:
    text = trafilatura.extract(
        html, url=url, include_comments=False, include_tables=False, deduplicate=True
    )
    if not text:
        return None
    return "\n\n".join(line.strip() for line in text.splitlines() if line.strip())


def _rule_source(tree: HTMLParser, rule: SiteRules) -> str | None:
    credit = _first_text(tree, rule.selectors.source)
    if credit is None:
        return None
    for prefix in rule.text.credit_prefixes:
        if credit.startswith(prefix):
            credit = credit[len(prefix) :]
    return credit.strip(" :-") or None


def _rule_source_url(tree: HTMLParser, rule: SiteRules, base: str) -> str | None:
    for selector in rule.selectors.source_url:
        node = tree.css_first(selector)
        href = node.attributes.get("href") if node is not None else None
        if href:
            absolute = urljoin(base, href.strip())
            if is_http_url(absolute):
                return absolute
    return None


def _reason_for(error: ValidationError) -> RejectReason:
    for item in error.errors():
        field = item["loc"][0] if item["loc"] else None
        if field == "title":
            return RejectReason.NO_TITLE
        if field == "body":
            return RejectReason.EMPTY_BODY
        if field == "url":
            return RejectReason.INVALID_URL
        if item["type"] == "future_date":
            return RejectReason.FUTURE_DATE
    return RejectReason.NOT_ARTICLE


def extract(
    html: str | bytes,
    *,
    url: str,
    fetched_at: datetime | None = None,
    headers: Mapping[str, str] | None = None,
    rules: tuple[SiteRules, ...] | None = None,
) -> Article:
    """Turn one page into a validated `Article`.

    Args:
        html: the page, as text or as the raw bytes received (decoded here).
        url: the page's URL; the record's id derives from its canonical form.
        fetched_at: when the page was fetched (time-zone aware); dates after it are rejected.
        headers: the HTTP response headers, used for the charset of raw bytes.
        rules: site rules to consider instead of the shipped ones.

    Raises:
        ExtractionError: the page is not an article; ``reason`` says why.
    """
    if isinstance(html, bytes):
        content_type = None
        if headers is not None:
            lowered = {key.lower(): value for key, value in headers.items()}
            content_type = lowered.get("content-type")
        html = decode_html(html, content_type)
    if not is_http_url(url):
        raise ExtractionError(RejectReason.INVALID_URL, f"not an absolute http(s) URL: {url!r}")
    tree = HTMLParser(html)
    host = urlsplit(url).hostname or ""
    rule = find_rules(host, tree, rules)
    meta = read_metadata(tree)
    fields = _rule_fields(tree, rule, url) if rule is not None else {}
    fields = _fill_from_metadata(fields, meta, tree, html, url, host, rule)
    try:
        return Article.model_validate({**fields, "fetched_at": fetched_at})
    except ValidationError as error:
        raise ExtractionError(_reason_for(error), str(error.errors()[0]["msg"])) from None


def _rule_fields(tree: HTMLParser, rule: SiteRules, url: str) -> dict[str, object]:
    source_url = _rule_source_url(tree, rule, url)
    source = _rule_source(tree, rule)
    for selector in rule.selectors.noise:
        for node in tree.css(selector):
            node.decompose()
    fields: dict[str, object] = {}
    title = _first_text(tree, rule.selectors.title)
    if title:
        fields["title"] = title
    date_raw = _first_text(tree, rule.selectors.date)
    if date_raw:
        fields["date_raw"] = date_raw
        fields["date"] = normalize_date(date_raw, rule.date_formats)
    for selector in rule.selectors.body:
        container = tree.css_first(selector)
        if container is not None:
            blocks = [
                block
                for block in _block_texts(container)
                if not is_noise_line(block, rule.text.noise_lines, rule.text.noise_patterns)
            ]
            if blocks:
                body, truncated = strip_truncation(
                    "\n\n".join(blocks), rule.text.truncation_suffixes
                )
                fields["body"], fields["truncated"] = body, truncated
                break
    authors = [
        normalize_text(node.text()) for sel in rule.selectors.authors for node in tree.css(sel)
    ]
    if authors:
        fields["authors"] = authors
    if rule.kind == "aggregator":
        fields["aggregator"] = rule.display_name
        if source:
            fields["source"] = source
        if source_url:
            fields["source_url"] = source_url
    else:
        fields["source"] = rule.display_name
    return fields


def _fill_from_metadata(
    fields: dict[str, object],
    meta: PageMetadata,
    tree: HTMLParser,
    html: str,
    url: str,
    host: str,
    rule: SiteRules | None,
) -> dict[str, object]:
    filled = dict(fields)
    site_names = [name for name in (meta.publisher, rule.display_name if rule else None) if name]
    if "title" not in filled:
        h1 = _first_text(tree, ["h1"])
        title_tag = _first_text(tree, ["title"])
        candidate = meta.title or h1 or title_tag or ""
        filled["title"] = _strip_site_name(candidate, site_names)
    if filled.get("date") is None and meta.date_raw:
        filled["date_raw"] = meta.date_raw
        filled["date"] = normalize_date(meta.date_raw)
    if filled.get("date") is None:
        time_node = tree.css_first("time[datetime]")
        if time_node is not None:
            raw = time_node.attributes.get("datetime") or ""
            filled["date_raw"], filled["date"] = raw, normalize_date(raw)
    if "body" not in filled:
        body = meta.body if meta.body and len(meta.body) >= _MIN_JSONLD_BODY else None
        body = body or _generic_body(html, url) or ""
        body = "\n\n".join(
            normalize_text(line) for line in body.split("\n") if not is_noise_line(line)
        )
        filled["body"], filled["truncated"] = strip_truncation(body, ("...", "…"))
    filled.setdefault("authors", meta.authors)
    filled.setdefault("source", meta.publisher or host)
    filled.setdefault("language", meta.language)
    filled.setdefault("paywalled", None if meta.is_free is None else not meta.is_free)
    filled["url"] = url
    return filled
