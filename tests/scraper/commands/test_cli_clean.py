"""`scraper clean FILE`: saved HTML or text in, the record on stdout, exit codes as documented."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import FIXTURES, run_scraper


@pytest.mark.parametrize("saved", ["chrome.html", "chrome-dump.txt"])
def test_saved_page_with_url(workdir: Path, saved: str) -> None:
    """An HTML page and a text dump, each to the record of its golden file."""
    golden = FIXTURES / "qoshe" / f"{Path(saved).stem}.expected.json"
    expected = json.loads(golden.read_text("utf-8"))
    page = str(FIXTURES / "qoshe" / saved)

    result = run_scraper("clean", page, "--url", expected["url"], cwd=workdir)

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == expected["record"]


def test_listing_page_is_refused_with_its_own_exit_code(workdir: Path) -> None:
    page = str(FIXTURES / "qoshe" / "chrome-dump.txt")

    result = run_scraper(
        "clean", page, "--url", "https://qoshe.com/yazar/lena-marsh/5521", cwd=workdir
    )

    assert result.returncode == 13
    assert result.stdout == ""
    (line,) = result.stderr.strip().splitlines()
    assert "listing_page" in line


def test_html_file_declaring_its_own_url(workdir: Path) -> None:
    result = run_scraper("clean", str(FIXTURES / "opengraph" / "only-og.html"), cwd=workdir)

    assert result.returncode == 0, result.stderr
    record = json.loads(result.stdout)
    assert record["url"] == "https://kiezblatt-nord.example/meinung/stadtpark-cafe"
    assert record["title"] == "Warum der Stadtpark ein zweites Café braucht"


def test_text_dump_without_url_is_a_usage_error(workdir: Path) -> None:
    result = run_scraper("clean", str(FIXTURES / "qoshe" / "chrome-dump.txt"), cwd=workdir)

    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.strip().splitlines() == [
        f"scraper: error: {FIXTURES / 'qoshe' / 'chrome-dump.txt'}: "
        "a text dump carries no URL; pass --url"
    ]


def test_unreadable_file(workdir: Path) -> None:
    result = run_scraper("clean", "missing.html", "--url", "https://a.example/x", cwd=workdir)

    assert result.returncode == 2
    assert result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1
    assert "cannot read missing.html" in result.stderr


def test_page_without_article_exits_9(workdir: Path) -> None:
    page = workdir / "menu.html"
    page.write_text(
        "<!DOCTYPE html><html><head><title></title></head><body><nav>"
        '<a href="/">Home</a> <a href="/news">News</a></nav></body></html>',
        encoding="utf-8",
    )

    result = run_scraper("clean", str(page), "--url", "https://a.example/menu", cwd=workdir)

    assert result.returncode == 9
    assert result.stdout == ""
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith(f"scraper: error: {page}: not an article (")


def test_fetched_at_resolves_a_relative_date(workdir: Path) -> None:
    page = str(FIXTURES / "qoshe" / "relative-date-dump.txt")
    url = "https://qoshe.com/the-borough-chronicle/sam-okafor/market-hall/188300001"

    dated = run_scraper(
        "clean", page, "--url", url, "--fetched-at", "2025-11-20T12:00Z", cwd=workdir
    )
    undated = run_scraper("clean", page, "--url", url, cwd=workdir)
    naive = run_scraper("clean", page, "--url", url, "--fetched-at", "2025-11-20", cwd=workdir)

    assert dated.returncode == 0, dated.stderr
    assert (json.loads(dated.stdout)["date_raw"], json.loads(dated.stdout)["date"]) == (
        "yesterday",
        "2025-11-19",
    )
    assert json.loads(undated.stdout)["date"] is None
    assert naive.returncode == 2 and "give a zone" in naive.stderr
