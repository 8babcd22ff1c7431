"""Every default of the scraper in one place, each with its reason.

Loaded from the ``[settings]`` table of a TOML file and overridden by CLI flags;
passed down as typed objects, never as a global dict.
"""

from __future__ import annotations

import ipaddress
import tomllib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from scraper import __version__
from scraper.errors import ConfigError


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Timeouts(_Strict):
    connect: float = Field(10.0, gt=0, description="s; a host that cannot accept in 10 s is down")
    read: float = Field(30.0, gt=0, description="s between two reads of the body")
    total: float = Field(60.0, gt=0, description="s for the whole page; stops slow drips")


class Limits(_Strict):
    max_bytes: int = Field(
        10 * 1024 * 1024, gt=0, description="decompressed body cap; articles are < 2 MB"
    )
    max_redirects: int = Field(10, ge=0, description="browsers stop near 20; news sites use < 5")


class Politeness(_Strict):
    per_host_concurrency: int = Field(2, ge=1, description="requests in flight per host")
    delay: float = Field(1.0, ge=0, description="s between two requests to one host")
    obey_robots: bool = Field(True, description="fetch robots.txt once per host and obey it")
    max_crawl_delay: float = Field(
        60.0, ge=0, description="s; a larger Crawl-delay is capped, not honoured blindly"
    )


class RetryPolicy(_Strict):
    attempts: int = Field(4, ge=1, description="tries per URL, the first included")
    backoff_base: float = Field(1.0, ge=0, description="s; doubled each retry, jittered")
    backoff_max: float = Field(60.0, ge=0, description="s; cap on one backoff wait")
    retry_after_max: float = Field(
        300.0, ge=0, description="s; a longer Retry-After gives up instead of stalling the run"
    )


class Settings(_Strict):
    user_agent: str = Field(
        f"opinion-scraper/{__version__} (+https://github.com/opinion-scraper/opinion-scraper)",
        description="names the tool and where to read about it, as polite crawlers do",
    )
    timeouts: Timeouts = Field(default_factory=Timeouts)
    limits: Limits = Field(default_factory=Limits)
    politeness: Politeness = Field(default_factory=Politeness)
    retry: RetryPolicy = Field(default_factory=RetryPolicy)
    data_dir: Path = Field(Path("data"), description="raw/, clean/, rejects/, state.sqlite")
    allow_private_addresses: bool = Field(
        False, description="allow redirects/links into private networks (local use and tests)"
    )
    treat_as_public: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = Field(
        (), description="networks counted as public; lets tests play public hosts on loopback"
    )

    def with_overrides(self, **changes: Any) -> Settings:
        """A copy with top-level fields replaced (None values are ignored)."""
        return self.model_validate(
            {**self.model_dump(), **{k: v for k, v in changes.items() if v is not None}}
        )


def load_settings(path: Path | None) -> Settings:
    """Settings from the ``[settings]`` table of a TOML file, or the defaults."""
    if path is None:
        return Settings()
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
        return Settings.model_validate(document.get("settings", {}))
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from exc
    except (tomllib.TOMLDecodeError, ValidationError) as exc:
        raise ConfigError(f"invalid settings in {path}: {exc}") from exc
