"""The data folder as an unattended run finds it after months: unwritable or not a folder
at all, a damaged state database, leftovers of killed writers, another writer at work.
Each gives a clean one-line error and a documented exit code, or is cleaned up; never a
traceback."""

from __future__ import annotations

import json
import os
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from scraper.store.lock import RunLock
from scraper.store.state import StateDB
from tests.conftest import run_scraper

PROSE = "<p>The harbour board voted to keep the ferry running through the winter.</p>" * 8
PAGE = (
    "<html><head><title>Ferry stays</title></head><body><article><h1>Ferry stays</h1>"
    f"{PROSE}</article></body></html>"
)


def _site(httpserver: HTTPServer, workdir: Path, data_dir: Path | None = None) -> None:
    httpserver.expect_request("/robots.txt").respond_with_data("", status=404)
    httpserver.expect_request("/feed.xml").respond_with_data(
        '<?xml version="1.0"?><rss version="2.0"><channel><title>F</title>'
        f"<item><link>{httpserver.url_for('/ferry')}</link></item></channel></rss>",
        content_type="application/rss+xml",
    )
    httpserver.expect_request("/ferry").respond_with_data(PAGE, content_type="text/html")
    folder = f'data_dir = "{data_dir}"\n' if data_dir is not None else ""
    (workdir / "sources.toml").write_text(
        f"[settings]\nallow_private_addresses = true\n{folder}[settings.politeness]\n"
        f'delay = 0\n[[sources]]\nname = "harbour"\nkind = "feed"\n'
        f'urls = ["{httpserver.url_for("/feed.xml")}"]\n',
        encoding="utf-8",
    )


def _one_line_error(result: object, code: int) -> str:
    assert result.returncode == code, (result.stdout, result.stderr)  # type: ignore[attr-defined]
    stderr: str = result.stderr  # type: ignore[attr-defined]
    assert "Traceback" not in stderr
    errors = [line for line in stderr.splitlines() if line.startswith("scraper: error:")]
    assert len(errors) == 1, stderr
    return errors[0]


def _unwritable(workdir: Path, kind: str) -> Path:
    if kind == "a file":
        target = workdir / "data"
        target.write_text("not a folder\n")
        return target
    if kind == "under a file":
        (workdir / "blocker").write_text("x")
        return workdir / "blocker" / "data"
    if os.geteuid() == 0:
        pytest.skip("root writes into read-only folders")
    target = workdir / "data"
    target.mkdir()
    target.chmod(0o555)
    return target


WRITERS = {
    "run": lambda url, d: ["run", "--data-dir", str(d)],
    "reclean": lambda url, d: ["reclean", "--data-dir", str(d), "."],
    "fetch --save": lambda url, d: ["fetch", url, "--save", "--data-dir", str(d)],
    "fetch-many": lambda url, d: ["fetch-many", "urls.txt", "--data-dir", str(d)],
}


@pytest.mark.parametrize("kind", ["a file", "under a file", "read-only"])
@pytest.mark.parametrize("command", WRITERS)
def test_an_unwritable_data_folder_is_one_line_and_exit_10(
    httpserver: HTTPServer, workdir: Path, kind: str, command: str
) -> None:
    _site(httpserver, workdir)
    (workdir / "urls.txt").write_text(httpserver.url_for("/ferry") + "\n")
    data_dir = _unwritable(workdir, kind)
    args = WRITERS[command](httpserver.url_for("/ferry"), data_dir)

    result = run_scraper(*args, cwd=workdir)

    line = _one_line_error(result, 10)
    assert str(data_dir) in line


def test_a_damaged_state_database_is_one_line_with_the_way_out(
    httpserver: HTTPServer, workdir: Path
) -> None:
    _site(httpserver, workdir)
    assert run_scraper("run", cwd=workdir).returncode == 0
    state = workdir / "data" / "state.sqlite"
    size = state.stat().st_size
    assert size >= 3 * 4096, size
    with state.open("r+b") as handle:  # every page but the header: a disk gone bad
        handle.seek(4096)
        handle.write(bytes(range(256)) * ((size - 4096) // 256))

    result = run_scraper("run", cwd=workdir)

    line = _one_line_error(result, 10)
    assert "damaged" in line and "Move it aside" in line
    state.rename(state.with_suffix(".damaged"))  # what the message says to do
    again = run_scraper("run", cwd=workdir)
    assert again.returncode == 0, again.stderr


def test_fetch_save_takes_the_run_lock_and_writes_nothing_while_another_holds_it(
    httpserver: HTTPServer, workdir: Path
) -> None:
    _site(httpserver, workdir)
    url = httpserver.url_for("/ferry")
    with RunLock(workdir / "data" / "run.lock"):
        held = run_scraper("fetch", url, "--save", cwd=workdir)
        printed = run_scraper("fetch", url, cwd=workdir)  # writes nothing: needs no lock
    assert "another run holds" in _one_line_error(held, 12)
    assert not (workdir / "data" / "clean").exists()
    assert json.loads(printed.stdout)["title"] == "Ferry stays"
    saved = run_scraper("fetch", url, "--save", cwd=workdir)
    assert saved.returncode == 0, saved.stderr
    assert len(list((workdir / "data" / "clean").rglob("*.json"))) == 1


def test_a_killed_writers_temporary_files_go_on_the_next_reclean(
    httpserver: HTTPServer, workdir: Path
) -> None:
    _site(httpserver, workdir)
    assert run_scraper("run", cwd=workdir).returncode == 0
    (record,) = (workdir / "data" / "clean").rglob("*.json")
    leftover = record.parent / f".{record.name}.0123456789ab.tmp"  # write_atomic's naming
    leftover.write_text('{"half": ')

    result = run_scraper("reclean", cwd=workdir)

    assert result.returncode == 0, result.stderr
    assert not leftover.exists()
    assert json.loads(record.read_text())["title"] == "Ferry stays"


def test_a_killed_run_is_marked_interrupted_when_the_next_run_takes_the_lock(
    httpserver: HTTPServer, workdir: Path
) -> None:
    _site(httpserver, workdir)
    data = workdir / "data"
    with StateDB(data / "state.sqlite") as state:  # what a SIGKILLed run leaves behind
        killed = state.start_run(datetime(2026, 11, 1, tzinfo=UTC))

    result = run_scraper("run", cwd=workdir)

    assert result.returncode == 0, result.stderr
    with sqlite3.connect(data / "state.sqlite") as db:
        statuses = dict(db.execute("SELECT id, status FROM runs").fetchall())
    assert statuses[killed] == "interrupted"
    assert list(statuses.values()).count("running") == 0
