"""Site rules: per-site knowledge (selectors, date formats, noise) loaded from TOML data files.

Adding a site means adding ``rules/<site>.toml``; no Python changes.
"""

from __future__ import annotations

import fnmatch
import re
import tomllib
from datetime import date
from functools import cache
from importlib import resources
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from selectolax.lexbor import LexborHTMLParser as HTMLParser

from cleaner.errors import RulesError


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


def check_patterns(patterns: list[str]) -> list[str]:
    """``patterns`` unchanged, or a ValueError naming the first one that is no regex."""
    for pattern in patterns:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ValueError(f"invalid regex {pattern!r}: {exc}") from exc
    return patterns


class Match(_Strict):
    """When a rule applies: the page's host matches, or one of the `detect` selectors matches."""

    hosts: list[str] = Field(default_factory=list, description="host globs, e.g. '*.qoshe.com'")
    detect: list[str] = Field(default_factory=list, description="CSS selectors that mark the site")
    text_markers: list[str] = Field(
        default_factory=list, description="regexes: a line of a text dump that marks the site"
    )


class Selectors(_Strict):
    """CSS selectors, tried in order; the first that yields text wins."""

    title: list[str] = Field(default_factory=list)
    date: list[str] = Field(default_factory=list)
    body: list[str] = Field(default_factory=list)
    authors: list[str] = Field(default_factory=list)
    source: list[str] = Field(default_factory=list)
    source_url: list[str] = Field(default_factory=list, description="elements with an href")
    noise: list[str] = Field(default_factory=list, description="elements removed before anything")


class Text(_Strict):
    """Plain-text knowledge: noise lines and how a teaser's cut is marked."""

    noise_lines: list[str] = Field(default_factory=list, description="whole lines that are UI")
    noise_patterns: list[str] = Field(default_factory=list, description="regexes for UI lines")
    truncation_suffixes: list[str] = Field(default_factory=lambda: ["...", "…"])
    cut_markers: list[str] = Field(
        default_factory=list,
        description=(
            "exact strings the site glues to a teaser's last word; removed exactly, so a"
            " sentence's own full stop before them stays (they replace truncation_suffixes)"
        ),
    )

    _valid = field_validator("noise_patterns")(check_patterns)


PageKind = Literal["article", "amp_article", "columnist_listing", "newspaper_listing"]
LISTING_KINDS: frozenset[str] = frozenset({"columnist_listing", "newspaper_listing"})


class PagePattern(_Strict):
    """One kind of page, told by its URL path (before anything is extracted)."""

    kind: PageKind
    path: str = Field(description="regex on the URL path; named groups: newspaper, columnist, id")

    _valid = field_validator("path")(lambda value: check_patterns([value])[0])


class Urls(_Strict):
    """What the site's addresses say: page kinds, mirrors, and the stable record key."""

    pages: list[PagePattern] = Field(default_factory=list, description="tried in order")
    canonical_host: str | None = Field(default=None, description="the host records are under")
    mirror_hosts: list[str] = Field(
        default_factory=list, description="hosts serving the same pages (read as canonical_host)"
    )
    key: str | None = Field(
        default=None,
        description=(
            "the record key of an article, formatted from its path groups ('qoshe:{id}'):"
            " the same column under an edited slug or a mirror keeps its id"
        ),
    )
    amp_suffix: str = Field(default="/amp", description="dropped from an AMP page's address")


class Credits(_Strict):
    """How an aggregator credits the original publisher near the end of a teaser."""

    leads: list[str] = Field(
        default_factory=lambda: ["©", r"\(c\)", "Source:"],
        description="regexes of what comes before the publisher's name",
    )
    max_name_words: int = Field(default=8, description="a longer 'name' is a sentence")
    max_trailing_words: int = Field(
        default=12,
        description="a later line this long is prose: the credit was not near the end",
    )
    teasers: bool = Field(
        default=False, description="every article page is a teaser of the original"
    )
    newspapers: dict[str, str] = Field(
        default_factory=dict, description="URL newspaper slug -> the publisher's display name"
    )
    slug_suffixes: list[str] = Field(
        default_factory=list,
        description="regexes of region/language suffixes cut from an unknown slug before use",
    )

    _valid = field_validator("leads", "slug_suffixes")(check_patterns)


class RelativeDates(_Strict):
    """Words a site prints instead of a date for recent items, read against the fetch time."""

    days_ago: dict[str, int] = Field(default_factory=dict, description="'yesterday' = 1")
    weekdays: list[str] = Field(
        default_factory=list,
        description="weekday names, Monday first: the latest such day 1-7 days before",
    )
    utc_offsets: tuple[float, float] = Field(
        default=(-12.0, 14.0),
        description=(
            "the zones (hours from UTC) the site may count its days in; a fetch time whose"
            " day differs across them resolves to nothing"
        ),
    )


class SiteRules(_Strict):
    """Everything the cleaner knows about one site, validated so typos fail loudly."""

    name: str
    kind: Literal["aggregator", "publisher"] = "publisher"
    display_name: str = Field(description="the name used as `aggregator` or `source`")
    layout_version: int = 1
    valid_until: date | None = Field(default=None, description="review the rule after this date")
    match: Match = Field(default_factory=Match)
    selectors: Selectors = Field(default_factory=Selectors)
    date_formats: list[str] = Field(default_factory=list, description="strptime formats")
    relative_dates: RelativeDates = Field(default_factory=RelativeDates)
    text: Text = Field(default_factory=Text)
    credits: Credits = Field(default_factory=Credits)
    urls: Urls = Field(default_factory=Urls)

    def applies_to(self, host: str, tree: HTMLParser | None) -> bool:
        """True when this rule should be used for a page from ``host``."""
        host = host.lower()
        if host in self.urls.mirror_hosts:
            return True
        if any(fnmatch.fnmatch(host, pattern) for pattern in self.match.hosts):
            return True
        return tree is not None and any(
            tree.css_first(sel) is not None for sel in self.match.detect
        )


def parse_rules(text: str, origin: str = "<string>") -> SiteRules:
    """Parse one rule file's TOML text."""
    try:
        return SiteRules.model_validate(tomllib.loads(text))
    except (tomllib.TOMLDecodeError, ValidationError) as exc:
        raise RulesError(f"invalid site rules in {origin}: {exc}") from exc


@cache
def builtin_rules() -> tuple[SiteRules, ...]:
    """The rule files shipped in ``cleaner/rules/``, sorted by name."""
    folder = resources.files("cleaner") / "rules"
    return tuple(
        parse_rules(entry.read_text(encoding="utf-8"), entry.name)
        for entry in sorted(folder.iterdir(), key=lambda item: item.name)
        if entry.name.endswith(".toml")
    )


def find_rules(
    host: str, tree: HTMLParser | None, rules: tuple[SiteRules, ...] | None = None
) -> SiteRules | None:
    """The first rule that applies to the page, or None."""
    for rule in builtin_rules() if rules is None else rules:
        if rule.applies_to(host, tree):
            return rule
    return None
