"""Raw WARC stores for the reclean tests, written by the real `WarcStore` from our own pages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from scraper.fetch.page import FetchedPage
from scraper.store.warc import WarcStore
from tests.conftest import fixture_bytes

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
_TOPICS = ["tram fares", "library hours", "river walls", "school meals", "bike lanes", "parks"]
_TOWNS = ["Ashford Vale", "Millbrook", "Kestrel Bay", "Orrin Cross", "Sallow Heath"]


def article_html(number: int, version: int = 1) -> bytes:
    """A publisher article (the shape of fixtures/publisher) with its own invented text."""
    topic, town = _TOPICS[number % len(_TOPICS)], _TOWNS[number % len(_TOWNS)]
    title = f"Why {town} should rethink {topic} (part {number}, take {version})"
    page = fixture_bytes("publisher/article.html").decode("utf-8")
    page = page.replace("The quiet return of the repair shop", title)
    page = page.replace(
        "On the corner where a phone shop closed two years ago",
        f"In {town}, column {number} version {version} begins where the {topic} debate stalled",
    )
    return page.encode("utf-8")


def column_html(number: int) -> bytes:
    """An aggregator column (the shape of fixtures/qoshe) with its own invented text."""
    page = fixture_bytes("qoshe/chrome.html").decode("utf-8")
    page = page.replace("Ferry Timetables Are a Promise", f"Ferry Timetable {number} Is a Promise")
    page = page.replace("The morning ferry to the islands", f"The morning ferry on route {number}")
    return page.encode("utf-8")


def page(
    url: str,
    body: bytes,
    *,
    at: datetime = T0,
    status: int = 200,
    content_type: str = "text/html; charset=utf-8",
) -> FetchedPage:
    return FetchedPage(
        url=url,
        final_url=url,
        status=status,
        headers=[("Content-Type", content_type), ("Server", "test")],
        body=body,
        fetched_at=at,
        request_headers=[("User-Agent", "opinion-scraper-tests")],
    )


@dataclass(frozen=True)
class Store:
    """What a generated raw store holds, for the assertions."""

    raw: Path
    articles: list[str]  # URLs expected as articles
    rejects: dict[str, str]  # URL -> expected reject reason


def write_store(folder: Path, pages: list[FetchedPage]) -> Path:
    """Write ``pages`` in order into one WARC file in a new ``folder``; return the file."""
    assert not folder.exists(), "one store per folder: names only differ by pid and second"
    with WarcStore(folder) as store:
        for item in pages:
            store.append(item)
        assert store.path is not None
        return store.path


def mixed_store(raw: Path, articles: int = 24, files: int = 3) -> Store:
    """Articles and columns spread over several files, plus one page of each reject kind."""
    urls: list[str] = []
    batches: list[list[FetchedPage]] = [[] for _ in range(files)]
    for number in range(articles):
        if number % 3 == 2:
            url = f"https://qoshe.com/riverside-gazette/columnist/night-buses-{number}"
            body = column_html(number)
        else:
            url = f"https://lakeside-courier.example/opinion/column-{number}"
            body = article_html(number)
        urls.append(url)
        batches[number % files].append(page(url, body, at=T0 + timedelta(minutes=number)))
    rejects = {
        "https://lakeside-courier.example/opinion/gone": "http_error",
        "https://lakeside-courier.example/members/locked": "blocked",
        "https://lakeside-courier.example/feeds/photo.jpg": "not_html",
        "https://lakeside-courier.example/opinion/empty": "empty_body",
    }
    batches[0].append(page("https://lakeside-courier.example/opinion/gone", b"gone", status=404))
    batches[1].append(page("https://lakeside-courier.example/members/locked", b"no", status=403))
    batches[2 % files].append(
        page(
            "https://lakeside-courier.example/feeds/photo.jpg",
            b"\xff\xd8\xff",
            content_type="image/jpeg",
        )
    )
    batches[0].append(
        page(
            "https://lakeside-courier.example/opinion/empty",
            b"<html><head><title>Photo gallery</title></head>"
            b"<body><div><img src=a.jpg></div></body></html>",
        )
    )
    for number, batch in enumerate(batches):
        write_store(raw / f"part-{number}", batch)
    return Store(raw, urls, rejects)


def tree(data_dir: Path) -> dict[str, bytes]:
    """Every record file under ``clean/`` and ``rejects/``, by relative path."""
    return {
        path.relative_to(data_dir).as_posix(): path.read_bytes()
        for folder in ("clean", "rejects")
        for path in sorted((data_dir / folder).rglob("*"))
        if path.is_file()
    }
