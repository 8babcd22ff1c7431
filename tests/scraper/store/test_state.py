"""The state database on real SQLite files."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from scraper.errors import StorageError
from scraper.store.state import SCHEMA_VERSION, StateDB

T0 = datetime(2026, 3, 1, 6, 0, tzinfo=UTC)
URL = "https://paper.example/opinion/harbour-walls"


def test_schema_version_and_wal(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite"
    StateDB(path).close()
    with sqlite3.connect(path) as raw:
        assert raw.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    StateDB(path).close()  # opening again keeps what is there


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite"
    with sqlite3.connect(path) as raw:
        raw.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(StorageError, match="schema version"):
        StateDB(path)


def test_a_run_marks_all_its_links_seen_in_one_commit(tmp_path: Path) -> None:
    urls = [f"https://paper.example/opinion/{n}" for n in range(500)]
    with StateDB(tmp_path / "state.sqlite") as state:
        state.mark_seen(urls[0], "harbour-times", T0)
        statements: list[str] = []
        state._db.set_trace_callback(statements.append)
        state.mark_all_seen(((url, None) for url in urls), T0 + timedelta(hours=1))
        state._db.set_trace_callback(None)
        assert [s for s in statements if s in ("BEGIN", "COMMIT")] == ["BEGIN", "COMMIT"]
        assert all(state.is_known(url) for url in urls)
        first = state.url_row(urls[0])
        assert first is not None and first["source"] == "harbour-times"  # kept, as mark_seen
        assert (first["first_seen"], first["last_seen"]) == (
            "2026-03-01T06:00:00Z",
            "2026-03-01T07:00:00Z",
        )


def test_seen_fetch_result_and_conditional(tmp_path: Path) -> None:
    with StateDB(tmp_path / "state.sqlite") as state:
        assert not state.is_known(URL) and state.conditional(URL) is None
        assert state.mark_seen(URL, "harbour-times", T0) is True
        assert state.mark_seen(URL, None, T0 + timedelta(hours=1)) is False
        assert state.is_known(URL) and state.conditional(URL) is None

        state.record_fetch(URL, 200, '"abc"', "Sun, 01 Mar 2026 05:00:00 GMT", T0)
        assert state.conditional(URL) == ('"abc"', "Sun, 01 Mar 2026 05:00:00 GMT")
        # a 304 without validators keeps the stored ones
        state.record_fetch(URL, 304, None, None, T0 + timedelta(days=1))
        assert state.conditional(URL) == ('"abc"', "Sun, 01 Mar 2026 05:00:00 GMT")
        state.record_result(URL, "sha256:0f", "a1b2", "clean/harbour-times/a1b2.json")
        state.record_error(URL, "timeout: no complete response within 60 s")

    with StateDB(tmp_path / "state.sqlite") as again:  # everything was committed
        row = again.url_row(URL)
        assert row is not None
        assert row["source"] == "harbour-times"
        assert row["first_seen"] == "2026-03-01T06:00:00Z"
        assert row["last_seen"] == "2026-03-02T06:00:00Z"
        assert row["fetch_count"] == 2 and row["last_status"] == 304
        assert row["content_hash"] == "sha256:0f" and row["record_id"] == "a1b2"
        assert row["last_error"].startswith("timeout")
        again.record_fetch(URL, 200, None, None, T0 + timedelta(days=2))
        row = again.url_row(URL)
        assert row is not None and row["last_error"] is None, "a success clears the error"
        assert again.conditional(URL) is None, "a 200 without validators forgets old ones"


def test_runs_log(tmp_path: Path) -> None:
    with StateDB(tmp_path / "state.sqlite") as state:
        first = state.start_run(T0)
        state.finish_run(first, "ok", {"new": 3, "failed": 0}, T0 + timedelta(minutes=2))
        second = state.start_run(T0 + timedelta(hours=1))
        runs = state.last_runs(5)
        assert [r.id for r in runs] == [second, first]
        assert runs[0].status == "running" and runs[0].finished_at is None
        assert runs[1].counts == {"failed": 0, "new": 3}
        assert runs[1].finished_at == "2026-03-01T06:02:00Z" and runs[1].pid is not None
        with pytest.raises(StorageError):
            state.finish_run(999, "ok", {}, T0)


def test_naive_timestamps_are_refused(tmp_path: Path) -> None:
    with StateDB(tmp_path / "state.sqlite") as state, pytest.raises(ValueError):
        state.mark_seen(URL, None, datetime(2026, 3, 1))


def test_a_reader_is_not_blocked_by_the_writer(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite"
    with StateDB(path) as writer, StateDB(path) as reader:
        writer.mark_seen(URL, "s", T0)
        writer._db.execute("BEGIN IMMEDIATE")  # a writer mid-transaction
        writer._db.execute("UPDATE urls SET source = 'other'")
        assert reader.url_row(URL) is not None and reader.is_known(URL)
        writer._db.execute("COMMIT")
