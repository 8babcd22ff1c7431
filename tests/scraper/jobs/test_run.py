"""`scraper run` end to end against the demo web on 127.0.0.1: first run, incremental
runs, changes, additions, overlapping runs and source failures. (Kills: tests/faults.)"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from scraper.demo.server import DemoServer
from scraper.store.lock import RunLock
from scraper.store.state import StateDB
from tests.conftest import run_scraper

DEMO_TITLES = {
    "Why small towns need night buses",
    "The quiet return of the repair shop",
    "Open the libraries in the evening",
    "Ten years on an allotment waiting list",
    "School streets are working, so make them permanent",
}


@pytest.fixture
def server() -> Iterator[DemoServer]:
    with DemoServer() as demo:
        yield demo


def write_config(workdir: Path, server: DemoServer, *, extra: str = "") -> Path:
    """A sources file for the demo web: aggregator listings, a feed and a sitemap."""
    site = server.site
    columnists = ", ".join(f'"{site.url(site.listing_path(key))}"' for key in site.columnists)
    path = workdir / "sources.toml"
    path.write_text(
        f"""
[settings]
allow_private_addresses = true
[settings.politeness]
delay = 0.01

[[sources]]
name = "aggregator"
kind = "aggregator"
urls = [{columnists}]
listing = "qoshe"

[[sources]]
name = "feed"
kind = "feed"
urls = ["{site.url("/lakeside/feed.xml")}"]

[[sources]]
name = "sitemap"
kind = "sitemap"
urls = ["{site.url("/ledger/sitemap.xml")}"]
{extra}
""",
        encoding="utf-8",
    )
    return path


def records(data_dir: Path) -> dict[str, dict[str, object]]:
    """Saved records by relative path, without the fetch time (it differs run to run)."""
    found = {}
    for path in sorted((data_dir / "clean").rglob("*.json")):
        record = json.loads(path.read_text(encoding="utf-8"))
        record.pop("fetched_at")
        found[str(path.relative_to(data_dir))] = record
    return found


def test_first_run_saves_every_article_once(server: DemoServer, workdir: Path) -> None:
    write_config(workdir, server)

    result = run_scraper("run", cwd=workdir)

    assert result.returncode == 0, result.stderr
    assert "5 new, 0 updated, 0 unchanged, 0 rejected, 0 failed" in result.stdout
    saved = records(workdir / "data")
    assert {record["title"] for record in saved.values()} == DEMO_TITLES
    assert len(saved) == len(DEMO_TITLES), "one record per article, whatever led to it"
    by_title = {record["title"]: record for record in saved.values()}
    # Teasers on the aggregator led to the originals: the full article wins.
    night = by_title["Why small towns need night buses"]
    assert night["truncated"] is False
    assert night["aggregator"] == "QOSHE"
    assert night["source"] == "The Riverside Gazette"
    assert night["url"] == server.site.url("/gazette/opinion/night-buses")
    assert str(night["body"]).endswith("let the people who run it get home.")
    # Found only through the sitemap: no aggregator.
    assert by_title["School streets are working, so make them permanent"]["aggregator"] is None
    assert not list((workdir / "data").rglob("*.tmp"))
    with StateDB(workdir / "data" / "state.sqlite") as state:
        runs = state.last_runs()
    assert [run.status for run in runs] == ["ok"]
    assert runs[0].counts["new"] == 5


def test_second_run_is_conditional_and_writes_nothing(server: DemoServer, workdir: Path) -> None:
    write_config(workdir, server)
    assert run_scraper("run", cwd=workdir).returncode == 0
    clean = workdir / "data" / "clean"
    before = {path: path.stat().st_mtime_ns for path in clean.rglob("*.json")}
    server.requests.clear()

    result = run_scraper("run", cwd=workdir)

    assert result.returncode == 0, result.stderr
    assert "0 new, 0 updated" in result.stdout
    assert {path: path.stat().st_mtime_ns for path in clean.rglob("*.json")} == before
    columns = {server.site.column_path(a) for a in server.site.articles if a.columnist}
    article_requests = [
        (path, headers)
        for path, headers in server.requests
        if "/opinion/" in path or path in columns
    ]
    assert article_requests, "articles are re-checked"
    assert all("If-None-Match" in headers for _, headers in article_requests)


def test_changed_article_is_updated(server: DemoServer, workdir: Path) -> None:
    write_config(workdir, server)
    assert run_scraper("run", cwd=workdir).returncode == 0
    path = "/ledger/opinion/school-streets"
    content_type, body = server.site.pages()[path]
    server.set_page(path, (content_type, body.replace(b"next spring", b"next summer")))

    result = run_scraper("run", cwd=workdir)

    assert result.returncode == 0, result.stderr
    assert "0 new, 1 updated" in result.stdout
    saved = {r["title"]: r for r in records(workdir / "data").values()}
    assert "next summer" in str(saved["School streets are working, so make them permanent"]["body"])
    assert len(saved) == len(DEMO_TITLES)


def test_article_added_to_listing_is_picked_up(server: DemoServer, workdir: Path) -> None:
    write_config(workdir, server)
    assert run_scraper("run", cwd=workdir).returncode == 0
    site = server.site
    listing_path = site.listing_path("sam-okafor")
    content_type, listing = site.pages()[listing_path]
    new_card = (
        b'<div class="cards"><div class="card">'
        b'<a href="/the-lakeside-courier-uk/sam-okafor/where-do-the-bikes-go/188350007">'
        b"<h1>Where do the bikes go?</h1></a><i>20.03.2025</i> <span>3</span></div>"
    )
    server.set_page(listing_path, (content_type, listing.replace(b'<div class="cards">', new_card)))
    (library,) = [a for a in site.articles if a.slug == "library-hours"]
    column = site.pages()[site.column_path(library)][1]
    column = column.replace(b"Open the libraries in the evening", b"Where do the bikes go?")
    column = column.replace(b"/lakeside/opinion/library-hours", b"/private/nowhere")
    path = "/the-lakeside-courier-uk/sam-okafor/where-do-the-bikes-go/188350007"
    server.set_page(path, ("text/html", column))

    result = run_scraper("run", cwd=workdir)

    assert result.returncode == 0, result.stderr
    assert "1 new, 0 updated" in result.stdout
    saved = {r["title"]: r for r in records(workdir / "data").values()}
    # The original is disallowed by robots.txt, so the teaser is kept, marked as such.
    teaser = saved["Where do the bikes go?"]
    assert teaser["truncated"] is True
    assert teaser["aggregator"] == "QOSHE"


def test_overlapping_run_exits_clearly(server: DemoServer, workdir: Path) -> None:
    write_config(workdir, server)

    with RunLock(workdir / "data" / "run.lock"):
        result = run_scraper("run", cwd=workdir)

    assert result.returncode == 12
    assert "another run holds" in result.stderr and f"pid {os.getpid()}" in result.stderr
    assert not (workdir / "data" / "clean").exists()


def test_failing_source_is_reported_and_the_rest_saved(server: DemoServer, workdir: Path) -> None:
    broken = (
        f'\n[[sources]]\nname = "gone"\nkind = "feed"\nurls = ["{server.site.url("/no-feed")}"]\n'
    )
    write_config(workdir, server, extra=broken)

    result = run_scraper("run", cwd=workdir)

    assert result.returncode == 11
    assert "source gone: 1 listing error(s)" in result.stdout
    assert len(records(workdir / "data")) == len(DEMO_TITLES)


def test_bad_config_cannot_start(workdir: Path) -> None:
    (workdir / "sources.toml").write_text('[[sources]]\nname = "x"\nkind = "rss"\n', "utf-8")

    result = run_scraper("run", cwd=workdir)

    assert result.returncode == 12
    assert "sources.toml" in result.stderr and "kind" in result.stderr


def test_dry_run_lists_and_writes_nothing(server: DemoServer, workdir: Path) -> None:
    write_config(workdir, server)

    result = run_scraper("run", "--dry-run", "--source", "feed", cwd=workdir)

    assert result.returncode == 0, result.stderr
    assert "dry run: 2 article URLs, 2 new" in result.stdout
    assert "lakeside/opinion/repair-shops" in result.stdout
    assert not (workdir / "data").exists()


def test_reclean_rebuilds_what_the_run_saved(server: DemoServer, workdir: Path) -> None:
    """Only article fetches are cleaned again (not robots.txt, feeds, sitemaps, listings),
    and a teaser whose original was fetched too becomes that original, as in the run."""
    write_config(workdir, server)
    assert run_scraper("run", cwd=workdir).returncode == 0

    result = run_scraper("reclean", "data/raw", "--data-dir", "rebuilt", cwd=workdir)

    assert result.returncode == 0, result.stderr
    assert "rejects: 0" in result.stdout
    assert "listing responses skipped" in result.stdout
    assert "teasers settled into their originals: 4" in result.stdout
    assert not (workdir / "rebuilt" / "rejects").exists()
    assert records(workdir / "rebuilt") == records(workdir / "data")
