"""What sites write never reaches a terminal raw: URLs and messages with escape sequences,
NULs, bidi overrides or line breaks are escaped in the plain log, the summary, the
dry-run listing and error lines, so reading a cron mail cannot rewrite the terminal or
show forged log lines."""

from __future__ import annotations

from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from cleaner import canonicalize_url
from scraper.jobs.progress import printable
from tests.conftest import run_scraper

HOSTILE = ["\x1b[2J\x1b[31m", "\x00", "\u202e", "\r\n2026-01-01T00:00:00 info forged", "\x07"]
RAW = ["\x1b", "\x00", "\u202e", "\r", "\x07"]


def _hostile_site(httpserver: HTTPServer, workdir: Path) -> None:
    base = httpserver.url_for("/")
    # A text sitemap takes any bytes per line; an index names child sitemaps that fail.
    lines = "".join(f"{base}col{i}{text}\n" for i, text in enumerate(HOSTILE))
    httpserver.expect_request("/robots.txt").respond_with_data("", status=404)
    httpserver.expect_request("/urls.txt").respond_with_data(lines, content_type="text/plain")
    children = "".join(
        f"<sitemap><loc>{base}child{i}{text.replace(chr(0), '')}.xml</loc></sitemap>"
        for i, text in enumerate(HOSTILE)
    )
    httpserver.expect_request("/index.xml").respond_with_data(
        f'<?xml version="1.0"?><sitemapindex>{children}</sitemapindex>',
        content_type="application/xml",
    )
    (workdir / "sources.toml").write_text(
        "[settings]\nallow_private_addresses = true\n[settings.politeness]\ndelay = 0\n"
        "[settings.retry]\nattempts = 1\n"
        f'[[sources]]\nname = "lines"\nkind = "sitemap"\nurls = ["{base}urls.txt"]\n'
        f'[[sources]]\nname = "index"\nkind = "sitemap"\nurls = ["{base}index.xml"]\n',
        encoding="utf-8",
    )


@pytest.mark.parametrize("args", [["run"], ["run", "--dry-run"]])
def test_plain_log_summary_and_listing_escape_what_sites_wrote(
    httpserver: HTTPServer, workdir: Path, args: list[str]
) -> None:
    _hostile_site(httpserver, workdir)

    result = run_scraper(*args, cwd=workdir)

    assert result.returncode in (0, 11), result.stderr
    output = result.stdout + result.stderr
    assert "col0" in output or "child0" in output  # the hostile URLs were reported
    for raw in RAW:
        assert raw not in output.replace("\n", ""), repr(raw)
    assert "forged" not in "".join(line[:30] for line in output.splitlines())


def test_an_error_line_escapes_the_url_it_names(workdir: Path) -> None:
    # One attempt: the line is the same after four, only later (the retries wait 1-8 s).
    url = "http://127.0.0.1:9/\x1b[2J\u202eevil"
    result = run_scraper("fetch", url, "-s", "retry.attempts=1", cwd=workdir)
    assert result.returncode != 0 and "network_error" in result.stderr
    assert "\x1b" not in result.stderr and "\u202e" not in result.stderr


def test_canonical_urls_percent_encode_what_cannot_be_seen() -> None:
    url = canonicalize_url("http://h.test/a\x1b[2J b\u202e\x00")
    assert url == "http://h.test/a%1B[2J%20b%E2%80%AE%00"
    assert canonicalize_url("http://h.test/новости") == "http://h.test/новости"  # ids stay


def test_printable_escapes_and_keeps_letters() -> None:
    assert printable("Новая газета: café") == "Новая газета: café"
    assert printable("a\x1b[2Jb\x00\u202e\n") == "a\\x1b[2Jb\\x00\\u202e\\n"
