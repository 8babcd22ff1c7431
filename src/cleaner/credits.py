"""An aggregator's credit to the original publisher, in a text dump and in HTML.

Aggregators end a teaser with a credit: "© The Conversation" on its own line or glued
to the cut sentence, "Read at www.publisher.com", "Continue reading at …", often
linking to the original article. Which lead-ins a site uses is data (the rule's
``[credits]`` table); finding the credit near the end, reading its name and link, and
dropping what follows it (app badges, a sidebar of other columnists' names) is the same
for every aggregator, and is here.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass
from functools import cache
from urllib.parse import urljoin, urlsplit

from selectolax.lexbor import LexborHTMLParser as HTMLParser
from selectolax.lexbor import LexborNode as Node

from cleaner.noise import normalize_text, strip_truncation, text_key
from cleaner.pages import PageInfo, page_info
from cleaner.rules import Credits, SiteRules, Text
from cleaner.urls import is_http_url

_URL = re.compile(r"(?:https?://|www\.)\S+")
_YEAR = re.compile(r"^(?:\d{4}(?:\s*[-–]\s*\d{4})?)\s+")
# A credit element is a short line; a longer text holding a lead-in is prose or a footer.
_MAX_CREDIT_CHARS = 160
_OPENING_QUOTES = " \t“‘«‹\"'(["


@dataclass(frozen=True)
class Credit:
    """The publisher an aggregator credits, and the original article when it links to it."""

    name: str | None
    url: str | None = None


@cache
def _lead_pattern(leads: tuple[str, ...]) -> re.Pattern[str]:
    # A lead-in starts a line or follows a space, a quote or the cut's dots: glued credits.
    alternatives = "|".join(f"(?:{lead})" for lead in leads)
    return re.compile(rf"(?:^|(?<=[\s.“”\"'‘’«»…]))(?:{alternatives})", re.IGNORECASE)


def _words(text: str) -> int:
    return len(text.split())


def _name(rest: str, credits: Credits) -> str | bool | None:
    """The publisher's name after a lead-in; None when there is none; False when the
    rest is too long to be a name (the lead-in was prose)."""
    text = rest.strip(" :-–—|")
    urls = _URL.findall(text)
    text = _URL.sub(lambda match: _host_name(match.group(0)), text)
    text = _YEAR.sub("", text).strip(" .:-–—|")
    if not text:
        return None if not urls else False
    if _words(text) > credits.max_name_words:
        return False
    return text


def _host_name(url: str) -> str:
    host = urlsplit(url if "://" in url else f"http://{url}").hostname or url
    return host.removeprefix("www.")


def is_own_name(name: str | None, own: tuple[str, ...]) -> bool:
    """A credit the aggregator gives itself ("© 2026 QOSHE"): never the source."""
    if not name:
        return False
    key = text_key(name)
    return any(mine and mine in key for mine in own)


def own_names(rule: SiteRules, host: str) -> tuple[str, ...]:
    """The keys of the aggregator's own names: its display name and hosts."""
    names = [rule.display_name, host, *rule.match.hosts, *rule.urls.mirror_hosts]
    hosts = [name.lstrip("*.").removeprefix("www.").split(".")[0] for name in names[1:]]
    return tuple(key for key in {text_key(rule.display_name), *map(text_key, hosts)} if key)


def _in_line(line: str, credits: Credits, own: tuple[str, ...]) -> tuple[str, Credit] | None:
    """(text before the credit, the credit) when ``line`` holds one."""
    for match in reversed(list(_lead_pattern(tuple(credits.leads)).finditer(line))):
        name = _name(line[match.end() :], credits)
        if name is False or (isinstance(name, str) and is_own_name(name, own)):
            continue
        urls = [url for url in _URL.findall(line[match.end() :]) if is_http_url(url)]
        before = line[: match.start()].rstrip(_OPENING_QUOTES)
        return before, Credit(name if isinstance(name, str) else None, urls[0] if urls else None)
    return None


def split_credit(
    lines: list[str], credits: Credits, own: tuple[str, ...] = ()
) -> tuple[list[str], Credit | None]:
    """The lines before the last credit near the end, and the credit.

    Near the end means that only short lines (names, badges) follow it; a credit glued to
    the last sentence keeps that sentence's text. A credit the aggregator gives itself is
    skipped over like any other trailing line.
    """
    for index in range(len(lines) - 1, -1, -1):
        found = _in_line(lines[index], credits, own)
        if found is not None:
            before, credit = found
            return [*lines[:index], *([before] if before.strip() else [])], credit
        if _words(lines[index]) > credits.max_trailing_words:
            break  # prose: whatever credit there is lies further up, inside the text
    return lines, None


def cut_teaser(lines: list[str], text: Text) -> tuple[list[str], bool]:
    """The teaser's lines without its cut marker, and whether it was cut there.

    Nothing of the column follows the marker: later (short) lines are dropped with it.
    A site with exact markers loses only the marker ("citizens." + "........" keeps its
    full stop); others fall back to trailing dots and ellipses.
    """
    if not text.cut_markers:
        joined, cut = strip_truncation("\n".join(lines), text.truncation_suffixes)
        return joined.split("\n") if joined else [], cut
    for index in range(len(lines) - 1, -1, -1):
        line = lines[index].rstrip()
        for marker in text.cut_markers:
            if marker and line.endswith(marker):
                kept = line[: -len(marker)].rstrip()
                return [*lines[:index], *([kept] if kept else [])], True
    return lines, False


def newspaper_hint(info: PageInfo | None, credits: Credits) -> str | None:
    """The publisher named by the URL's newspaper segment: a last-resort source.

    A slug is not a name (``the-guardian-au``): the rule's map first, then the slug
    without its region suffix, title-cased.
    """
    slug = (info.parts.get("newspaper") if info is not None else None) or ""
    if not slug:
        return None
    if slug in credits.newspapers:
        return credits.newspapers[slug]
    for suffix in credits.slug_suffixes:
        slug = re.sub(suffix, "", slug)
    words = [word for word in re.split(r"[-_]+", slug) if word]
    return " ".join(word.capitalize() for word in words) or None


def _is_aggregator_link(link: str, rule: SiteRules, page_url: str) -> bool:
    """A link into the aggregator itself (its newspaper or columnist pages), never the
    original: on its hosts, or on the page's own host where the rule knows the page
    shapes and this is one of them (or knows none)."""
    parts = urlsplit(link)
    host = (parts.hostname or "").lower()
    if host in rule.urls.mirror_hosts or any(
        fnmatch.fnmatch(host, pattern) for pattern in rule.match.hosts
    ):
        return True
    if parts.netloc.lower() != urlsplit(page_url).netloc.lower():
        return False
    return not rule.urls.pages or page_info(link, rule) is not None


def _external_link(node: Node, rule: SiteRules, page_url: str) -> str | None:
    links = [node] if node.tag == "a" else []
    links += list(node.css("a[href]"))
    for link in links:
        href = (link.attributes.get("href") or "").strip()
        absolute = urljoin(page_url, href) if href else ""
        if is_http_url(absolute) and not _is_aggregator_link(absolute, rule, page_url):
            return absolute
    return None


def credit_from_selectors(
    tree: HTMLParser, rule: SiteRules, url: str, own: tuple[str, ...]
) -> Credit | None:
    """The credit in the rule's own ``source`` / ``source_url`` elements, if they match."""
    link = None
    for selector in rule.selectors.source_url:
        node = tree.css_first(selector)
        link = _external_link(node, rule, url) if node is not None else None
        if link:
            break
    name = None
    for selector in rule.selectors.source:
        node = tree.css_first(selector)
        text = normalize_text(node.text(separator=" ")) if node is not None else ""
        if not text or len(text) > _MAX_CREDIT_CHARS:
            continue
        found = _in_line(text, rule.credits, own)
        if found is not None:
            name = found[1].name
        elif not is_own_name(text, own) and _words(text) <= rule.credits.max_name_words:
            name = text  # the element is the credit, without a lead-in
        link = link or _external_link(node, rule, url) if node is not None else link
        if name:
            break
    return Credit(name, link) if name or link else None


def link_named(tree: HTMLParser, name: str, rule: SiteRules, url: str) -> str | None:
    """An external link whose text is the credited name: the original, for a glued credit."""
    key = text_key(name)
    for node in tree.css("a[href]"):
        if text_key(node.text(separator=" ")) == key:
            link = _external_link(node, rule, url)
            if link:
                return link
    return None


def find_credit_element(
    tree: HTMLParser, rule: SiteRules, url: str, own: tuple[str, ...]
) -> Credit | None:
    """The first element anywhere on the page that is a credit ("© <a>Publisher</a>"),
    with the external link inside it, if any."""
    body = tree.body
    if body is None:
        return None
    pattern = _lead_pattern(tuple(rule.credits.leads))
    if pattern.search(body.text(separator=" ")) is None:
        return None  # the common case for a page without any credit: one pass, no walk
    for node in body.traverse(include_text=False):
        if pattern.search(node.text(deep=False, separator=" ")) is None:
            continue
        credit = _credit_around(node, rule.credits, own)
        if credit is not None:
            return Credit(credit[1].name, credit[1].url or _external_link(credit[0], rule, url))
    return None


def _credit_around(
    node: Node, credits: Credits, own: tuple[str, ...]
) -> tuple[Node, Credit] | None:
    """The credit an element starts, climbing to its parent while the name is elsewhere
    (``<span>©</span> <a>Publisher</a>``)."""
    current: Node | None = node
    while current is not None and current.tag not in ("body", "html"):
        text = normalize_text(current.text(separator=" "))
        if len(text) > _MAX_CREDIT_CHARS:
            return None
        match = _lead_pattern(tuple(credits.leads)).match(text)
        if match is not None:
            name = _name(text[match.end() :], credits)
            if name is False or (isinstance(name, str) and is_own_name(name, own)):
                return None
            if isinstance(name, str):
                return current, Credit(name)
            if current.tag == "a" or current.css_first("a[href]") is not None:
                return current, Credit(None)  # "Continue reading…": the link is the credit
        current = current.parent
    return None
