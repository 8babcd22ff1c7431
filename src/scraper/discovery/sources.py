"""The sources config (``sources.toml``): what a scheduled run discovers, and how politely.

A ``[settings]`` table overrides `scraper.settings.Settings`; each ``[[sources]]`` entry
names one aggregator listing, feed or sitemap set. Every key is validated and unknown
keys are refused, so a typo fails the run with the file and the key named.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from cleaner.urls import is_http_url
from scraper.discovery.errors import DiscoveryError
from scraper.errors import ConfigError
from scraper.settings import Politeness, Settings, describe_invalid, read_config_text

SourceKind = Literal["aggregator", "feed", "sitemap"]
_NAME = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class PolitenessOverride(_Strict):
    """Per-source changes to `Settings.politeness`; keys left out keep the global value."""

    # The bounds of `Settings.politeness`, checked at load: merged mid-run, a value past
    # them would fail there instead (a ValidationError out of the run).
    per_host_concurrency: int | None = Field(None, ge=1, le=256)
    delay: float | None = Field(None, ge=0, le=86_400)
    obey_robots: bool | None = None
    max_crawl_delay: float | None = Field(None, ge=0, le=86_400)


class Source(_Strict):
    """One configured place to discover articles from."""

    name: str = Field(pattern=_NAME, description="unique; used in logs, state and --source")
    kind: SourceKind
    urls: list[str] = Field(min_length=1, description="listing, feed or sitemap URLs")
    listing: str | None = Field(
        None, description="listing rules (aggregator kind): a shipped name or a .toml path"
    )
    enabled: bool = True
    max_pages: int = Field(200, ge=1, description="articles fetched per run, newest first")
    max_age_days: int | None = Field(
        None,
        ge=1,
        le=36_500,  # a century: far past it, the cutoff date falls out of datetime's range
        description="skip articles older than this when their date is known",
    )
    max_listing_pages: int = Field(5, ge=1, description="listing pages followed per URL")
    max_sitemaps: int = Field(50, ge=1, description="sitemap files fetched per run, indexes too")
    include: list[str] = Field(
        default_factory=list, description="regexes; when given, an article URL must match one"
    )
    exclude: list[str] = Field(default_factory=list, description="regexes; a match drops a URL")
    politeness: PolitenessOverride | None = None

    @field_validator("urls")
    @classmethod
    def _absolute_http(cls, urls: list[str]) -> list[str]:
        for url in urls:
            if not is_http_url(url):
                raise ValueError(f"not an absolute http(s) URL: {url!r}")
        return urls

    @field_validator("include", "exclude")
    @classmethod
    def _regexes(cls, patterns: list[str]) -> list[str]:
        # The site rules' module: imported by a config that has patterns to check, not
        # by every run (fetch-many reads a config with no sources).
        from cleaner.rules import check_patterns

        return check_patterns(patterns)

    @model_validator(mode="after")
    def _listing_matches_kind(self) -> Source:
        if self.kind == "aggregator" and not self.listing:
            raise ValueError("an aggregator source needs `listing` (the listing rules name)")
        if self.kind != "aggregator" and self.listing:
            raise ValueError(f"`listing` is only for aggregator sources, not {self.kind!r}")
        return self

    def wants(self, url: str) -> bool:
        """True when ``url`` passes this source's include/exclude patterns."""
        if self.include and not any(re.search(pattern, url) for pattern in self.include):
            return False
        return not any(re.search(pattern, url) for pattern in self.exclude)

    def effective_politeness(self, base: Politeness) -> Politeness:
        """``base`` with this source's overrides applied."""
        if self.politeness is None:
            return base
        changes = self.politeness.model_dump(exclude_none=True)
        return base.model_validate({**base.model_dump(), **changes})


class SourcesConfig(_Strict):
    """A whole sources file: settings and sources."""

    settings: Settings = Field(default_factory=Settings)
    sources: list[Source] = Field(default_factory=list)

    @field_validator("sources")
    @classmethod
    def _unique_names(cls, sources: list[Source]) -> list[Source]:
        seen: set[str] = set()
        for source in sources:
            if source.name in seen:
                raise ValueError(f"duplicate source name {source.name!r}")
            seen.add(source.name)
        return sources

    def enabled(self) -> list[Source]:
        """The sources a run should visit."""
        return [source for source in self.sources if source.enabled]

    def select(self, names: list[str] | tuple[str, ...]) -> list[Source]:
        """The named sources (enabled or not, as asked), or all enabled ones when none named.

        Raises:
            ConfigError: a name is not in the config.
        """
        if not names:
            return self.enabled()
        by_name = {source.name: source for source in self.sources}
        unknown = [name for name in names if name not in by_name]
        if unknown:
            known = ", ".join(sorted(by_name)) or "none"
            raise ConfigError(f"unknown source {', '.join(unknown)} (configured: {known})")
        return [by_name[name] for name in dict.fromkeys(names)]


def _resolve_listing_paths(document: Any, folder: Path) -> None:
    """Make a listing rules path relative to the config file's folder absolute."""
    if not isinstance(document, dict) or not isinstance(document.get("sources"), list):
        return
    for entry in document["sources"]:
        if isinstance(entry, dict) and isinstance(entry.get("listing"), str):
            listing = entry["listing"]
            if listing.endswith(".toml") and not Path(listing).is_absolute():
                entry["listing"] = str(folder / listing)


def parse_sources(text: str, origin: str = "<string>", folder: Path | None = None) -> SourcesConfig:
    """The sources config in TOML ``text``; ``origin`` names it in error messages.

    Raises:
        ConfigError: bad TOML, an unknown or invalid key, duplicate names, unknown listing rules.
    """
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{origin}: not valid TOML: {exc}") from exc
    if folder is not None:
        _resolve_listing_paths(document, folder)
    try:
        config = SourcesConfig.model_validate(document)
    except ValidationError as exc:
        raise ConfigError(describe_invalid(exc, document, origin)) from exc
    for index, source in enumerate(config.sources):
        if source.listing is None:
            continue
        from scraper.discovery.listing import load_listing_rules  # its parser: lxml, charsets

        try:
            load_listing_rules(source.listing)
        except DiscoveryError as exc:
            where = f"sources[{index}] (name {source.name!r}).listing"
            raise ConfigError(f"{origin}: {where}: {exc}") from exc
    return config


def load_sources(path: Path | str) -> SourcesConfig:
    """The sources config in the TOML file at ``path``.

    Raises:
        ConfigError: the file cannot be read, or any problem `parse_sources` reports.
    """
    path = Path(path)
    try:
        text = read_config_text(path)
    except OSError as exc:
        raise ConfigError(f"cannot read sources file {path}: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text: {exc}") from exc
    return parse_sources(text, str(path), folder=path.parent)
