"""Duplicates across URLs, against real servers on loopback: URL variants of an article
(tracking parameters, trailing slash, AMP, print) give one record keyed by the canonical
URL the page declares; an aggregator's copy on another site is its own record, marked
``duplicate_of`` the original, whichever of the two was fetched first."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from cleaner import article_id
from scraper.store.state import StateDB
from tests.conftest import run_scraper

COLUMNS = {
    "night-buses": (
        "Why small towns need night buses",
        [
            "The last bus out of the market square leaves at twenty past seven, which means "
            "that anyone who works a late shift at the care home walks or pays for a taxi.",
            "A night service would cost the county less than the road it plans to widen, and "
            "it would carry the nurses, cooks and cleaners who keep the town running.",
            "Other districts tried a demand bus on two evenings a week and kept it, because "
            "the seats filled faster than the planners had dared to hope.",
            "The council should run a trial this winter, publish the numbers each month, and "
            "let the riders decide whether the timetable stays.",
        ],
    ),
    "repair-shop": (
        "The quiet return of the repair shop",
        [
            "On the corner where the phone shop closed, a woman now mends toasters, lamps and "
            "the occasional sewing machine, and the queue reaches the door on Saturdays.",
            "Her customers are not nostalgic; they are tired of buying the same kettle twice "
            "a year because a two-penny switch failed inside a sealed plastic case.",
            "A right to spare parts and manuals would turn her one shop into dozens, and keep "
            "tonnes of small appliances out of the landfill by the river.",
            "Until then, she keeps a notebook of which brands can be opened with a "
            "screwdriver, and she is happy to lend it to anyone who asks politely.",
        ],
    ),
    "allotments": (
        "Ten years on an allotment waiting list",
        [
            "My name went on the allotment list the spring my daughter started school, and she "
            "will finish it before I am offered a plot by the railway embankment.",
            "Half the plots are tended by people who moved away long ago and pay the fee out of "
            "habit, while families in the flats next door grow tomatoes on windowsills.",
            "Splitting the largest plots in two, and asking holders to show a harvest once a "
            "year, would shorten the list by a decade without a single new field.",
        ],
    ),
}


def _page(slug: str, *, canonical: str | None, chrome: str, paragraphs: int | None = None) -> str:
    title, body = COLUMNS[slug]
    text = "".join(f"<p>{p}</p>" for p in body[:paragraphs])
    link = f'<link rel="canonical" href="{canonical}">' if canonical else ""
    return (
        f'<!doctype html><html lang="en"><head><title>{title}</title>{link}</head><body>'
        f"<nav>{chrome} | Home | Opinion | Sport</nav><article><h1>{title}</h1>{text}</article>"
        f"<footer>{chrome} · All rights reserved</footer></body></html>"
    )


def _teaser(slug: str) -> str:
    title, body = COLUMNS[slug]
    words = " ".join(body).split()
    return (
        f'<!doctype html><html lang="en"><head><title>{title} - Columns Hub</title></head>'
        f"<body><nav>Columns Hub | Latest</nav><article><h1>{title}</h1>"
        f"<p>{' '.join(words[:48])}...</p></article></body></html>"
    )


class Site:
    """A publisher on 127.0.0.1 serving each column under several URLs, and an aggregator
    on 127.0.0.1 (another site) with a whole copy of one column and a teaser of another."""

    def __init__(self, publisher: HTTPServer, aggregator: HTTPServer) -> None:
        self.publisher, self.aggregator = publisher, aggregator
        for server in (publisher, aggregator):
            server.expect_request("/robots.txt").respond_with_data("", status=404)
        publisher.expect_request("/amp/opinion/night-buses").respond_with_handler(self._amp)
        publisher.expect_request("/print/opinion/repair-shop").respond_with_handler(self._print)
        for slug in COLUMNS:
            for path in (f"/opinion/{slug}", f"/opinion/{slug}/"):
                publisher.expect_request(path).respond_with_handler(self._article)
        aggregator.expect_request("/column/night-buses").respond_with_data(
            _page("night-buses", canonical=None, chrome="Columns Hub"), content_type="text/html"
        )
        aggregator.expect_request("/column/repair-shop").respond_with_data(
            _teaser("repair-shop"), content_type="text/html"
        )

    def canonical(self, slug: str) -> str:
        return self.publisher.url_for(f"/opinion/{slug}")

    def _article(self, request: Request) -> Response:
        slug = request.path.strip("/").split("/")[-1]
        html = _page(slug, canonical=self.canonical(slug), chrome="The Gazette")
        return Response(html, content_type="text/html; charset=utf-8")

    def _amp(self, request: Request) -> Response:
        html = _page("night-buses", canonical=self.canonical("night-buses"), chrome="AMP")
        return Response(html, content_type="text/html; charset=utf-8")

    def _print(self, request: Request) -> Response:
        html = _page("repair-shop", canonical=self.canonical("repair-shop"), chrome="Print")
        return Response(html, content_type="text/html; charset=utf-8")

    def variants(self) -> list[str]:
        urls = []
        for slug in COLUMNS:
            base = self.publisher.url_for(f"/opinion/{slug}")
            urls += [base, f"{base}?utm_source=feed&utm_medium=rss", f"{base}?ref=home"]
            urls += [f"{base}/", f"{base}/?fbclid=x1"]
        urls.append(self.publisher.url_for("/amp/opinion/night-buses"))
        urls.append(self.publisher.url_for("/print/opinion/repair-shop"))
        return urls

    def copies(self) -> list[str]:
        return [
            self.aggregator.url_for("/column/night-buses"),
            self.aggregator.url_for("/column/repair-shop"),
        ]


@pytest.fixture
def site(httpserver: HTTPServer) -> Iterator[Site]:
    aggregator = HTTPServer(host="127.0.0.1", port=0)
    aggregator.start()
    try:
        yield Site(httpserver, aggregator)
    finally:
        aggregator.clear()
        aggregator.stop()


def _fetch_many(workdir: Path, urls: list[str]) -> None:
    (workdir / "urls.txt").write_text("\n".join(urls) + "\n", encoding="utf-8")
    (workdir / "fast.toml").write_text(
        "[settings]\nallow_private_addresses = true\n[settings.politeness]\ndelay = 0\n",
        encoding="utf-8",
    )
    result = run_scraper("fetch-many", "urls.txt", "-c", "fast.toml", cwd=workdir)
    assert result.returncode == 0, result.stdout + result.stderr


def _records(workdir: Path) -> dict[str, dict[str, object]]:
    records = {}
    for path in (workdir / "data" / "clean").rglob("*.json"):
        record = json.loads(path.read_text(encoding="utf-8"))
        assert path.stem == record["id"]
        records[str(record["url"])] = record
    return records


def test_variants_give_one_record_each_and_copies_point_to_their_original(
    site: Site, workdir: Path
) -> None:
    _fetch_many(workdir, site.variants() + site.copies())

    records = _records(workdir)
    originals = {slug: site.canonical(slug) for slug in COLUMNS}
    night, teaser = (site.copies()[0], site.copies()[1])
    assert set(records) == {*originals.values(), night, teaser}, "17 URLs, 5 records"
    for slug, url in originals.items():
        assert records[url]["id"] == article_id(url)
        assert records[url]["canonical_url"] == url
        assert records[url]["duplicate_of"] is None, slug
    assert records[night]["canonical_url"] is None
    assert records[night]["duplicate_of"] == article_id(originals["night-buses"])
    assert records[teaser]["truncated"] is True
    assert records[teaser]["duplicate_of"] == article_id(originals["repair-shop"])


def test_copies_saved_before_their_original_are_pointed_to_it_later(
    site: Site, workdir: Path
) -> None:
    _fetch_many(workdir, site.copies())
    assert all(record["duplicate_of"] is None for record in _records(workdir).values())

    _fetch_many(workdir, [site.canonical("night-buses"), site.canonical("repair-shop")])

    records = _records(workdir)
    for copy, slug in zip(site.copies(), ("night-buses", "repair-shop"), strict=True):
        original = article_id(site.canonical(slug))
        assert records[copy]["duplicate_of"] == original, "the publisher's page is the original"
        assert records[site.canonical(slug)]["duplicate_of"] is None
        with StateDB(workdir / "data" / "state.sqlite") as state:
            row = state.fingerprint_row(article_id(copy))
            assert row is not None and row.duplicate_of == original


def test_reclean_rebuilds_the_same_records_and_marks(site: Site, workdir: Path) -> None:
    _fetch_many(workdir, site.copies() + site.variants())
    saved = _records(workdir)
    shutil.rmtree(workdir / "data" / "clean")

    result = run_scraper("reclean", cwd=workdir)

    assert result.returncode == 0, result.stderr
    rebuilt = _records(workdir)
    assert {url: r["duplicate_of"] for url, r in rebuilt.items()} == {
        url: r["duplicate_of"] for url, r in saved.items()
    }
    again = run_scraper("reclean", cwd=workdir)
    assert again.returncode == 0, again.stderr
    assert _records(workdir) == rebuilt


def test_fetch_save_marks_and_is_marked_like_a_run(site: Site, workdir: Path) -> None:
    """`fetch URL --save` takes part in the near-duplicate index as a run's pages do."""
    _fetch_many(workdir, [site.canonical("night-buses"), site.copies()[1]])

    def fetch_save(url: str) -> dict[str, object]:
        result = run_scraper("fetch", url, "--save", "-c", "fast.toml", cwd=workdir)
        assert result.returncode == 0, result.stderr
        printed: dict[str, object] = json.loads(result.stdout)
        return printed

    # A copy of a saved original is marked, in print and on disk; before, neither was.
    copy = fetch_save(site.copies()[0])
    assert copy["duplicate_of"] == article_id(site.canonical("night-buses"))
    assert _records(workdir)[site.copies()[0]] == copy
    # A better original than a saved copy: the copy is pointed to it.
    original = fetch_save(site.canonical("repair-shop"))
    assert original["duplicate_of"] is None
    assert _records(workdir)[site.copies()[1]]["duplicate_of"] == original["id"]
