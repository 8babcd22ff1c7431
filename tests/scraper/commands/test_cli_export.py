"""`scraper export`: saved records out as JSONL, CSV and Parquet, read back by DuckDB."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from cleaner import Article
from scraper.store.records import save_article
from tests.conftest import SCRAPER, run_scraper

FETCHED = dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=1)))
BODY = "A paragraph long enough to be an article body, about buses and towns.\n\nAnother one."
# The date shapes pages give: with an offset, date only, a local time without one, none.
DATES = {
    "offset": "2025-02-07T23:30:00-02:00",
    "date-only": "2025-03-02",
    "naive": "2025-01-22T18:00:00",
    "undated": None,
}


def _save(data: Path, key: str, date: str | None, source: str = "The Lakeside Courier") -> None:
    article = Article(
        url=f"https://news.example/opinion/{key}",
        title=f"Column {key}",
        date=date,
        body=BODY,
        source=source,
        authors=["Jo Parker", "Sam Okafor"],
        fetched_at=FETCHED,
    )
    save_article(data, article)


@pytest.fixture
def data(workdir: Path) -> Path:
    folder = workdir / "data"
    for key, date in DATES.items():
        _save(folder, key, date)
    _save(folder, "ledger", "2025-03-09", source="Northern Ledger")
    return folder


def _scalar(con: duckdb.DuckDBPyConnection, sql: str) -> object:
    row = con.execute(sql).fetchone()
    assert row is not None
    return row[0]


def _by_title(rows: list[tuple[object, ...]]) -> dict[object, tuple[object, ...]]:
    return {row[0]: row[1:] for row in rows}


def test_jsonl_to_stdout_reads_as_typed_dates_in_duckdb(data: Path, workdir: Path) -> None:
    result = run_scraper("export", cwd=workdir)

    assert result.returncode == 0, result.stderr
    (workdir / "out.jsonl").write_text(result.stdout, encoding="utf-8")
    table = f"read_json('{workdir / 'out.jsonl'}')"
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    types = dict(
        con.execute(f"SELECT column_name, column_type FROM (DESCRIBE FROM {table})").fetchall()
    )
    assert types["published_date"] == "DATE"
    assert types["published_at"] == "TIMESTAMP WITH TIME ZONE"
    assert types["fetched_at"] == "TIMESTAMP WITH TIME ZONE"
    assert types["authors"] == "VARCHAR[]"
    rows = _by_title(
        con.execute(
            f"SELECT title, date, published_date, published_at, fetched_at FROM {table}"
        ).fetchall()
    )
    utc = dt.UTC
    assert rows["Column offset"] == (
        "2025-02-07T23:30:00-02:00",  # the original, untouched
        dt.date(2025, 2, 7),  # the date the page states
        dt.datetime(2025, 2, 8, 1, 30, tzinfo=utc),  # the instant, in UTC
        dt.datetime(2026, 11, 20, 8, 0, tzinfo=utc),
    )
    assert rows["Column date-only"][1:3] == (dt.date(2025, 3, 2), None)
    # No offset on the page: no instant (a time zone is never invented), the date stays.
    assert rows["Column naive"][1:3] == (dt.date(2025, 1, 22), None)
    assert rows["Column undated"][:3] == (None, None, None)
    assert len(rows) == 5


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_csv_and_parquet_files_read_back_typed(data: Path, workdir: Path, fmt: str) -> None:
    result = run_scraper("export", "--format", fmt, "-o", f"out.{fmt}", cwd=workdir)

    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    path = workdir / f"out.{fmt}"
    types = dict(
        con.execute(f"SELECT column_name, column_type FROM (DESCRIBE FROM '{path}')").fetchall()
    )
    assert types["published_date"] == "DATE"
    assert types["published_at"] == "TIMESTAMP WITH TIME ZONE"
    assert _scalar(con, f"SELECT count(*) FROM '{path}' WHERE published_at IS NOT NULL") == 1
    authors = _scalar(con, f"SELECT authors FROM '{path}' LIMIT 1")
    if fmt == "parquet":
        assert authors == ["Jo Parker", "Sam Okafor"]
        schema = pq.read_schema(path)
        assert str(schema.field("published_at").type) == "timestamp[us, tz=UTC]"
        assert str(schema.field("truncated").type) == "bool"
    else:
        assert json.loads(str(authors)) == ["Jo Parker", "Sam Okafor"], "lists kept as JSON"


def test_since_and_source_filters(data: Path, workdir: Path) -> None:
    since = run_scraper("export", "--since", "2025-02-07", cwd=workdir)
    source = run_scraper("export", "--source", "northern-ledger", cwd=workdir)
    both = run_scraper(
        "export", "--source", "The Lakeside Courier", "--since", "2025-03-01", cwd=workdir
    )

    def titles(result: subprocess.CompletedProcess[str]) -> list[str]:
        assert result.returncode == 0, result.stderr
        return sorted(json.loads(line)["title"] for line in result.stdout.splitlines())

    assert titles(since) == ["Column date-only", "Column ledger", "Column offset"]
    assert titles(source) == ["Column ledger"]
    assert titles(both) == ["Column date-only"]
    bad = run_scraper("export", "--since", "last week", cwd=workdir)
    assert bad.returncode == 2 and "expected a date" in bad.stderr


def test_unreadable_record_is_reported_and_the_rest_exported(data: Path, workdir: Path) -> None:
    (data / "clean" / "northern-ledger" / "broken.json").write_text("{not json", "utf-8")

    result = run_scraper("export", "-o", "out.jsonl", cwd=workdir)

    assert result.returncode == 11
    assert "broken.json" in result.stderr
    assert len((workdir / "out.jsonl").read_text("utf-8").splitlines()) == 5


def test_parquet_without_pyarrow_is_a_clear_error(data: Path, workdir: Path) -> None:
    # pyarrow is installed for the tests; hide it as a default install would lack it.
    script = (
        "import sys; sys.modules['pyarrow'] = None; sys.modules['pyarrow.parquet'] = None; "
        "sys.argv = ['scraper', 'export', '-f', 'parquet', '-o', 'out.parquet']; "
        "from scraper.commands.app import main; main()"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=workdir, capture_output=True, text=True, check=False
    )

    assert result.returncode == 2
    assert result.stderr == (
        "scraper: error: --format parquet needs pyarrow: pip install 'opinion-scraper[parquet]' "
        "(or use --format jsonl or csv)\n"
    )
    assert not (workdir / "out.parquet").exists()


def test_export_into_a_closed_pipe_exits_quietly(workdir: Path) -> None:
    data = workdir / "data"
    for index in range(300):  # far more than a pipe buffer holds
        _save(data, f"n{index}", "2025-03-02")

    shell = subprocess.run(
        f"'{SCRAPER}' export | head -n 1; echo \"exit=${{PIPESTATUS[0]}}\"",
        shell=True,
        executable="/bin/bash",
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    lines = shell.stdout.splitlines()
    assert json.loads(lines[0])["title"].startswith("Column n")
    assert lines[-1] == "exit=0"
    assert shell.stderr == ""
