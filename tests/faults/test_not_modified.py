"""A 304 to a request that asked nothing conditional is an error with a reason, not
"unchanged": there is no earlier response it could leave unchanged."""

from __future__ import annotations

import json
from pathlib import Path

from pytest_httpserver import HTTPServer

from tests.conftest import run_scraper


def _site(httpserver: HTTPServer, workdir: Path) -> None:
    httpserver.expect_request("/robots.txt").respond_with_data("", status=404)
    link = httpserver.url_for("/column")
    httpserver.expect_request("/feed.xml").respond_with_data(
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>F</title>'
        f"<item><link>{link}</link></item></channel></rss>",
        content_type="application/rss+xml",
    )
    httpserver.expect_request("/column").respond_with_data("", status=304)
    (workdir / "sources.toml").write_text(
        "[settings]\nallow_private_addresses = true\n[settings.politeness]\ndelay = 0\n"
        f'[[sources]]\nname = "stale"\nkind = "feed"\n'
        f'urls = ["{httpserver.url_for("/feed.xml")}"]\n',
        encoding="utf-8",
    )


def test_an_unasked_304_is_a_reject_on_every_run(httpserver: HTTPServer, workdir: Path) -> None:
    _site(httpserver, workdir)
    for _ in range(2):
        result = run_scraper("run", "--log-json", cwd=workdir)
        # A server that answers a plain GET with 304 never gives the page: worth a look.
        assert result.returncode == 11, result.stderr
        summary = json.loads(result.stdout)
        assert (summary["unchanged"], summary["rejected"]) == (0, 1), summary
        assert summary["needs_attention"] == 1, summary
        events = [json.loads(line) for line in result.stderr.splitlines() if line.startswith("{")]
        rejected = [e for e in events if e.get("event") == "rejected"]
        assert rejected and "not conditional" in rejected[0]["detail"], events
    (reject,) = (workdir / "data/rejects").rglob("*.json")
    saved = json.loads(reject.read_text())
    assert (saved["reason"], saved["status"]) == ("http_error", 304)


def test_fetch_of_a_page_answering_304_exits_with_the_http_error_code(
    httpserver: HTTPServer, workdir: Path
) -> None:
    httpserver.expect_request("/column").respond_with_data("", status=304)
    result = run_scraper("fetch", httpserver.url_for("/column"), cwd=workdir)
    assert result.returncode == 5, (result.stdout, result.stderr)
    assert "not conditional" in result.stderr
