"""`scraper feed`: saved records as an Atom feed that a feed reader (feedparser) reads."""

from __future__ import annotations

import socket
from datetime import UTC, datetime
from pathlib import Path

import feedparser
import pytest

from cleaner import extract
from scraper.demo.site import DemoSite
from scraper.store.records import save_article
from tests.conftest import FIXTURES, run_scraper

T0 = datetime(2025, 9, 4, 8, 0, tzinfo=UTC)
COLUMN = "https://qoshe.com/the-islands-gazette/jo-parker/ferry-timetables/188045678"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _demo_columns(columnist: str) -> set[str]:
    site = DemoSite("http://127.0.0.1:1")
    key = next(k for k, c in site.columnists.items() if c["name"] == columnist)
    return {a.title for a in site.articles if a.columnist == key}


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One real `scraper demo` run, shared by the tests that read its records."""
    workdir = tmp_path_factory.mktemp("demo")
    result = run_scraper("demo", "--port", str(_free_port()), cwd=workdir)
    assert result.returncode == 0, result.stderr
    return workdir


def test_demo_then_feed_for_a_columnist(demo_dir: Path) -> None:
    result = run_scraper(
        "feed", "--columnist", "jo parker", "--data-dir", "demo-data", cwd=demo_dir
    )

    assert result.returncode == 0, result.stderr
    parsed = feedparser.parse(result.stdout)
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.feed.title == "Jo Parker: opinion columns"
    assert {entry.title for entry in parsed.entries} == _demo_columns("Jo Parker")
    dates = [entry.published_parsed for entry in parsed.entries]
    assert dates == sorted(dates, reverse=True)  # newest first
    for entry in parsed.entries:
        assert "/opinion/" in entry.link  # the publisher's original, not the teaser
        assert entry.author == "Jo Parker"
        assert entry.summary and "........" not in entry.summary
        assert entry.id.startswith("urn:opinion-scraper:article:")


def test_feed_for_a_source_written_atomically_and_the_same_each_time(demo_dir: Path) -> None:
    args = ("feed", "--source", "The Lakeside Courier", "--data-dir", "demo-data")

    first = run_scraper(*args, "-o", "out/courier.xml", cwd=demo_dir)
    text = (demo_dir / "out" / "courier.xml").read_text(encoding="utf-8")
    second = run_scraper(*args, cwd=demo_dir)

    assert first.returncode == 0, first.stderr
    assert first.stdout == ""
    assert "entries written to out/courier.xml" in first.stderr
    assert second.stdout == text  # depends on the records only, not on the clock
    parsed = feedparser.parse(text)
    assert not parsed.bozo
    titles = {entry.title for entry in parsed.entries}
    assert titles == {"The quiet return of the repair shop", "Open the libraries in the evening"}
    assert not list((demo_dir / "out").glob(".*"))


def test_teaser_links_to_the_original_not_the_aggregator_copy(workdir: Path) -> None:
    teaser = extract((FIXTURES / "qoshe" / "chrome.html").read_bytes(), url=COLUMN, fetched_at=T0)
    save_article(workdir / "data", teaser)

    result = run_scraper("feed", "--source", "the islands gazette", cwd=workdir)

    assert result.returncode == 0, result.stderr
    (entry,) = feedparser.parse(result.stdout).entries
    assert [link.href for link in entry.links] == [
        "https://islands-gazette.example/opinion/ferry-timetables"
    ]
    assert entry.published.startswith("2025-09-03")
    assert entry.summary.endswith("…")  # a teaser says so


def test_unknown_name_lists_what_there_is(workdir: Path) -> None:
    teaser = extract((FIXTURES / "qoshe" / "chrome.html").read_bytes(), url=COLUMN, fetched_at=T0)
    save_article(workdir / "data", teaser)
    broken = workdir / "data" / "clean" / "the-islands-gazette" / "0000000000000000.json"
    broken.write_text("{not json", encoding="utf-8")

    result = run_scraper("feed", "--source", "Le Monde", cwd=workdir)

    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert lines[0].startswith("scraper: warning: 1 unreadable record(s) skipped")
    assert lines[1] == (
        "scraper: error: no records for 'Le Monde'; sources in data/clean: The Islands Gazette"
    )


def test_no_choice_is_a_usage_error(workdir: Path) -> None:
    result = run_scraper("feed", cwd=workdir)

    assert result.returncode == 2
    assert "--source NAME or --columnist NAME" in result.stderr


def test_unwritable_output_exits_10_and_leaves_nothing(workdir: Path) -> None:
    teaser = extract((FIXTURES / "qoshe" / "chrome.html").read_bytes(), url=COLUMN, fetched_at=T0)
    save_article(workdir / "data", teaser)
    (workdir / "blocker").write_text("a file, not a folder", encoding="utf-8")

    result = run_scraper(
        "feed", "--source", "The Islands Gazette", "-o", "blocker/feed.xml", cwd=workdir
    )

    assert result.returncode == 10
    assert len(result.stderr.strip().splitlines()) == 1
    assert (workdir / "blocker").read_text(encoding="utf-8") == "a file, not a folder"
