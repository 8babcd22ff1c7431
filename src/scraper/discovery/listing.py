"""Aggregator and section listing pages to links, driven by listing rules (TOML data files).

A listing rule says where the items are, and inside each item where the link, title and
date are, how the date is written, and how to reach the next page. Adding a site means
adding ``listings/<name>.toml``; no Python changes.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from importlib import resources
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from selectolax.lexbor import LexborHTMLParser, LexborNode

from cleaner import ExtractionError
from cleaner.decode import decode_html
from cleaner.limits import check_structure
from cleaner.noise import text_key
from cleaner.rules import check_patterns
from scraper.discovery.errors import DiscoveryError
from scraper.discovery.links import Link, absolute_url, clean_text, iso_date

_RULE_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
# A shorter teaser ("Read more", a date) says nothing about which column it belongs to.
_MIN_TEASER_KEY = 40


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


def _check_selectors(selectors: list[str]) -> list[str]:
    probe = LexborHTMLParser("<html><body><p>probe</p></body></html>")
    for selector in selectors:
        try:
            probe.css(selector)
        except Exception as exc:  # selectolax raises several types for a bad selector
            raise ValueError(f"invalid CSS selector {selector!r}: {exc}") from exc
    return selectors


class ListingSelectors(_Strict):
    """CSS selectors, each list tried in order; the first that matches wins."""

    item: list[str] = Field(min_length=1, description="one element per listed article")
    link: list[str] = Field(
        default_factory=lambda: ["a[href]"], description="inside an item: the article link"
    )
    title: list[str] = Field(
        default_factory=list, description="inside an item; default: the link's text"
    )
    date: list[str] = Field(
        default_factory=list, description="inside an item; a datetime attribute beats the text"
    )
    next_page: list[str] = Field(
        default_factory=list, description="on the page: the link to the next (older) page"
    )
    skip: list[str] = Field(
        default_factory=list, description="an item matching or containing one is ignored (ads)"
    )
    teaser: list[str] = Field(
        default_factory=list,
        description="inside an item: its teaser; a later item with the same teaser is dropped",
    )

    _valid = field_validator("item", "link", "title", "date", "next_page", "skip", "teaser")(
        _check_selectors
    )


class ListingRules(_Strict):
    """Everything discovery knows about one kind of listing page, validated so typos fail."""

    name: str = Field(pattern=_RULE_NAME.pattern)
    description: str = ""
    layout_version: int = 1
    valid_until: date | None = Field(default=None, description="review the rule after this date")
    selectors: ListingSelectors
    date_formats: list[str] = Field(default_factory=list, description="strptime formats")
    date_pattern: str | None = Field(
        default=None, description="regex picking the date out of a longer text, e.g. 'Posted …'"
    )
    link_key: str | None = Field(
        default=None,
        description=(
            "regex on a link's path whose 'key' group names the article (a numeric id):"
            " a later link with the same key is the same article under an edited slug"
        ),
    )
    skip_link_paths: list[str] = Field(
        default_factory=list, description="regexes on a link's path: never an article (listings)"
    )
    page_param: str | None = Field(
        default=None,
        description=(
            "query parameter numbering pages (?page=N), for sites without a next link;"
            " discovery stops at a page with nothing new, an empty page or a 404"
        ),
    )
    first_page: int = Field(default=1, ge=0, description="the number of the unnumbered page")
    newest_first: bool = Field(
        default=True,
        description="pages run newest first, so a page of only too-old items ends pagination",
    )

    @field_validator("date_pattern", "link_key")
    @classmethod
    def _compiles(cls, value: str | None) -> str | None:
        if value is not None:
            check_patterns([value])
        return value

    @field_validator("skip_link_paths")
    @classmethod
    def _all_compile(cls, value: list[str]) -> list[str]:
        return check_patterns(value)


@dataclass(frozen=True)
class ListingPage:
    """One parsed listing page."""

    links: list[Link] = field(default_factory=list)
    next_page: str | None = None  # canonical URL of the next page, or None on the last one
    items: int = 0  # item elements matched, links or not: 0 means the rule no longer fits


def parse_listing_rules(text: str, origin: str = "<string>") -> ListingRules:
    """Listing rules from TOML text; ``origin`` names the file in error messages."""
    try:
        return ListingRules.model_validate(tomllib.loads(text))
    except tomllib.TOMLDecodeError as exc:
        raise DiscoveryError(f"invalid listing rules in {origin}: {exc}") from exc
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc']) or '(top)'}: {error['msg']}"
            for error in exc.errors()
        )
        raise DiscoveryError(f"invalid listing rules in {origin}: {problems}") from exc


def builtin_listing_names() -> list[str]:
    """Names of the listing rules shipped in ``scraper/discovery/listings/``."""
    folder = resources.files("scraper.discovery") / "listings"
    return sorted(
        entry.name.removesuffix(".toml")
        for entry in folder.iterdir()
        if entry.name.endswith(".toml")
    )


@cache
def load_listing_rules(name: str) -> ListingRules:
    """The shipped listing rules ``listings/<name>.toml``, or a rules file when given a path.

    Raises:
        DiscoveryError: unknown name, unreadable file, or invalid rules (the key is named).
    """
    if name.endswith(".toml") or "/" in name or "\\" in name:
        path = Path(name)
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise DiscoveryError(f"cannot read listing rules {path}: {exc}") from exc
        return parse_listing_rules(text, str(path))
    known = builtin_listing_names()
    if not _RULE_NAME.match(name) or name not in known:
        raise DiscoveryError(
            f"unknown listing rules {name!r}; shipped: {', '.join(known) or 'none'}"
            " (or give a path to a .toml file)"
        )
    entry = resources.files("scraper.discovery") / "listings" / f"{name}.toml"
    rules = parse_listing_rules(entry.read_text(encoding="utf-8"), f"listings/{name}.toml")
    if rules.name != name:
        raise DiscoveryError(f"listings/{name}.toml names itself {rules.name!r}")
    return rules


def _first(node: LexborNode, selectors: list[str]) -> LexborNode | None:
    for selector in selectors:
        found = node.css_first(selector)
        if found is not None:
            return found
    return None


def _items(tree: LexborHTMLParser, selectors: list[str]) -> list[LexborNode]:
    for selector in selectors:
        found = tree.css(selector)
        if found:
            return list(found)
    return []


def _date(item: LexborNode, rules: ListingRules) -> str | None:
    node = _first(item, rules.selectors.date)
    if node is None:
        return None
    stated = iso_date(node.attributes.get("datetime"))  # machine-readable, when present
    if stated is not None:
        return stated
    raw: str | None = node.text(separator=" ")
    if raw and rules.date_pattern:
        match = re.search(rules.date_pattern, raw)
        raw = match.group(0) if match else None
    return iso_date(raw, rules.date_formats)


def _link_node(item: LexborNode, rules: ListingRules) -> LexborNode | None:
    node = _first(item, rules.selectors.link)
    if node is None and item.tag == "a" and item.attributes.get("href"):
        return item  # the item is the link itself
    return node


def _skipped_link(url: str, rules: ListingRules) -> bool:
    path = urlsplit(url).path
    return any(re.search(pattern, path) for pattern in rules.skip_link_paths)


def _link_key(url: str, rules: ListingRules) -> str | None:
    if rules.link_key is None:
        return None
    match = re.search(rules.link_key, urlsplit(url).path)
    key = match.groupdict().get("key") if match is not None else None
    return f"key:{key}" if key else None


def _teaser_key(item: LexborNode, rules: ListingRules) -> str | None:
    node = _first(item, rules.selectors.teaser)
    text = clean_text(node.text(separator=" ")) if node is not None else None
    key = text_key(text.rstrip(".… ")) if text else ""
    return f"teaser:{key}" if len(key) >= _MIN_TEASER_KEY else None


def _numbered_next(page_url: str, rules: ListingRules) -> str | None:
    if rules.page_param is None:
        return None
    parts = urlsplit(page_url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    current = next((value for key, value in query if key == rules.page_param), None)
    try:
        number = int(current) if current is not None else rules.first_page
    except ValueError:
        return None
    query = [(key, value) for key, value in query if key != rules.page_param]
    query.append((rules.page_param, str(number + 1)))
    return absolute_url(urlunsplit(parts._replace(query=urlencode(query))), page_url)


def parse_listing(html: bytes | str, base_url: str, rules: ListingRules) -> ListingPage:
    """The article links of one listing page, in page order, and the next page's URL.

    Raises:
        DiscoveryError: the page is empty or not a document at all.
    """
    text = decode_html(html) if isinstance(html, bytes) else html
    if not text.strip():
        raise DiscoveryError("empty listing page")
    try:  # the parser's time grows with the square of the nesting depth
        check_structure(text)
    except ExtractionError as exc:
        raise DiscoveryError(f"listing page refused: {exc.detail}") from None
    tree = LexborHTMLParser(text)
    base = tree.css_first("base[href]")
    page_base = absolute_url(base.attributes.get("href"), base_url) if base else None
    page_base = page_base or base_url
    items = _items(tree, rules.selectors.item)
    links: list[Link] = []
    seen: set[str] = set()
    for item in items:
        if any(item.css_matches(selector) for selector in rules.selectors.skip):
            continue
        link_node = _link_node(item, rules)
        if link_node is None:
            continue
        url = absolute_url(link_node.attributes.get("href"), page_base)
        if url is None or url in seen or _skipped_link(url, rules):
            continue
        # The same column listed twice after a headline edit: by its id, or by its teaser.
        same = [_link_key(url, rules), _teaser_key(item, rules)]
        if any(key is not None and key in seen for key in same):
            continue
        seen.update([url, *(key for key in same if key is not None)])
        title_node = _first(item, rules.selectors.title)
        title = clean_text(title_node.text(separator=" ")) if title_node is not None else None
        title = title or clean_text(link_node.text(separator=" "))
        title = title or clean_text(link_node.attributes.get("title"))
        links.append(Link(url=url, title=title, published=_date(item, rules), found_on=base_url))
    next_node = _first(tree.root, rules.selectors.next_page) if tree.root else None
    next_page = absolute_url(next_node.attributes.get("href"), page_base) if next_node else None
    if next_page is None and links:
        next_page = _numbered_next(base_url, rules)
    if next_page == absolute_url(base_url, base_url):
        next_page = None  # a "next" link to itself, as on some last pages
    return ListingPage(links=links, next_page=next_page, items=len(items))
