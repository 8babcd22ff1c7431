"""A damaged WARC record is told from a crash's cut tail: a record that inflates whole but
will not parse is damage (exit 11, as the README says), wherever it sits in the file;
only a file that ends inside its last record, or in a crash's NUL padding, is a tail."""

from __future__ import annotations

import gzip
import tracemalloc
from pathlib import Path

import pytest

from scraper.jobs.reclean_tasks import index_file
from tests.conftest import run_scraper
from tests.scraper.warc_pages import article_html, page, write_store

COURIER = "https://lakeside-courier.example/opinion"
# Whole gzip members (they inflate to the end) that are no WARC record.
GARBAGE = {
    "binary": b"\x00\x01\x02 binary" * 50,
    "unknown version": b"WARC/9.9\r\nWARC-Type: response\r\nContent-Length: 10\r\n\r\nHTTP/1.1 x",
}


def _store(workdir: Path) -> tuple[Path, list[str], dict[str, int]]:
    urls = [f"{COURIER}/column-{number}" for number in range(5)]
    raw = workdir / "data" / "raw" / "a"
    file = write_store(raw, [page(url, article_html(n)) for n, url in enumerate(urls)])
    offsets = {entry.url: entry.offset for entry in index_file(str(file)).entries}
    return file, urls, offsets


@pytest.mark.parametrize("garbage", GARBAGE.values(), ids=GARBAGE.keys())
def test_a_whole_but_unparsable_last_record_is_damage_not_a_tail(
    workdir: Path, garbage: bytes
) -> None:
    file, urls, offsets = _store(workdir)
    data = file.read_bytes()
    file.write_bytes(data[: offsets[urls[4]]] + gzip.compress(garbage))

    assert index_file(str(file)).damage == "middle"
    result = run_scraper("reclean", cwd=workdir)

    assert result.returncode == 11, (result.stdout, result.stderr)
    assert "damaged records skipped" in result.stderr


def test_a_cut_last_record_and_nul_padding_are_still_a_tail(workdir: Path) -> None:
    file, _, _ = _store(workdir)
    data = file.read_bytes()
    for damaged in (data[: len(data) - 700], data + b"\x00" * 100_000):
        file.write_bytes(damaged)
        assert index_file(str(file)).damage == "tail"
        result = run_scraper("reclean", cwd=workdir)
        assert result.returncode == 0, (result.stdout, result.stderr)
        assert "truncated tail" in result.stderr


def test_nul_padding_and_junk_are_read_in_bounded_memory(workdir: Path) -> None:
    file, _, _ = _store(workdir)
    data = file.read_bytes()
    padding = 5_000_000
    for name, blob in {
        "NUL tail": data + b"\x00" * padding,  # a crash after the file was extended
        "NUL file": b"\x00" * padding,
        "junk file": b"x" * padding,
    }.items():
        file.write_bytes(blob)
        tracemalloc.start()
        try:
            found = index_file(str(file))
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert peak < padding, f"{name}: {peak / 1e6:.0f} MB"  # was ~45x the padding
        assert found.damage == ("tail" if name == "NUL tail" else "unreadable"), name
        assert len(found.entries) == (5 if name == "NUL tail" else 0), name
