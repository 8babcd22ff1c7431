"""`scraper fetch-many FILE` end to end against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from scraper.store.state import StateDB
from scraper.store.warc import iter_pages
from tests.conftest import fixture_bytes, run_scraper

ROBOTS = "User-agent: *\nDisallow: /members/\n"


def _conditional(page: bytes, etag: str) -> object:
    def handler(request: Request) -> Response:
        if request.headers.get("If-None-Match") == etag:
            return Response(status=304, headers={"ETag": etag})
        return Response(page, content_type="text/html; charset=utf-8", headers={"ETag": etag})

    return handler


def test_fetch_many_saves_rejects_and_sends_validators_back(
    httpserver: HTTPServer, workdir: Path
) -> None:
    httpserver.expect_request("/robots.txt").respond_with_data(ROBOTS, content_type="text/plain")
    httpserver.expect_request("/opinion/repair-shops").respond_with_handler(
        _conditional(fixture_bytes("publisher/article.html"), '"r1"')  # type: ignore[arg-type]
    )
    httpserver.expect_request("/gazette/night-buses").respond_with_data(
        fixture_bytes("qoshe/chrome.html"), content_type="text/html"
    )
    httpserver.expect_request("/gone").respond_with_data("gone", status=404)
    httpserver.expect_request("/members/diary").respond_with_data("secret")
    urls = [
        httpserver.url_for(p)
        for p in ("/opinion/repair-shops", "/gazette/night-buses", "/gone", "/members/diary")
    ]
    (workdir / "urls.txt").write_text(
        "# columns to fetch\n\n" + "\n".join(urls) + "\n   \n", encoding="utf-8"
    )
    (workdir / "fast.toml").write_text("[settings.politeness]\ndelay = 0\n", encoding="utf-8")

    first = run_scraper("fetch-many", "urls.txt", "-c", "fast.toml", cwd=workdir)

    # A 404 and a page robots.txt forbids stay so: reported, but not a failing exit.
    assert first.returncode == 0, first.stderr
    assert "4 URLs: 2 saved, 0 unchanged, 2 failed" in first.stdout
    assert "http_error 1" in first.stdout and "robots_disallowed 1" in first.stdout
    data = workdir / "data"
    records = sorted(data.glob("clean/*/*.json"))
    assert [p.parent.name for p in records] == ["the-islands-gazette", "the-lakeside-courier"]
    rejects = [json.loads(p.read_text(encoding="utf-8")) for p in data.glob("rejects/*/*.json")]
    assert sorted((r["reason"], r["status"]) for r in rejects) == [
        ("http_error", 404),
        ("robots_disallowed", None),
    ]
    assert not any(log[0].path == "/members/diary" for log in httpserver.log)

    second = run_scraper("fetch-many", "urls.txt", "-c", "fast.toml", cwd=workdir)

    assert second.returncode == 0, second.stderr
    assert "4 URLs: 0 saved, 2 unchanged, 2 failed" in second.stdout
    revalidated = [r for r, _ in httpserver.log if r.path == "/opinion/repair-shops"]
    assert revalidated[-1].headers.get("If-None-Match") == '"r1"'
    statuses = sorted(p.status for p in iter_pages(data / "raw"))
    assert statuses.count(304) == 1 and statuses.count(404) == 2
    with StateDB(data / "state.sqlite") as state:
        row = state.url_row(urls[0])
        assert row is not None and row["fetch_count"] == 2 and row["last_status"] == 304
        courier = next(p for p in records if p.parent.name == "the-lakeside-courier")
        assert row["record_path"] and Path(row["record_path"]).name == courier.name


def test_fetch_many_all_good_exits_zero(httpserver: HTTPServer, workdir: Path) -> None:
    httpserver.expect_request("/robots.txt").respond_with_data("", status=404)
    httpserver.expect_request("/c").respond_with_data(
        fixture_bytes("qoshe/chrome.html"), content_type="text/html"
    )
    (workdir / "urls.txt").write_text(httpserver.url_for("/c") + "\n", encoding="utf-8")

    result = run_scraper("fetch-many", "urls.txt", cwd=workdir)

    assert result.returncode == 0, result.stderr
    assert "1 URLs: 1 saved, 0 unchanged, 0 failed" in result.stdout


def test_fetch_many_unreadable_file_is_a_usage_error(workdir: Path) -> None:
    result = run_scraper("fetch-many", "missing.txt", cwd=workdir)

    assert result.returncode == 2 and "cannot read missing.txt" in result.stderr


@pytest.mark.parametrize(
    ("status", "code"),
    [(404, 0), (410, 0), (403, 11), (503, 11), (400, 11)],
)
def test_exit_code_tells_settled_failures_from_those_worth_a_look(
    httpserver: HTTPServer, workdir: Path, status: int, code: int
) -> None:
    """Cron mails on a non-zero exit: a page that is gone is no reason to; a block, a
    server error that outlived the retries or a refused request is."""
    httpserver.expect_request("/robots.txt").respond_with_data("", status=404)
    httpserver.expect_request("/c").respond_with_data(
        fixture_bytes("qoshe/chrome.html"), content_type="text/html"
    )
    httpserver.expect_request("/bad").respond_with_data("no", status=status)
    urls = [httpserver.url_for("/c"), httpserver.url_for("/bad")]
    (workdir / "urls.txt").write_text("\n".join(urls) + "\n", encoding="utf-8")

    # Retries and requests at once: the backoff, and the per-host delay (1 s a request).
    quick = ["-s", "retry.backoff_base=0.01", "-s", "politeness.delay=0"]
    result = run_scraper("fetch-many", "urls.txt", "--log-json", *quick, cwd=workdir)

    assert result.returncode == code, result.stderr
    summary = json.loads(result.stdout)
    assert summary["new"] == 1 and summary["needs_attention"] == (code == 11)
    assert json.loads(result.stderr.splitlines()[-1])["event"] == "summary"
