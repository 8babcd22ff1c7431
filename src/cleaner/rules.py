"""Site rules: per-site knowledge (selectors, date formats, noise) loaded from TOML data files.

Adding a site means adding ``rules/<site>.toml``; no Python changes.
"""

from __future__ import annotations

import fnmatch
import tomllib
from datetime import date
from functools import cache
from importlib import resources
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from selectolax.lexbor import LexborHTMLParser as HTMLParser

from cleaner.errors import RulesError


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


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
    """Plain-text knowledge: noise lines, credit prefixes, truncation marks."""

    noise_lines: list[str] = Field(default_factory=list, description="whole lines that are UI")
    noise_patterns: list[str] = Field(default_factory=list, description="regexes for UI lines")
    credit_prefixes: list[str] = Field(default_factory=lambda: ["©", "(c)", "Source:"])
    truncation_suffixes: list[str] = Field(default_factory=lambda: ["...", "…"])


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
    text: Text = Field(default_factory=Text)

    def applies_to(self, host: str, tree: HTMLParser | None) -> bool:
        """True when this rule should be used for a page from ``host``."""
        host = host.lower()
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
