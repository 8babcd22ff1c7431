"""What a page is, and which record it is, told by its URL before anything is extracted.

Site knowledge (path shapes, mirror hosts, the record key) is in each rule's ``[urls]``
table; this module only applies it. A listing page (a columnist's or a newspaper's list of
columns) is known here from its address, so it is refused before it can come out as an
article.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from urllib.parse import urlsplit, urlunsplit

from cleaner.errors import ExtractionError
from cleaner.reasons import RejectReason
from cleaner.rules import LISTING_KINDS, SiteRules, builtin_rules


@dataclass(frozen=True)
class PageInfo:
    """A page's kind and the parts its path names (newspaper, columnist, id)."""

    kind: str
    parts: dict[str, str] = field(default_factory=dict)

    @property
    def is_listing(self) -> bool:
        return self.kind in LISTING_KINDS


@cache
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def page_info(url: str, rule: SiteRules) -> PageInfo | None:
    """The kind of page ``url`` is on ``rule``'s site, or None when no pattern matches."""
    path = urlsplit(url).path or "/"
    for page in rule.urls.pages:
        match = _compiled(page.path).match(path)
        if match is not None:
            parts = {key: value for key, value in match.groupdict().items() if value}
            return PageInfo(page.kind, parts)
    return None


def refuse_listing(url: str, rule: SiteRules | None) -> PageInfo | None:
    """The page's info; raises for a listing page, which is never an article.

    Raises:
        ExtractionError: ``listing_page``, with the kind of listing in the detail.
    """
    info = page_info(url, rule) if rule is not None else None
    if info is not None and info.is_listing:
        what = info.kind.replace("_", " ")
        raise ExtractionError(
            RejectReason.LISTING_PAGE,
            f"{url} is a {what} page of {rule.display_name if rule else 'an aggregator'}:"
            " a list of columns to discover from, not an article",
        )
    return info


def canonical_page_url(url: str, rule: SiteRules) -> str:
    """The address a record of ``url`` is kept under: a mirror read as the site's own
    host, an AMP rendering as its article."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    netloc = parts.netloc
    if rule.urls.canonical_host and host in rule.urls.mirror_hosts:
        netloc = rule.urls.canonical_host
    path = parts.path
    info = page_info(url, rule)
    if info is not None and info.kind == "amp_article" and rule.urls.amp_suffix:
        path = path.rstrip("/").removesuffix(rule.urls.amp_suffix) or "/"
    return urlunsplit((parts.scheme, netloc, path, parts.query, ""))


def _rule_for_host(host: str) -> SiteRules | None:
    for rule in builtin_rules():
        if rule.urls.key and rule.applies_to(host, None):
            return rule
    return None


def record_key(url: str) -> str | None:
    """The site's stable key for the article at ``url`` ('qoshe:189000123'), or None.

    Only the shipped rules' hosts (and mirrors) count: the key must be the same
    whichever code path builds the record.
    """
    try:
        host = (urlsplit(url).hostname or "").lower().rstrip(".")
    except ValueError:
        return None
    rule = _rule_for_host(host) if host else None
    if rule is None or rule.urls.key is None:
        return None
    info = page_info(url, rule)
    if info is None or info.is_listing:
        return None
    try:
        return rule.urls.key.format(**info.parts)
    except (KeyError, IndexError, ValueError):
        return None  # a pattern without the groups the key names: no site key
