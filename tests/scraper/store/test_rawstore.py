"""The WARC raw store: round trip, rotation, per-record gzip members, a truncated tail."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator

from scraper.fetch.page import FetchedPage
from scraper.jobs.reclean_tasks import index_file
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
    assert data.count(b"\x1f\x8b\x08") == 5, "one gzip member per record"
    assert gzip.decompress(data).count(b"WARC/1") == 5
    with path.open("rb") as handle:
        kinds = [
            (r.rec_type, r.rec_headers.get_header("WARC-Payload-Digest") is not None)
            for r in ArchiveIterator(handle)
        ]
    assert kinds == [("warcinfo", False)] + [("response", True), ("request", True)] * 2


def test_each_file_opens_with_warcinfo_and_requests_point_to_their_response(
    tmp_path: Path,
) -> None:
    with WarcStore(tmp_path, max_file_bytes=1000) as store:
        for i in range(4):
            store.append(_page(i))
    files = sorted(tmp_path.glob("*.warc.gz"))
    assert len(files) >= 2
    for path in files:
        with path.open("rb") as handle:
            records = [
                (r.rec_type, dict(r.rec_headers.headers), r.content_stream().read())
                for r in ArchiveIterator(handle)
            ]
        kind, headers, payload = records[0]
        assert kind == "warcinfo"
        assert headers["WARC-Filename"] == path.name
        assert b"software: opinion-scraper/" in payload
        responses = {h["WARC-Record-ID"]: h for k, h, _ in records if k == "response"}
        requests = [h for k, h, _ in records if k == "request"]
        assert requests and len(requests) == len(responses)
        for request in requests:
            response = responses[request["WARC-Concurrent-To"]]
            assert response["WARC-Target-URI"] == request["WARC-Target-URI"]


def test_files_written_before_warcinfo_still_read(tmp_path: Path) -> None:
    with WarcStore(tmp_path) as store:
        store.append(_page(1))
        store.append(_page(2))
    (path,) = tmp_path.glob("*.warc.gz")
    data = path.read_bytes()
    # An older file: no warcinfo member at the start.
    path.write_bytes(data[data.index(b"\x1f\x8b\x08", 3) :])
    with path.open("rb") as handle:
        assert next(iter(ArchiveIterator(handle))).rec_type == "response"
    assert [p.final_url for p in iter_pages(path)] == [
        "http://127.0.0.1/col/1",
        "http://127.0.0.1/col/2",
    ]
    index = index_file(str(path))
    assert index.damage is None and len(index.entries) == 2


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


def test_every_record_passes_warcios_digest_check(tmp_path: Path) -> None:
    # The records are written by the store itself, not by warcio's writer: warcio, reading
    # with its digest check on, must find both SHA-1 digests of each record right.
    odd = FetchedPage(
        url="http://127.0.0.1/feed",
        final_url="http://127.0.0.1/feed",
        status=200,
        headers=[("Content-Disposition", 'attachment; filename="café.xml"')],
        body="<rss><title>Café</title></rss>".encode(),
        fetched_at=T0,
        request_headers=[("User-Agent", "opinion-scraper/0.1.0")],
        purpose="discovery",
    )
    with WarcStore(tmp_path) as store:
        store.append(_page(1))
        store.append(odd)
        store.append(_page(2, status=304))
    (path,) = tmp_path.glob("*.warc.gz")
    checked = []
    with path.open("rb") as handle:
        for record in ArchiveIterator(handle, check_digests=True):
            record.content_stream().read()
            checked.append((record.rec_type, record.digest_checker.passed))
            digests = [
                record.rec_headers.get_header(f"WARC-{k}-Digest") for k in ("Block", "Payload")
            ]
            assert all(d is None or d.startswith("sha1:") for d in digests)
    assert checked == [("warcinfo", True)] + [("response", True), ("request", True)] * 3
    assert [p.purpose for p in iter_pages(path)] == ["page", "discovery", "page"]
    assert next(p for p in iter_pages(path) if p.purpose == "discovery").body == odd.body
