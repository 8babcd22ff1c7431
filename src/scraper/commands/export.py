"""`scraper export`: the saved records as JSON Lines, CSV or Parquet, for other tools."""

from __future__ import annotations

import datetime as dt
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import typer

from scraper.commands.app import Options, app, fail, shared
from scraper.commands.exitcodes import ExitCode
from scraper.errors import StorageError
from scraper.jobs.export import WRITERS, Format, ParquetUnavailable, check_format, keep, to_row
from scraper.store.records import iter_records, open_atomic, safe_component


def _since(value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value[:10])
    except ValueError:
        fail(ExitCode.USAGE, f"--since {value!r}: expected a date, such as 2026-11-01")


@app.command()
@shared("logging", "settings")
def export(
    fmt: Annotated[
        Format, typer.Option("--format", "-f", help="jsonl, csv or parquet (needs pyarrow).")
    ] = "jsonl",
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Write to this file instead of stdout ('-')."),
    ] = None,
    since: Annotated[
        str | None,
        typer.Option(
            "--since",
            metavar="DATE",
            help="Only records published on or after DATE (YYYY-MM-DD); undated ones are left out.",
        ),
    ] = None,
    source: Annotated[
        list[str] | None,
        typer.Option(
            "--source",
            metavar="NAME",
            help="Only this publisher: its name or its folder under data/clean/ (repeatable).",
        ),
    ] = None,
    *,
    options: Options,
) -> None:
    """Write the records under data/clean/ as one stream: JSON Lines (the default, to
    stdout, one record a line), CSV or Parquet.

    Each row is the record plus two typed columns: published_date (the date the page
    states) and published_at (the instant in UTC, when the page gave a time and an
    offset); fetched_at is UTC. Rows stream: memory stays flat however many records.
    A file given with -o appears only when the export is complete.

    Exit codes: 0 ok, 2 bad option or pyarrow missing for parquet, 10 cannot write,
    11 some record files could not be read (the rest was exported).
    """
    settings = options.settings()
    since_date = _since(since)
    # A publisher by its name or by its folder's: "The Lakeside Courier", the-lakeside-courier.
    wanted = {safe_component(name) for name in source} if source else None
    unreadable: list[str] = []
    reporter = options.reporter()

    def skipped(path: Path, reason: str) -> None:
        unreadable.append(str(path))
        reporter.event("unreadable_record", level="warning", path=str(path), error=reason)

    def rows() -> Any:
        for record in iter_records(settings.data_dir, on_error=skipped):
            row = to_row(record)
            if keep(row, since_date, wanted):
                yield row

    started = time.monotonic()
    writer = WRITERS[fmt]
    to_stdout = output is None or str(output) == "-"
    try:
        check_format(fmt)
        if to_stdout:
            if fmt == "parquet" and sys.stdout.isatty():
                fail(ExitCode.USAGE, "Parquet is binary: give -o FILE, or pipe it")
            stream = sys.stdout.buffer if fmt == "parquet" else sys.stdout
            count = writer(rows(), stream)
            stream.flush()
        else:
            assert output is not None
            with open_atomic(output, binary=fmt == "parquet") as handle:
                count = writer(rows(), handle)
    except ParquetUnavailable as exc:
        fail(ExitCode.USAGE, str(exc))
    except StorageError as exc:
        fail(ExitCode.OUTPUT, str(exc))
    counts = {
        "records": count,
        "format": fmt,
        "unreadable": len(unreadable),
        "seconds": round(time.monotonic() - started, 2),
    }
    options.summary("export", counts)
    if unreadable:
        raise typer.Exit(int(ExitCode.PARTIAL))
