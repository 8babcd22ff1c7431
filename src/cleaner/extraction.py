"""The extraction cascade: site rules, then structured metadata, then generic extraction."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from urllib.parse import urljoin, urlsplit

import lxml.html  # type: ignore[import-untyped]
from lxml import etree
from pydantic import ValidationError
from selectolax.lexbor import LexborHTMLParser as HTMLParser
from selectolax.lexbor import LexborNode as Node

from cleaner.authors import (
    byline_authors,
    clean_authors,
    prefixed_byline,
    strip_byline_prefix,
)
from cleaner.body import extract_body
from cleaner.credits import (
    Credit,
    credit_from_selectors,
    find_credit_element,
    is_own_name,
    link_named,
    own_names,
)
from cleaner.dates import (
    is_after,
    normalize_date,
    page_may_hold_date,
    pick_date,
    text_dates,
    url_may_hold_date,
)
from cleaner.decode import decode_html
from cleaner.embedded import embedded_article_html
from cleaner.errors import ExtractionError, rejection
from cleaner.language import detect_language
from cleaner.limits import check_size, check_structure
from cleaner.metadata import PageMetadata, read_metadata
from cleaner.models import Article
from cleaner.noise import (
    is_noise_line,
    is_noise_spaced,
    lines_normalized,
    normalize_text,
    strip_truncation,
    text_key,
)
from cleaner.pages import PageInfo, canonical_page_url, record_key, refuse_listing
from cleaner.reasons import RejectReason
from cleaner.relative_dates import is_relative_date, read_date_line, resolve_relative_date
from cleaner.rules import SiteRules, find_rules
from cleaner.sniff import refuse_binary
from cleaner.teasers import teaser_body, teaser_source
from cleaner.titles import choose_title, witness_order
from cleaner.urls import canonicalize_url, is_http_url, same_site

_BLOCK_TAGS = "p, h2, h3, h4, h5, h6, li, blockquote, pre"
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# Looked for one by one first: str's search for one character is several times faster
# than the pattern's scan, and almost no page holds any.
_CONTROL_CHAR_LIST = tuple(filter(_CONTROL_CHARS.match, map(chr, range(0x80))))
# lxml refuses a str that declares its encoding ("<?xml ... encoding=...?>"): the text is
# already decoded, so the declaration is dropped before parsing.
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*>")
_MAX_FALLBACK_TAGS = 15_000
# How much text after (before) the <h1> a byline's date may take to end: past that, an
# article's first sentence ("On August 12, 1898 ...") or another page's teaser begins.
_AFTER_HEADLINE = 60
_BEFORE_HEADLINE = 40
_UNSEEN_TAGS = frozenset({"script", "style", "noscript", "template", "-comment"})
_LEAD_LINES = 3  # a title echo, the counters, the date: where an aggregator's date line sits
# htmldate's extensive search reads dates in the page's text: without it, wcxb-dev dates
# 0.833, with it 0.858 (htmldate alone 0.852). The cap is on the text left once scripts
# and styles are out, not on the page: a modern page of 200,000 characters holds ~50,000
# of text, and only a page of a megabyte of text (a megabyte-long title or line) costs
# the search seconds.
_MAX_EXTENSIVE_DATE_CHARS = 100_000
_MIN_SCORED_BODY = 500  # a shorter scored body is more often a wrong container than a brief
_MIN_PROSE_SHARE = 0.4  # below it, much prose lies outside the chosen container
# Below it, most of the page's text lies outside the answer: often prose the scorer could
# not see (measured on both dev corpora: 0.3 sends 5 % of pages to trafilatura, 3 % before).
_MIN_TEXT_SHARE = 0.3
_MAX_TAGS = 30  # more is a keyword-stuffed <meta>, not the page's tags
_MAX_TAG = 80
# "28.04.2024 | 09:36 Uhr", "2024-04-28 09:36", "14:05": a stamp, never prose. (Only in
# HTML bodies: a text dump's date line is read as its date before noise goes.)
# The separator run is possessive (*+): nothing after it can use its characters, and
# giving them back one by one to the "\s*" below was quadratic on long space runs.
_DATE_STAMP = re.compile(
    r"^(?:\d{1,4}[./-]\d{1,2}[./-]\d{1,4}\.?)?[\s,|·-]*+(?:\d{1,2}:\d{2}(?::\d{2})?)?"
    r"\s*(?:uhr|h|am|pm|utc|cet|cest)?$",
    re.IGNORECASE,
)


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


def _lxml_tree(html: str) -> lxml.html.HtmlElement | None:
    """A parsed tree for the lxml-based libraries.

    Always pass them a tree, never a string: htmldate treats a string that looks like a
    URL as one and downloads it, and the cleaner must never touch the network.
    """
    try:
        return lxml.html.document_fromstring(_XML_DECLARATION.sub("", html, count=1))
    except (etree.ParserError, ValueError):
        return None  # empty or unparsable: nothing for these libraries to read


@dataclass
class _LxmlPage:
    """The page parsed once, when first needed, for both lxml-based libraries.

    trafilatura reads it first (it works on its own copy); htmldate last, on the tree
    with its scripts dropped (it copies it too).
    """

    html: str

    @cached_property
    def tree(self) -> lxml.html.HtmlElement | None:
        return _lxml_tree(self.html)


def _generic_body(page: _LxmlPage, url: str) -> str | None:
    # Imported here, not at the top: trafilatura (with htmldate and courlan) costs ~0.3 s at
    # import, paid by every command and cleaning worker, and most pages never reach it.
    import trafilatura

    tree = page.tree
    if tree is None:
        return None
    # deduplicate=True keeps a process-wide cache of paragraphs already seen and drops them
    # from later pages: the third copy of a page came out empty, and the output depended on
    # which pages one process had cleaned before. extract() must be a function of its input.
    # fast=True skips trafilatura's own comparison with its backup extractors, and then
    # returned a navigation menu as the article; tables stay (an article may be one).
    text = trafilatura.extract(tree, url=url, include_comments=False, deduplicate=False)
    if not text:
        return None
    return "\n\n".join(line.strip() for line in text.splitlines() if line.strip())


def _is_byline_echo(line: str, authors: set[str]) -> bool:
    """A body line that only repeats the byline: an author's name, or a date stamp."""
    if authors and text_key(strip_byline_prefix(line)) in authors:
        return True
    return bool(_DATE_STAMP.match(line.strip()))


def _choose_body(
    meta: PageMetadata, tree: HTMLParser, page: _LxmlPage, url: str, title: str
) -> str:
    """The fast scorer when it is sure; trafilatura when not; JSON-LD articleBody last.

    Measured on fundus-dev (benchmarks/eval_cleaner.py): the scorer alone is ~8x faster
    than trafilatura; it is unsure on a few pages (a short result, or a container
    holding under 40 % of the page's prose), and those go to trafilatura. JSON-LD
    articleBody measured worse than both (often a truncated or unformatted copy).
    """
    scored = extract_body(tree, title)
    if (
        scored is not None
        and len(scored.text) >= _MIN_SCORED_BODY
        and scored.prose_share >= _MIN_PROSE_SHARE
        and scored.text_share >= _MIN_TEXT_SHARE
    ):
        return scored.text
    # trafilatura's cost grows fast with page size; past the largest real pages measured
    # (fundus-dev: ~8,100 tags) the scorer's answer stands.
    html = page.html
    fallback = _generic_body(page, url) if html.count("<") <= _MAX_FALLBACK_TAGS else None
    found = fallback or (scored.text if scored is not None else "")
    if len(found) < _MIN_SCORED_BODY:
        # Next.js and similar pages may carry the article only in their hydration data.
        embedded = embedded_article_html(html)
        from_scripts = extract_body(HTMLParser(embedded), title) if embedded else None
        if from_scripts is not None and len(from_scripts.text) > len(found):
            return from_scripts.text
    return found or meta.body or ""


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
        ExtractionError: the page is not an article; ``reason`` says why. Pages over
            the caps of `cleaner.limits` (size, tags, nesting depth) are refused as
            ``too_large`` before parsing, binary data (a PDF, an archive, an image) as
            ``not_html``.
    """
    check_size(html)
    refuse_binary(html)
    if isinstance(html, bytes):
        content_type = None
        if headers is not None:
            lowered = {key.lower(): value for key, value in headers.items()}
            content_type = lowered.get("content-type")
        html = decode_html(html, content_type)
    if not is_http_url(url):
        raise ExtractionError(RejectReason.INVALID_URL, f"not an absolute http(s) URL: {url!r}")
    refuse_binary(html)
    check_structure(html)
    # Control characters are not HTML; lxml (htmldate, trafilatura) refuses them outright.
    if any(char in html for char in _CONTROL_CHAR_LIST):
        html = _CONTROL_CHARS.sub("", html)
    tree = HTMLParser(html)
    host = urlsplit(url).hostname or ""
    rule = find_rules(host, tree, rules)
    info = refuse_listing(url, rule)
    meta = read_metadata(tree)
    # Read before the body's pruning takes nodes out of the tree.
    canonical = _canonical_url(tree, url)
    fields = _rule_fields(tree, rule, url, fetched_at) if rule is not None else {}
    rule_dated = "date_raw" in fields
    fields = _fill_from_metadata(fields, meta, tree, html, url, host, rule, fetched_at)
    if rule is not None and rule.kind == "aggregator":
        fields = _teaser_fields(fields, tree, rule, url, info, meta)
        if not rule_dated:
            fields = _date_from_lead(fields, rule, fetched_at)
    # One record, one id, whichever variant of the page was fetched (tracking parameters,
    # AMP, print): the site rules' own key first (QOSHE's column number), then the
    # canonical URL the page declares, then the URL fetched.
    if canonical is not None and record_key(canonicalize_url(str(fields["url"]))) is None:
        fields["url"] = canonical
    fields["canonical_url"] = canonical
    try:
        return Article.model_validate({**fields, "fetched_at": fetched_at})
    except ValidationError as error:
        raise rejection(error) from None


def _rule_fields(
    tree: HTMLParser, rule: SiteRules, url: str, fetched_at: datetime | None
) -> dict[str, object]:
    fields: dict[str, object] = {}
    if rule.kind == "aggregator":
        # Read before the chrome goes: a credit may sit in a footer-like box.
        own = own_names(rule, urlsplit(url).hostname or "")
        fields["_credits"] = [
            credit_from_selectors(tree, rule, url, own),
            find_credit_element(tree, rule, url, own),
        ]
    for selector in rule.selectors.noise:
        for node in tree.css(selector):
            node.decompose()
    title = _first_text(tree, rule.selectors.title)
    if title:
        fields["title"] = title
    date_raw = _first_text(tree, rule.selectors.date)
    if date_raw:
        fields["date_raw"] = date_raw
        if is_relative_date(date_raw, rule.relative_dates):
            fields["date"] = resolve_relative_date(date_raw, fetched_at, rule.relative_dates)
        else:
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
                if rule.kind == "aggregator":
                    fields["_blocks"] = blocks
                    fields["body"] = "\n\n".join(blocks)
                else:
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
    if rule.kind != "aggregator":
        fields["source"] = rule.display_name
    return fields


def _teaser_fields(
    fields: dict[str, object],
    tree: HTMLParser,
    rule: SiteRules,
    url: str,
    info: PageInfo | None,
    meta: PageMetadata,
) -> dict[str, object]:
    """An aggregator page's body cut at its credit and marker, and its publisher."""
    filled = dict(fields)
    found = filled.pop("_credits", None)
    credits: list[Credit | None] = list(found) if isinstance(found, list) else []
    blocks = filled.pop("_blocks", None)
    if not isinstance(blocks, list):
        blocks = str(filled.get("body") or "").split("\n\n")
    own = own_names(rule, urlsplit(url).hostname or "")
    filled["body"], filled["truncated"], glued = teaser_body(blocks, rule, own)
    if glued is not None and glued.name and glued.url is None:
        glued = Credit(glued.name, link_named(tree, glued.name, rule, url))
    credits.append(glued)
    if meta.publisher and not is_own_name(meta.publisher, own):
        credits.append(Credit(meta.publisher))
    filled.pop("source", None)
    filled.update(teaser_source(credits, info, rule, url))
    filled["url"] = canonical_page_url(url, rule)
    return filled


def _date_from_lead(
    fields: dict[str, object], rule: SiteRules, fetched_at: datetime | None
) -> dict[str, object]:
    """A body that starts with the page's title and date line (markup the rule's selectors
    missed): those lines go, and the date line is the date, as in a text dump."""
    filled = dict(fields)
    blocks = str(filled.get("body") or "").split("\n\n")
    title = text_key(str(filled.get("title") or ""))
    formats = tuple(rule.date_formats)
    for index, block in enumerate(blocks[:_LEAD_LINES]):
        found = read_date_line(block, formats, rule.relative_dates, fetched_at)
        if found is not None and all(text_key(line) == title for line in blocks[:index]):
            filled["date_raw"], filled["date"] = found
            filled["body"] = "\n\n".join(blocks[index + 1 :])
            break
    return filled


def _fill_from_metadata(
    fields: dict[str, object],
    meta: PageMetadata,
    tree: HTMLParser,
    html: str,
    url: str,
    host: str,
    rule: SiteRules | None,
    fetched_at: datetime | None,
) -> dict[str, object]:
    filled = dict(fields)
    page = _LxmlPage(html)
    undated: list[str | None] | None = None
    headline_dated: tuple[str, str] | None = None
    site_names = [*meta.site_names, *([rule.display_name] if rule else [])]
    h1 = _first_text(tree, ["h1"])
    if "title" not in filled:
        title_tag = _first_text(tree, ["title"])
        filled["title"] = (
            choose_title(
                witness_order(
                    meta.og_title, meta.ld_title, h1, title_tag, site_names, host, meta.sections
                ),
                site_names,
                host,
                meta.sections,
            )
            or ""
        )
    if filled.get("date") is None and "date_raw" not in filled:
        # (A relative date the rule could not resolve stays unresolved: no guessing.)
        candidates = _date_candidates(tree, meta)
        picked = pick_date(candidates, fetched_at)
        if picked is not None:
            filled["date_raw"], filled["date"] = picked
        else:
            undated = candidates  # htmldate's turn, after the body's trafilatura
            # Read now: the body's pruning may take the byline out of the tree.
            headline_dated = _headline_date(tree, fetched_at)
    if "authors" not in filled:
        # The JSON-LD author field: people first, then credited agencies ("dpa", "SDA").
        authors = clean_authors(meta.authors, site_names)
        if authors:
            authors = clean_authors([*authors, *meta.organisation_authors], site_names)
        authors = authors or clean_authors(meta.meta_authors, site_names)
        authors = authors or byline_authors(tree, site_names)
        authors = authors or prefixed_byline(tree, site_names)
        # Last, what the page names as author even when it is the publisher itself.
        authors = authors or clean_authors(
            [*meta.authors, *meta.organisation_authors, *meta.meta_authors]
        )
        filled["authors"] = authors
    if "body" not in filled:
        body = _choose_body(meta, tree, page, url, str(filled.get("title") or ""))
        names = filled.get("authors")
        echoes = {text_key(str(name)) for name in names} if isinstance(names, list) else set()
        lines = body.split("\n")
        # (the blank line between two paragraphs is half of them: noise, known at once)
        as_is = lines_normalized(body)  # the scorer's answer, mostly: no line to normalize
        if as_is:
            kept = [line for line in lines if line and not is_noise_spaced(line)]
        else:
            kept = [line for line in lines if line and not is_noise_line(line)]
        kept = [line for line in kept if not _is_byline_echo(line, echoes)]
        body = "\n\n".join(kept if as_is else map(normalize_text, kept))
        filled["body"], filled["truncated"] = strip_truncation(body, ("...", "…"))
    if undated is not None:
        # Only future dates on the page: keep one, so validation rejects it as FUTURE_DATE.
        picked = headline_dated or pick_date([_htmldate(page, url, fetched_at)], fetched_at)
        picked = picked or pick_date(undated)
        if picked is not None:
            filled["date_raw"], filled["date"] = picked
    filled.setdefault("source", meta.publisher or host)
    filled.setdefault("paywalled", None if meta.is_free is None else not meta.is_free)
    filled.update(_described(meta, url, filled, fetched_at))
    filled["url"] = url
    return filled


def _headline_date(tree: HTMLParser, fetched_at: datetime | None) -> tuple[str, str] | None:
    """The date written right after the page's ``<h1>``, else right before it: where a
    page with no date in its markup prints its byline ("Updated Dec 4, 2025", "Back to
    all articles February 4, 2025 - 11 minutes"). (raw, ISO 8601 date) or None.

    htmldate, which reads the whole page, may take a copyright year or a list's date
    for the page's own (wcxb-dev: 6 of its misses right, 1 hit lost).
    """
    heading = tree.css_first("h1")
    if heading is None:
        return None
    after = text_dates(_text_beside(heading, forward=True)[:_AFTER_HEADLINE])
    before = text_dates(_text_beside(heading, forward=False)[-_BEFORE_HEADLINE:])
    for raw, iso in [*after[:1], *before[-1:]]:
        if not is_after(iso, fetched_at):
            return raw, iso
    return None


def _text_beside(node: Node, *, forward: bool) -> str:
    """The page's text just after ``node`` (or just before it), about as much as the
    headline's date could need: the siblings' text, then the ancestors' siblings'."""
    limit = max(_AFTER_HEADLINE, _BEFORE_HEADLINE)
    parts: list[str] = []
    size = 0
    current: Node | None = node
    while current is not None and size < limit:
        sibling = current.next if forward else current.prev
        while sibling is not None and size < limit:
            if sibling.tag not in _UNSEEN_TAGS:
                text = sibling.text(separator=" ")
                parts.append(text)
                size += len(text.strip())
            sibling = sibling.next if forward else sibling.prev
        current = current.parent
    return " ".join(" ".join(parts if forward else reversed(parts)).split())


def _htmldate(page: _LxmlPage, url: str, fetched_at: datetime | None) -> str | None:
    """htmldate's date for the page; it drops nodes from the page's lxml tree."""
    # A page without a date anywhere (htmldate's search then reads all of it for nothing:
    # 24 of 38 ms on clean_bench.py's pages) is known by its digits, before lxml parses it;
    # its URL may still hold one (an article id, a port are digits too): htmldate then
    # reads the URL alone, on an empty page, which finds what the whole page would.
    page_dated = page_may_hold_date(page.html)
    url_dated = url_may_hold_date(url)
    if not page_dated and not url_dated:
        return None
    latest = fetched_at.strftime("%Y-%m-%d") if fetched_at is not None else None
    if url_dated:
        # htmldate returns a date its URL pattern reads before it looks at the page: read
        # on an empty page, the URL gives the same answer without parsing this one.
        found = _find_date(_empty_tree(), url, latest, extensive=True)
        if found is not None or not page_dated:
            return found
    tree = page.tree
    if tree is None:
        return None
    # Scripts and styles hold no publication date htmldate could use that the metadata
    # has not read (JSON-LD stays), and most of a modern page's characters: its
    # extensive search runs over them all.
    for node in tree.xpath("//script[not(@type='application/ld+json')]|//style|//noscript|//svg"):
        node.drop_tree()
    # The extensive search reads dates in the page's text and links too.
    text_chars = len(tree.text_content())
    return _find_date(tree, url, latest, extensive=text_chars <= _MAX_EXTENSIVE_DATE_CHARS)


def _find_date(
    tree: lxml.html.HtmlElement, url: str, latest: str | None, *, extensive: bool
) -> str | None:
    from htmldate import find_date  # imported on first need, like trafilatura

    found: str | None = find_date(
        tree, extensive_search=extensive, original_date=True, url=url, max_date=latest
    )
    return found


def _empty_tree() -> lxml.html.HtmlElement:
    return lxml.html.document_fromstring("<html><body></body></html>")


def _described(
    meta: PageMetadata, url: str, fields: Mapping[str, object], fetched_at: datetime | None
) -> dict[str, object]:
    """What the page states about itself beyond the core fields (none of it is guessed,
    except a language the page does not declare, which is detected and flagged)."""
    found: dict[str, object] = {}
    title = str(fields.get("title") or "")
    if meta.description and text_key(meta.description) != text_key(title):
        found["description"] = meta.description
    image = urljoin(url, meta.image.strip()) if meta.image else ""
    if is_http_url(image):
        found["image"] = image
    section = next((name for name in meta.sections if name not in meta.site_names), None)
    if section:
        found["section"] = normalize_text(section)
    found["tags"] = [tag for tag in meta.tags if len(tag) <= _MAX_TAG][:_MAX_TAGS]
    modified = pick_date([meta.date_modified_raw], fetched_at)
    published = str(fields.get("date") or "")
    # Compared by calendar day: a day earlier than the publication is the page's error.
    if modified is not None and modified[1][:10] >= published[:10]:
        found["date_modified"] = modified[1]
    if meta.language:
        found["language"] = meta.language
    else:
        detected = detect_language(f"{title}\n{fields.get('body') or ''}")
        found["language"], found["language_detected"] = detected, detected is not None
    return found


def _date_candidates(tree: HTMLParser, meta: PageMetadata) -> list[str | None]:
    """Publication-date witnesses in order of trust: JSON-LD/meta, then ``<time>`` elements."""
    found: list[str | None] = [meta.date_raw]
    for selector in ('[itemprop="datePublished"]', "time[datetime]"):
        for node in tree.css(selector)[:3]:
            found.append(node.attributes.get("datetime") or node.attributes.get("content"))
    return found


def declared_url(html: str | bytes) -> str | None:
    """The page's own absolute URL (``<link rel=canonical>``, then ``og:url``), if it has one."""
    if isinstance(html, bytes):
        html = decode_html(html)
    return next(_declared_urls(HTMLParser(html), None), None)


def _declared_urls(tree: HTMLParser, base: str | None) -> Iterator[str]:
    """The absolute URLs the page declares as its own, most trusted first (relative ones
    resolved against ``base`` when given)."""
    for selector, attribute in (
        ('link[rel~="canonical"]', "href"),
        ('meta[property="og:url"]', "content"),
    ):
        node = tree.css_first(selector)
        value = (node.attributes.get(attribute) or "").strip() if node is not None else ""
        if value and base is not None:
            value = urljoin(base, value)
        if is_http_url(value):
            yield value


def _canonical_url(tree: HTMLParser, url: str) -> str | None:
    """The canonical URL the page declares for itself, on its own site only: a page may
    name its original (AMP, print, tracking variants) but never claim another site's id."""
    for declared in _declared_urls(tree, url):
        if same_site(url, declared):
            return canonicalize_url(declared)
    return None
