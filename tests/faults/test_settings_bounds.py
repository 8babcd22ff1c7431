"""Hostile or mistyped settings: a clear config error at load time (exit 2 on the CLI),
never a crash deep in a run nor a request retried as a network error."""

from __future__ import annotations

from pathlib import Path

import pytest

from scraper.discovery.sources import load_sources
from scraper.errors import ConfigError
from scraper.settings import Settings, load_settings
from tests.conftest import run_scraper
from tests.faults.rawserver import RawServer, html


def _load(tmp_path: Path, table: str) -> Settings:
    path = tmp_path / "settings.toml"
    path.write_text(table, encoding="utf-8")
    return load_settings(path)


@pytest.mark.parametrize(
    ("table", "field"),
    [
        ("[settings.limits]\nmax_bytes = 9223372036854775807\n", "limits.max_bytes"),
        ("[settings.limits]\nmax_redirects = 100000\n", "limits.max_redirects"),
        ("[settings.retry]\nattempts = 2000\n", "retry.attempts"),
        ("[settings.retry]\nbackoff_base = 1e300\n", "retry.backoff_base"),
        ("[settings.retry]\nbackoff_max = inf\n", "retry.backoff_max"),
        ("[settings.retry]\nretry_after_max = nan\n", "retry.retry_after_max"),
        ("[settings.timeouts]\ntotal = 1e308\n", "timeouts.total"),
        ("[settings.timeouts]\nread = inf\n", "timeouts.read"),
        (
            "[settings.politeness]\nper_host_concurrency = 1000000\n",
            "politeness.per_host_concurrency",
        ),
        ("[settings.politeness]\ndelay = 1e20\n", "politeness.delay"),
        ('[settings]\nuser_agent = "bot/1 \u00e9t\u00e9"\n', "user_agent"),
        ('[settings]\nuser_agent = "bot/1\\r\\nX-Injected: yes"\n', "user_agent"),
        ('[settings]\nuser_agent = "bot/1\\u0000"\n', "user_agent"),
        ('[settings]\nuser_agent = "  "\n', "user_agent"),
        ('[settings]\nproxy = "socks5://127.0.0.1:1080"\n', "proxy"),
        ('[settings]\nproxy = "http://[::1"\n', "proxy"),
    ],
)
def test_an_out_of_range_setting_is_a_config_error_naming_it(
    tmp_path: Path, table: str, field: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        _load(tmp_path, table)
    message = str(caught.value)
    assert field in message and "\n" not in message


def test_the_largest_allowed_values_still_load(tmp_path: Path) -> None:
    settings = _load(
        tmp_path,
        "[settings.limits]\nmax_bytes = 1073741824\n[settings.retry]\nattempts = 100\n",
    )
    assert settings.limits.max_bytes == 2**30 and settings.retry.attempts == 100


@pytest.mark.parametrize("agent", ["bot/1 \u00e9t\u00e9", "bot/1\r\nX-Injected: yes"])
def test_a_bad_user_agent_flag_is_a_usage_error_before_any_request(
    agent: str, workdir: Path
) -> None:
    import asyncio

    async def main() -> tuple[int, str, int]:
        async with RawServer({"/": html("<html><title>x</title><p>y</p></html>")}) as server:
            result = await asyncio.to_thread(
                run_scraper, "fetch", server.url("/"), "--user-agent", agent, cwd=workdir
            )
            return result.returncode, result.stderr, sum(server.hits.values())

    code, stderr, hits = asyncio.run(main())
    assert code == 2, stderr
    assert "user_agent" in stderr and "Traceback" not in stderr
    assert len(stderr.strip().splitlines()) == 1
    assert hits == 0


@pytest.mark.parametrize(
    "override", ["delay = 1e20", "per_host_concurrency = 100000", "max_crawl_delay = inf"]
)
def test_a_source_politeness_override_is_bounded_at_load(tmp_path: Path, override: str) -> None:
    path = tmp_path / "sources.toml"
    path.write_text(
        '[[sources]]\nname = "harbour"\nkind = "feed"\nurls = ["https://news.example/feed"]\n'
        f"[sources.politeness]\n{override}\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match="politeness"):
        load_sources(path)
