"""`fetch` and `clean` give a page the same id: the one of the canonical URL it declares
on its own site, whichever variant of its address was fetched or passed."""

from __future__ import annotations

import json
from pathlib import Path

from pytest_httpserver import HTTPServer

from cleaner import article_id
from tests.conftest import run_scraper

_BODY = (
    "<p>The harbour office moved the early ferry to half past eight without asking anyone "
    "who takes it, and the first shift at the hospital now starts with a taxi.</p>"
) * 4


def _page(canonical: str) -> str:
    return (
        f'<!doctype html><html lang="en"><head><title>The ferry we lost</title>'
        f'<link rel="canonical" href="{canonical}"></head><body><article>'
        f"<h1>The ferry we lost</h1>{_BODY}</article></body></html>"
    )


def _record(result: object) -> dict[str, object]:
    assert getattr(result, "returncode", None) == 0, getattr(result, "stderr", "")
    record: dict[str, object] = json.loads(getattr(result, "stdout", ""))
    return record


def test_fetch_and_clean_agree_on_the_canonical_id(httpserver: HTTPServer, workdir: Path) -> None:
    canonical = httpserver.url_for("/opinion/ferry")
    html = _page(canonical)
    httpserver.expect_request("/opinion/ferry").respond_with_data(html, content_type="text/html")
    (workdir / "page.html").write_text(html, encoding="utf-8")

    fetched = _record(run_scraper("fetch", f"{canonical}?ref=home&utm_source=x", cwd=workdir))
    cleaned = _record(run_scraper("clean", "page.html", cwd=workdir))
    variant = _record(
        run_scraper("clean", "page.html", "--url", f"{canonical}/?amp=1", cwd=workdir)
    )

    assert fetched["id"] == cleaned["id"] == variant["id"] == article_id(canonical)
    assert fetched["url"] == fetched["canonical_url"] == canonical
    assert fetched == {**cleaned, "fetched_at": fetched["fetched_at"]}


def test_a_canonical_url_on_another_site_is_not_trusted(workdir: Path) -> None:
    (workdir / "page.html").write_text(_page("https://other.example/their-story"), "utf-8")
    url = "https://harbour.example/opinion/ferry?ref=home"

    record = _record(run_scraper("clean", "page.html", "--url", url, cwd=workdir))

    assert record["canonical_url"] is None
    assert record["url"] == url and record["id"] == article_id(url)
