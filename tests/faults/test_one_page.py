"""One bad page is one reject: dates at the ends of `datetime`'s range, and any bug the
cleaner meets on a page, never abort a run (or a re-clean) for every other page."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

import scraper.jobs.pipeline as pipeline
from cleaner import Article, Reject, RejectReason, extract, extraction
from cleaner.dates import is_after
from scraper.fetch.page import FetchedPage
from tests.conftest import run_scraper

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
PROSE = "<p>The harbour board voted to keep the ferry running through the winter.</p>" * 8
EDGE_DATES = [
    "0001-01-01",
    "0001-01-01T00:00:00",
    "0001-01-01T00:00:00+05:00",
    "0001-01-01T03:00:00-14:00",
    "9999-12-31",
    "9999-12-31T23:59:59",
    "9999-12-31T23:00:00-05:00",
]


def _page(title: str, published: str) -> str:
    return (
        f'<html><head><title>{title}</title><meta property="article:published_time" '
        f'content="{published}"></head><body><article><h1>{title}</h1>{PROSE}</article>'
        "</body></html>"
    )


@pytest.mark.parametrize("published", EDGE_DATES)
def test_a_date_at_the_end_of_the_range_is_read_or_refused_never_a_crash(published: str) -> None:
    try:
        article = extract(_page("Ferry stays", published), url="http://a.test/f", fetched_at=NOW)
    except Exception as exc:
        assert type(exc).__name__ == "ExtractionError", repr(exc)
        assert published.startswith("9999"), published  # only the future is refused
        return
    assert article.date is None or article.date.startswith("0001")


@pytest.mark.parametrize("published", EDGE_DATES)
def test_is_after_compares_without_overflow(published: str) -> None:
    assert is_after(published, NOW) is published.startswith("9999")
    assert is_after("2026-11-20", datetime.max.replace(tzinfo=UTC)) is False


def test_an_exception_in_the_cleaner_is_that_pages_reject(monkeypatch: pytest.MonkeyPatch) -> None:
    # No known input makes the cleaner raise (each found one is fixed), so the bug is
    # injected: the guard must hold for the next one too.
    def broken(*args: object, **kwargs: object) -> Article:
        raise OverflowError("date value out of range")

    monkeypatch.setattr(extraction, "extract", broken)  # where the pipeline finds it
    page = FetchedPage(
        url="http://a.test/f",
        final_url="http://a.test/f",
        status=200,
        headers=[("content-type", "text/html")],
        body=_page("Ferry stays", "2026-01-01").encode(),
        fetched_at=NOW,
    )
    result = pipeline.clean_page(page)
    assert isinstance(result, Reject)
    assert result.reason is RejectReason.CLEANER_FAILED
    assert result.detail == "OverflowError: date value out of range"


def test_a_run_with_a_year_one_article_saves_every_other_page(
    httpserver: HTTPServer, workdir: Path
) -> None:
    pages = {
        "/year-one": _page("Dated year one", "0001-01-01T00:00:00+05:00"),
        "/end-of-time": _page("Dated year 9999", "9999-12-31T23:00:00-05:00"),
        "/fine": _page("A column dated today", "2026-01-05"),
    }
    items = "".join(f"<item><link>{httpserver.url_for(p)}</link></item>" for p in pages)
    httpserver.expect_request("/robots.txt").respond_with_data("", status=404)
    httpserver.expect_request("/feed.xml").respond_with_data(
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>F</title>{items}</channel></rss>',
        content_type="application/rss+xml",
    )
    for path, html in pages.items():
        httpserver.expect_request(path).respond_with_data(html, content_type="text/html")
    (workdir / "sources.toml").write_text(
        "[settings]\nallow_private_addresses = true\n[settings.politeness]\ndelay = 0\n"
        f'[[sources]]\nname = "edge"\nkind = "feed"\n'
        f'urls = ["{httpserver.url_for("/feed.xml")}"]\n',
        encoding="utf-8",
    )

    result = run_scraper("run", cwd=workdir)

    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    titles = {json.loads(p.read_text())["title"] for p in (workdir / "data/clean").rglob("*.json")}
    assert titles == {"Dated year one", "A column dated today"}
    rejects = [json.loads(p.read_text()) for p in (workdir / "data/rejects").rglob("*.json")]
    assert [r["reason"] for r in rejects] == ["future_date"]
