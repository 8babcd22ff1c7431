"""`scraper fetch URL` end to end against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import json
import socket
import time
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from scraper.store.warc import iter_pages
from tests.conftest import fixture_bytes, run_scraper

AGGREGATOR_NOISE = [
    "menu_open",
    "Columnists",
    "We use cookies",
    "More information",
    "Popular columnists",
    "Rowan Ellery",
    "Get it on Google Play",
    "All rights reserved",
    "........",
    "©",
]


def _serve(httpserver: HTTPServer, path: str, page: str, content_type: str = "text/html") -> str:
    httpserver.expect_request(path).respond_with_data(
        fixture_bytes(page), content_type=content_type
    )
    return httpserver.url_for(path)


def test_aggregator_column_prints_clean_record(httpserver: HTTPServer, workdir: Path) -> None:
    path = "/the-islands-gazette/jo-parker/ferry-timetables/188045678"
    url = _serve(httpserver, path, "qoshe/chrome.html")

    result = run_scraper("fetch", url + "?utm_source=newsletter", cwd=workdir)

    assert result.returncode == 0, result.stderr
    record = json.loads(result.stdout)
    assert record["url"] == url
    assert record["title"] == "Ferry Timetables Are a Promise, Not a Suggestion"
    assert record["date"] == "2025-09-03"
    assert record["date_raw"] == "03.09.2025"
    assert record["source"] == "The Islands Gazette"
    assert record["aggregator"] == "QOSHE"
    assert record["source_url"] == "https://islands-gazette.example/opinion/ferry-timetables"
    assert record["truncated"] is True
    assert record["body"].startswith("The morning ferry to the islands was cancelled")
    assert record["body"].endswith("when it is renewed in the spring.")
    assert record["body"].count("\n\n") == 2
    for noise in AGGREGATOR_NOISE:
        assert noise not in record["body"], noise
    assert not (workdir / "data").exists(), "fetch without --save must not write data/"


def test_listing_page_is_refused_with_exit_13(httpserver: HTTPServer, workdir: Path) -> None:
    listing = (
        '<html><head><meta property="og:site_name" content="QOSHE"></head><body>'
        '<div class="card"><a href="/the-islands-gazette/jo-parker/ferry-timetables/188045678">'
        "<h1>Ferry Timetables Are a Promise, Not a Suggestion</h1></a><i>03.09.2025</i>"
        "<p>The morning ferry to the islands was cancelled eleven times in August...</p>"
        "</div></body></html>"
    )
    httpserver.expect_request("/yazar/jo-parker/4410").respond_with_data(
        listing, content_type="text/html"
    )

    result = run_scraper("fetch", httpserver.url_for("/yazar/jo-parker/4410"), cwd=workdir)

    assert result.returncode == 13
    assert result.stdout == ""
    (line,) = result.stderr.strip().splitlines()
    assert "listing_page" in line and "columnist listing" in line


def test_publisher_article_uses_json_ld(httpserver: HTTPServer, workdir: Path) -> None:
    url = _serve(httpserver, "/opinion/repair-shops", "publisher/article.html")

    result = run_scraper("fetch", url, cwd=workdir)

    assert result.returncode == 0, result.stderr
    record = json.loads(result.stdout)
    assert record["title"] == "The quiet return of the repair shop"
    assert record["date"] == "2025-02-07T08:30:00+01:00"
    assert record["authors"] == ["Mara Ellison"]
    assert record["source"] == "The Lakeside Courier"
    assert record["aggregator"] is None
    assert record["truncated"] is False
    assert record["paywalled"] is False
    assert record["language"] == "en-GB"
    paragraphs = record["body"].split("\n\n")
    assert paragraphs[0].startswith("On the corner where a phone shop closed")
    assert "Why now" in paragraphs
    assert paragraphs[-1].endswith("a skill alive that we nearly lost.")
    for noise in [
        "cookies",
        "Accept all",
        "Home",
        "Subscribe",
        "newsletter",
        "Read more",
        "Privacy",
    ]:
        assert noise not in record["body"], noise


def test_save_writes_record_and_raw_warc(httpserver: HTTPServer, workdir: Path) -> None:
    url = _serve(httpserver, "/opinion/repair-shops", "publisher/article.html")

    first = run_scraper("fetch", url, "--save", cwd=workdir)
    second = run_scraper("fetch", url, "--save", cwd=workdir)

    assert first.returncode == 0 and second.returncode == 0, first.stderr + second.stderr
    record = json.loads(first.stdout)
    saved = list((workdir / "data" / "clean").rglob("*.json"))
    assert saved == [workdir / "data" / "clean" / "the-lakeside-courier" / f"{record['id']}.json"]
    assert json.loads(saved[0].read_text(encoding="utf-8")) == json.loads(second.stdout)
    pages = list(iter_pages(workdir / "data" / "raw"))
    assert len(pages) == 2
    assert pages[0].status == 200
    assert pages[0].body == fixture_bytes("publisher/article.html")
    assert not list(workdir.rglob("*.tmp"))


def test_output_option_writes_file(httpserver: HTTPServer, workdir: Path) -> None:
    url = _serve(httpserver, "/c", "qoshe/chrome.html")

    result = run_scraper("fetch", url, "-o", "out/record.json", cwd=workdir)

    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    record = json.loads((workdir / "out" / "record.json").read_text(encoding="utf-8"))
    assert record["source"] == "The Islands Gazette"


# Retries stay on (they are part of what is tested) but wait a few milliseconds, not seconds:
# the backoff, and the per-host delay each attempt waits too (1 s by default).
QUICK_RETRIES = "[settings.retry]\nbackoff_base = 0.01\n[settings.politeness]\ndelay = 0\n"


def _quick(workdir: Path, extra: str = "") -> str:
    (workdir / "quick.toml").write_text(extra + QUICK_RETRIES, encoding="utf-8")
    return "quick.toml"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@pytest.mark.parametrize(
    ("status", "code", "message"),
    [(404, 5, "http_error: "), (500, 5, "HTTP 500"), (403, 6, "blocked: "), (451, 6, "HTTP 451")],
)
def test_http_error_statuses(
    httpserver: HTTPServer, workdir: Path, status: int, code: int, message: str
) -> None:
    httpserver.expect_request("/gone").respond_with_data("nope", status=status)

    result = run_scraper(
        "fetch", httpserver.url_for("/gone"), "-o", "r.json", "-c", _quick(workdir), cwd=workdir
    )

    assert result.returncode == code
    assert message in result.stderr
    assert result.stderr.count("\n") == 1, "one line on stderr"
    assert "Traceback" not in result.stderr
    assert not (workdir / "r.json").exists()


def test_connection_refused(workdir: Path) -> None:
    url = f"http://127.0.0.1:{_free_port()}/x"
    result = run_scraper("fetch", url, "-c", _quick(workdir), cwd=workdir)

    assert result.returncode == 3
    assert "network_error" in result.stderr and "refused" in result.stderr
    assert "Traceback" not in result.stderr


def test_timeout(httpserver: HTTPServer, workdir: Path) -> None:
    def slow(request: Request) -> Response:
        time.sleep(3)
        return Response("<html></html>", content_type="text/html")

    httpserver.expect_request("/slow").respond_with_handler(slow)
    config = _quick(workdir, "[settings.timeouts]\ntotal = 0.5\n")

    result = run_scraper("fetch", httpserver.url_for("/slow"), "-c", config, cwd=workdir)

    assert result.returncode == 4
    assert "timeout" in result.stderr


def test_not_html(httpserver: HTTPServer, workdir: Path) -> None:
    httpserver.expect_request("/paper.pdf").respond_with_data(
        b"%PDF-1.7", content_type="application/pdf"
    )

    result = run_scraper("fetch", httpserver.url_for("/paper.pdf"), cwd=workdir)

    assert result.returncode == 7
    assert "application/pdf" in result.stderr


def test_too_large(httpserver: HTTPServer, workdir: Path) -> None:
    url = _serve(httpserver, "/big", "publisher/article.html")
    (workdir / "small.toml").write_text("[settings.limits]\nmax_bytes = 1000\n", encoding="utf-8")

    result = run_scraper("fetch", url, "-c", "small.toml", cwd=workdir)

    assert result.returncode == 8
    assert "too_large" in result.stderr


def test_page_without_article(httpserver: HTTPServer, workdir: Path) -> None:
    httpserver.expect_request("/empty").respond_with_data(
        "<html><head><title>Home</title></head><body><nav>Menu</nav></body></html>",
        content_type="text/html",
    )

    result = run_scraper("fetch", httpserver.url_for("/empty"), "--save", cwd=workdir)

    assert result.returncode == 9
    assert "not an article" in result.stderr
    assert not (workdir / "data" / "clean").exists()


def test_invalid_config_is_a_usage_error(workdir: Path) -> None:
    (workdir / "bad.toml").write_text("[settings]\ntimeout = 3\n", encoding="utf-8")

    result = run_scraper("fetch", "http://127.0.0.1:1/x", "-c", "bad.toml", cwd=workdir)

    assert result.returncode == 2
    assert result.stderr == "scraper: error: bad.toml: settings.timeout: unknown key (a typo?)\n"
