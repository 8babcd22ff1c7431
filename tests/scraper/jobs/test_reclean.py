"""`scraper reclean` in-process: real WARC files from `WarcStore`, real cleaner, real disk."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable, Iterator, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

import pytest

from cleaner import extract
from scraper.jobs.reclean import reclean
from scraper.jobs.reclean_tasks import index_file
from scraper.store.lock import RunLock
from scraper.store.records import to_json
from tests.conftest import run_scraper
from tests.scraper.warc_pages import T0, article_html, mixed_store, page, tree, write_store

T = TypeVar("T")
COURIER = "https://lakeside-courier.example/opinion"


def _expected_article(url: str, body: bytes, at: Any = T0) -> str:
    headers = {"Content-Type": "text/html; charset=utf-8", "Server": "test"}
    return to_json(extract(body, url=url, fetched_at=at, headers=headers))


def _records(data_dir: Path, folder: str) -> dict[str, dict[str, Any]]:
    """Saved records under ``folder`` by URL."""
    found = {}
    for path in (data_dir / folder).rglob("*.json"):
        record = json.loads(path.read_text(encoding="utf-8"))
        found[record["url"]] = record
    return found


def test_rebuilds_clean_and_rejects_from_raw(workdir: Path) -> None:
    store = mixed_store(workdir / "data" / "raw")

    result = run_scraper("reclean", cwd=workdir)

    assert result.returncode == 0, result.stderr
    articles = _records(workdir / "data", "clean")
    assert sorted(articles) == sorted(store.articles)
    first = f"{COURIER}/column-0"
    path = next((workdir / "data" / "clean").rglob(f"{articles[first]['id']}.json"))
    assert path.read_text(encoding="utf-8") == _expected_article(first, article_html(0))
    assert path.parent.name == "the-lakeside-courier"
    column = articles["https://qoshe.com/riverside-gazette/columnist/night-buses-2"]
    assert column["aggregator"] == "QOSHE" and column["truncated"] is True
    rejects = {url: r["reason"] for url, r in _records(workdir / "data", "rejects").items()}
    assert rejects == store.rejects
    assert "records read: 28 responses in 3 WARC files" in result.stdout
    assert f"articles: {len(store.articles)}" in result.stdout
    assert "rejects: 4 (blocked 1, empty_body 1, http_error 1, not_html 1)" in result.stdout
    assert "errors: 0, damaged files: 0" in result.stdout
    assert "pages/s (in-process)" in result.stdout
    assert "reclean: cleaning: 28/28 (100 %)" in result.stderr  # plain progress off a terminal
    assert not list(workdir.rglob("*.tmp"))

    again = run_scraper("reclean", cwd=workdir)

    assert again.returncode == 0, again.stderr
    assert "files written: 0, unchanged: 28, stale removed: 0" in again.stdout


def test_latest_fetch_of_a_url_wins(tmp_path: Path) -> None:
    raw, data = tmp_path / "raw", tmp_path / "data"
    kept, same_second, gone = f"{COURIER}/kept", f"{COURIER}/tie", f"{COURIER}/removed"
    hour = timedelta(hours=1)
    # File a: old versions. File b (later in path order): newer ones, a 304 re-check and a
    # 503 that must not erase the good version, and a 404 that must.
    write_store(
        raw / "a",
        [
            page(kept + "?utm_source=feed", article_html(1, version=2), at=T0 + hour),
            page(same_second, article_html(2, version=1), at=T0),
            page(gone, article_html(3, version=1), at=T0),
            page(kept, article_html(1, version=1), at=T0),
        ],
    )
    write_store(
        raw / "b",
        [
            page(kept, b"", at=T0 + 2 * hour, status=304),
            page(kept, b"busy", at=T0 + 3 * hour, status=503),
            page(same_second, article_html(2, version=2), at=T0),
            page(gone, b"not found", at=T0 + hour, status=404),
        ],
    )

    summary = reclean(raw, data)

    assert summary.records == 8 and summary.superseded == 5 and summary.cleaned == 3
    articles = _records(data, "clean")
    assert sorted(articles) == [kept, same_second]
    assert articles[kept]["title"].endswith("take 2)")
    assert articles[same_second]["title"].endswith("take 2)")
    rejects = _records(data, "rejects")
    assert list(rejects) == [gone]
    assert rejects[gone]["reason"] == "http_error" and rejects[gone]["status"] == 404


class _Reversed:
    """Runs tasks last-first, one record per task: a different split and arrival order."""

    workers = 7

    def map_unordered(
        self, function: Callable[..., T], calls: Sequence[tuple[Any, ...]]
    ) -> Iterator[tuple[int, T | BaseException]]:
        for number in reversed(range(len(calls))):
            yield number, function(*calls[number])


def test_output_is_the_same_however_the_work_is_split(tmp_path: Path) -> None:
    store = mixed_store(tmp_path / "raw", articles=12)
    # Two fetches of two URLs that land in one record: a tracking parameter and a plain URL.
    write_store(
        tmp_path / "raw" / "part-9",
        [page(f"{COURIER}/column-0?utm_medium=x", article_html(0, version=9), at=T0)],
    )

    whole = reclean(store.raw, tmp_path / "one")
    split = reclean(store.raw, tmp_path / "many", executor=_Reversed(), batch_size=1)

    assert tree(tmp_path / "one") == tree(tmp_path / "many")
    assert whole.articles == split.articles == 12
    assert whole.rejects == split.rejects


def test_same_page_cleaned_many_times_gives_the_same_record(tmp_path: Path) -> None:
    # A cleaner that remembers earlier pages (trafilatura's dedup cache did) would make the
    # output depend on which pages one worker saw before: every copy must come out whole.
    body = article_html(5)
    urls = [f"{COURIER}/copy-{number}" for number in range(6)]
    write_store(tmp_path / "raw", [page(url, body) for url in urls])

    summary = reclean(tmp_path / "raw", tmp_path / "data")

    assert summary.articles == 6, summary.rejects
    bodies = {record["body"] for record in _records(tmp_path / "data", "clean").values()}
    assert len(bodies) == 1 and "column 5 version 1" in bodies.pop()


def test_truncated_tail_is_reported_not_a_crash(workdir: Path) -> None:
    raw = workdir / "data" / "raw"
    urls = [f"{COURIER}/column-{number}" for number in range(5)]
    file = write_store(raw / "a", [page(url, article_html(n)) for n, url in enumerate(urls)])
    data = file.read_bytes()
    file.write_bytes(data[: len(data) - 700])  # a crash in the middle of the last record

    result = run_scraper("reclean", cwd=workdir)

    assert result.returncode == 0, result.stderr
    assert sorted(_records(workdir / "data", "clean")) == urls[:4]
    assert "scraper: warning:" in result.stderr and "truncated tail" in result.stderr
    assert "damaged files: 1" in result.stdout


def test_corrupt_middle_and_unreadable_file_give_partial(workdir: Path) -> None:
    raw = workdir / "data" / "raw"
    urls = [f"{COURIER}/column-{number}" for number in range(6)]
    file = write_store(raw / "a", [page(url, article_html(n)) for n, url in enumerate(urls)])
    offsets = {entry.url: entry.offset for entry in index_file(str(file)).entries}
    data = bytearray(file.read_bytes())
    damaged = offsets[urls[2]] + 200  # inside the compressed body of the third response
    data[damaged : damaged + 40] = b"\x00" * 40
    file.write_bytes(bytes(data))
    (raw / "b").mkdir()
    (raw / "b" / "junk.warc.gz").write_bytes(b"this is not a WARC file at all\n" * 10)

    result = run_scraper("reclean", cwd=workdir)

    assert result.returncode == 11, result.stderr
    saved = sorted(_records(workdir / "data", "clean"))
    assert saved == urls[:2] + urls[3:], "only the damaged record is lost"
    assert "junk.warc.gz: unreadable" in result.stderr
    assert "damaged records skipped: unreadable from byte" in result.stderr
    assert "WARNING" not in result.stderr, "warcio's own chatter is not shown"


def test_prune_removes_stale_records_but_keeps_fetch_failures(workdir: Path) -> None:
    data = workdir / "data"
    store = mixed_store(data / "raw", articles=3)
    stale = data / "clean" / "old-source" / "0123456789abcdef.json"
    failure = data / "rejects" / "elsewhere.example" / "fedcba9876543210.json"
    decided = data / "rejects" / "lakeside-courier.example" / "aaaaaaaaaaaaaaaa.json"
    for path, text in (
        (stale, "{}"),
        (failure, json.dumps({"url": "https://elsewhere.example/x", "reason": "timeout"})),
        (decided, json.dumps({"url": f"{COURIER}/column-0", "reason": "network_error"})),
    ):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")

    subset = run_scraper("reclean", "data/raw/part-0", cwd=workdir)

    assert subset.returncode == 0, subset.stderr
    assert stale.exists() and decided.exists(), "a part of the store never prunes by default"

    whole = run_scraper("reclean", cwd=workdir)

    assert whole.returncode == 0, whole.stderr
    assert not stale.exists() and not stale.parent.exists()
    assert not decided.exists(), "its URL has a stored response now"
    assert failure.exists(), "a timeout stored no response: nothing in raw can replace it"
    assert "stale removed: 2" in whole.stdout
    assert len(_records(data, "clean")) == len(store.articles)


def test_refuses_to_start_while_a_run_holds_the_lock(workdir: Path) -> None:
    mixed_store(workdir / "data" / "raw", articles=1)

    with RunLock(workdir / "data" / "run.lock"):
        result = run_scraper("reclean", cwd=workdir)

    assert result.returncode == 12, result.stderr
    assert "another run holds" in result.stderr
    assert not (workdir / "data" / "clean").exists()


def test_output_write_error_exits_10(workdir: Path) -> None:
    mixed_store(workdir / "data" / "raw", articles=2)
    (workdir / "data" / "clean").write_text("a file where the folder should be")

    result = run_scraper("reclean", cwd=workdir)

    assert result.returncode == 10
    assert "scraper: error: cannot write" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--cluster", "sometimes"], "expected local, local:N or a scheduler address"),
        (["--cluster", "local:0"], "local needs 1 to 256 workers"),
        (["missing/raw"], "no such file or folder"),
    ],
)
def test_usage_errors_exit_2(workdir: Path, args: list[str], message: str) -> None:
    mixed_store(workdir / "data" / "raw", articles=1)

    result = run_scraper("reclean", *args, cwd=workdir)

    assert result.returncode == 2, result.stderr
    assert message in result.stderr
    assert not (workdir / "data" / "clean").exists()


def test_cluster_without_dask_installed_exits_2(workdir: Path) -> None:
    mixed_store(workdir / "data" / "raw", articles=1)
    # The default install has no Dask: hide it from this interpreter as if it were absent.
    hide = (
        "import sys; sys.modules['dask'] = None; sys.modules['distributed'] = None; "
        "sys.argv = ['scraper', 'reclean', '--cluster', 'local:2']; "
        "from scraper.commands.app import main; main()"
    )

    result = subprocess.run(
        [sys.executable, "-c", hide],
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 2, result.stderr
    assert "--cluster needs Dask: pip install 'opinion-scraper[dask]'" in result.stderr
