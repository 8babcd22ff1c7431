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
        except (ValueError, IndexError) as exc:  # yarl: IndexError on some broken authorities
            raise ValueError(f"proxy {value!r} is not a URL ({exc})") from None
        if url.scheme not in ("http", "https") or not url.raw_host:
            raise ValueError(f"proxy {value!r} must be http://host:port or https://host:port")
        return value

    def with_overrides(self, **changes: Any) -> Settings:
        """A copy with top-level fields replaced (None values are ignored).

        Raises:
            ConfigError: a replaced value is invalid (e.g. a CLI flag's).
        """
        document = {**self.model_dump(), **{k: v for k, v in changes.items() if v is not None}}
        try:
            return self.model_validate(document)
        except ValidationError as exc:
            raise ConfigError(describe_invalid(exc, document, "invalid settings")) from None


def setting_keys(model: type[BaseModel] = Settings, prefix: str = "") -> list[str]:
    """Every setting as a dotted key (``politeness.delay``), in model order."""
    keys: list[str] = []
    for name, info in model.model_fields.items():
        kind = info.annotation
        if isinstance(kind, type) and issubclass(kind, BaseModel):
            keys += setting_keys(kind, f"{prefix}{name}.")
        else:
            keys.append(f"{prefix}{name}")
    return keys


def home_of(name: str) -> str | None:
    """Where a setting called ``name`` goes in a sources file (``[settings.politeness]``)."""
    for key in setting_keys():
        table, _, leaf = key.rpartition(".")
        if leaf == name:
            return f"[settings.{table}]" if table else "[settings]"
    return None


def where(loc: tuple[int | str, ...], document: Any) -> str:
    """``sources[2] (name 'x').max_pages`` for an error location in ``document``."""
    parts: list[str] = []
    node = document
    for part in loc:
        if isinstance(part, int):
            parts[-1:] = [f"{parts[-1] if parts else ''}[{part}]"]
            node = node[part] if isinstance(node, list) and part < len(node) else None
            if isinstance(node, dict) and isinstance(node.get("name"), str):
                parts[-1] += f" (name {node['name']!r})"
        else:
            parts.append(part)
            node = node.get(part) if isinstance(node, dict) else None
    return ".".join(parts) or "(top level)"


def _message(error: Any) -> str:
    if error["type"] != "extra_forbidden":
        return str(error["msg"]).removeprefix("Value error, ")
    name = str(error["loc"][-1]) if error["loc"] else ""
    home = home_of(name)
    if home == "[settings.politeness]" and error["loc"][0] == "sources":
        home = "[sources.politeness] (this source's) or [settings.politeness]"
    return "unknown key (a typo?)" + (f"; `{name}` is a setting of {home}" if home else "")


def describe_invalid(exc: ValidationError, document: Any, origin: str, prefix: str = "") -> str:
    """One line naming every problem of ``exc`` with its place: no pydantic dump."""
    problems = "; ".join(
        f"{prefix}{where(error['loc'], document)}: {_message(error)}" for error in exc.errors()
    )
    return f"{origin}: {problems}"


def parse_override(pair: str) -> tuple[str, Any]:
    """``politeness.delay=0.5`` as (key, value); the value is read as TOML, else as text.

    Raises:
        ConfigError: no ``=``, or no key before it.
    """
    key, sep, text = pair.partition("=")
    key = key.strip()
    if not sep or not key:
        raise ConfigError(f"-s {pair!r}: expected KEY=VALUE, such as -s politeness.delay=0.5")
    try:
        value: Any = tomllib.loads(f"v = {text.strip()}")["v"]
    except tomllib.TOMLDecodeError:
        value = text.strip()
    return key, value


def apply_overrides(settings: Settings, changes: dict[str, Any], origin: str = "-s") -> Settings:
    """``settings`` with dotted-key ``changes`` (``{"politeness.delay": 0.5}``) applied.

    Raises:
        ConfigError: an unknown key, or a value the setting refuses; the message names both.
    """
    if not changes:
        return settings
    document = settings.model_dump()
    known = setting_keys()
    for key, value in changes.items():
        if key not in known:
            leaf = key.rpartition(".")[2]
            near = [k for k in known if k.rpartition(".")[2] == leaf]
            hint = f"; did you mean {near[0]}?" if near else "; see `scraper init` for them all"
            raise ConfigError(f"{origin} {key}: unknown setting{hint}")
        node = document
        *tables, leaf = key.split(".")
        for table in tables:
            node = node[table]
        node[leaf] = value
    try:
        return Settings.model_validate(document)
    except ValidationError as exc:
        raise ConfigError(describe_invalid(exc, document, origin)) from exc


_TOP_LEVEL = ("settings", "sources")
# Far above any real config (100,000 source URLs take ~8 MB); -c /dev/zero, or a config
# path that is a disk image, would otherwise be read whole, gigabytes of it.
MAX_CONFIG_BYTES = 16 * 1024 * 1024


def read_config_text(path: Path) -> str:
    """The text of a TOML config file.

    Raises:
        OSError: the file cannot be read.
        UnicodeDecodeError: it is not UTF-8.
        ConfigError: it is over MAX_CONFIG_BYTES.
    """
    with path.open("rb") as handle:
        raw = handle.read(MAX_CONFIG_BYTES + 1)
    if len(raw) > MAX_CONFIG_BYTES:
        raise ConfigError(f"{path}: over {MAX_CONFIG_BYTES:,} bytes, too large for a config")
    return raw.decode("utf-8")


def load_settings(path: Path | None) -> Settings:
    """Settings from the ``[settings]`` table of a TOML file, or the defaults."""
    if path is None:
        return Settings()
    try:
        document = tomllib.loads(read_config_text(path))
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text: {exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
    for key in document:
        if key not in _TOP_LEVEL:
            home = home_of(key)
            hint = f"; `{key}` is a setting of {home}" if home else ""
            raise ConfigError(f"{path}: {key}: unknown key (a typo?){hint}")
    table = document.get("settings", {})
    try:
        return Settings.model_validate(table)
    except ValidationError as exc:
        raise ConfigError(describe_invalid(exc, table, str(path), prefix="settings.")) from exc
