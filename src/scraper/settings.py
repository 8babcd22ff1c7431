"""Every default of the scraper in one place, each with its reason.

Loaded from the ``[settings]`` table of a TOML file and overridden by CLI flags;
passed down as typed objects, never as a global dict.
"""

from __future__ import annotations

import ipaddress
import tomllib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from yarl import URL

from scraper import __version__
from scraper.errors import ConfigError

# Every number has an upper bound: a value past it is a typo or an attack on the config,
# and unbounded ones crashed deep inside (a gzip window from max_bytes = 2**63 - 1, a
# backoff of 2.0 ** 1100 from retry.attempts > 1024, a timer that cannot be scheduled).
_DAY = 86_400.0


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)


class Timeouts(_Strict):
    connect: float = Field(
        10.0, gt=0, le=3600, description="s; a host that cannot accept in 10 s is down"
    )
    read: float = Field(30.0, gt=0, le=3600, description="s between two reads of the body")
    total: float = Field(
        60.0,
        gt=0,
        le=_DAY,
        description="s for the whole page, its redirects, retries and waits between them",
    )


class Limits(_Strict):
    max_bytes: int = Field(
        10 * 1024 * 1024,
        gt=0,
        le=1024**3,
        description="decompressed body cap; articles are < 2 MB (at most 1 GiB: bodies are held)",
    )
    max_redirects: int = Field(
        10, ge=0, le=100, description="browsers stop near 20; news sites use < 5"
    )
    clean_seconds: float = Field(
        10.0,
        gt=0,
        le=3600,
        description="s to clean a page; then its worker is killed, the page rejected",
    )


class Politeness(_Strict):
    per_host_concurrency: int = Field(2, ge=1, le=256, description="requests in flight per host")
    delay: float = Field(1.0, ge=0, le=_DAY, description="s between two requests to one host")
    obey_robots: bool = Field(True, description="fetch robots.txt once per host and obey it")
    max_crawl_delay: float = Field(
        60.0, ge=0, le=_DAY, description="s; a larger Crawl-delay is capped, not honoured blindly"
    )


class RetryPolicy(_Strict):
    attempts: int = Field(4, ge=1, le=100, description="tries per URL, the first included")
    backoff_base: float = Field(1.0, ge=0, le=3600, description="s; doubled each retry, jittered")
    backoff_max: float = Field(60.0, ge=0, le=_DAY, description="s; cap on one backoff wait")
    retry_after_max: float = Field(
        300.0,
        ge=0,
        le=_DAY,
        description="s; a longer Retry-After gives up instead of stalling the run",
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
    proxy: str | None = Field(
        None,
        description="http(s)://[user:pass@]host:port to send every request through; "
        "the address checks then apply to the target, not to the proxy",
    )
    trust_env: bool = Field(
        False,
        description="use HTTP_PROXY / HTTPS_PROXY / NO_PROXY from the environment "
        "(off: a crawler should not pick up a proxy it was not told about)",
    )

    @field_validator("user_agent")
    @classmethod
    def _header_safe(cls, value: str) -> str:
        # Sent as an HTTP header: printable ASCII only, so it can neither fail to encode
        # nor smuggle a second header in with CR/LF.
        bad = next((c for c in value if not (" " <= c <= "~")), None)
        if bad is not None:
            raise ValueError(
                f"user_agent must be printable ASCII; it contains {bad!r} (U+{ord(bad):04X})"
            )
        if not value.strip():
            raise ValueError("user_agent must not be empty")
        return value

    @field_validator("proxy")
    @classmethod
    def _proxy_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            url = URL(value)
        except ValueError as exc:
            raise ValueError(f"proxy {value!r} is not a URL ({exc})") from None
        if url.scheme not in ("http", "https") or not url.raw_host:
            raise ValueError(f"proxy {value!r} must be http://host:port or https://host:port")
        return value

    def with_overrides(self, **changes: Any) -> Settings:
        """A copy with top-level fields replaced (None values are ignored).

        Raises:
            ConfigError: a replaced value is invalid (e.g. a CLI flag's).
        """
        try:
            return self.model_validate(
                {**self.model_dump(), **{k: v for k, v in changes.items() if v is not None}}
            )
        except ValidationError as exc:
            raise ConfigError(f"invalid settings: {describe_errors(exc)}") from None


def describe_errors(exc: ValidationError) -> str:
    """A pydantic error in one line: ``field.path: message; ...``."""
    return "; ".join(
        f"{'.'.join(str(part) for part in error['loc']) or 'settings'}: {error['msg']}"
        for error in exc.errors()
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
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"invalid settings in {path}: {exc}") from exc
    except ValidationError as exc:
        raise ConfigError(f"invalid settings in {path}: {describe_errors(exc)}") from None
