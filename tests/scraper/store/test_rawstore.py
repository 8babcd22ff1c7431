"""The WARC raw store: round trip, rotation, per-record gzip members, a truncated tail."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator

from scraper.fetch.http import FetchedPage
from scraper.store.warc import WarcStore, iter_pages

T0 = datetime(2026, 3, 1, 6, 0, tzinfo=UTC)


def _page(i: int, status: int = 200) -> FetchedPage:
    return FetchedPage(
        url=f"http://127.0.0.1/col/{i}?utm_source=x",
        final_url=f"http://127.0.0.1/col/{i}",
        status=status,
        headers=[("Content-Type", "text/html; charset=utf-8"), ("Content-Encoding", "gzip")],
        body=f"<html><p>Column {i}: the ferry timetable again.</p></html>".encode() * 40,
        fetched_at=T0,
        request_headers=[("User-Agent", "opinion-scraper/0.1.0")],
        redirects=(f"http://127.0.0.1/old/{i}",),
    )


def test_round_trip_and_rotation(tmp_path: Path) -> None:
    with WarcStore(tmp_path, max_file_bytes=1000) as store:
        for i in range(6):
            store.append(_page(i, 200 if i % 2 else 304))
    files = sorted(tmp_path.glob("*.warc.gz"))
    assert len(files) >= 3, "rotated by size"
    pages = list(iter_pages(tmp_path))
    assert [p.final_url for p in pages] == [f"http://127.0.0.1/col/{i}" for i in range(6)]
    assert pages[0].url == "http://127.0.0.1/col/0?utm_source=x"
    assert pages[1].body == _page(1).body and pages[0].status == 304
    assert pages[1].fetched_at == T0
    names = {k.lower() for k, _ in pages[1].headers}
    assert "content-encoding" not in names, "the body is stored decoded"


def test_records_are_separate_gzip_members_readable_by_warcio(tmp_path: Path) -> None:
    with WarcStore(tmp_path) as store:
        store.append(_page(1))
        store.append(_page(2))
    (path,) = tmp_path.glob("*.warc.gz")
    data = path.read_bytes()
    assert data.count(b"\x1f\x8b\x08") == 4, "one gzip member per record"
    assert gzip.decompress(data).count(b"WARC/1") == 4
    with path.open("rb") as handle:
        kinds = [
            (r.rec_type, r.rec_headers.get_header("WARC-Payload-Digest") is not None)
            for r in ArchiveIterator(handle)
        ]
    assert kinds == [("response", True), ("request", True)] * 2


def test_truncated_tail_keeps_what_came_before(tmp_path: Path) -> None:
    with WarcStore(tmp_path) as store:
        store.append(_page(1))
        path = store.path
        assert path is not None
        first = path.stat().st_size
        store.append(_page(2))
    data = path.read_bytes()
    for cut in range(first + 1, len(data), 37):  # a crash mid-write, anywhere
        path.write_bytes(data[:cut])
        pages = list(iter_pages(path))
        assert pages[0].final_url == "http://127.0.0.1/col/1", cut
        assert len(pages) == 1 or pages[1].body == _page(2).body, cut
    path.write_bytes(data[: first + 40])
    assert len(list(iter_pages(path))) == 1
