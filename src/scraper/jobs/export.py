"""Saved records as one stream for other tools: JSON Lines, CSV or Parquet.

A record's ``date`` is kept as the page gave it (a date, a local time, or a time with an
offset), which a reader cannot type as one column. Each row adds two typed columns:
``published_date`` (the calendar date the page states, ISO ``YYYY-MM-DD``) and
``published_at`` (the instant in UTC, ``...Z``, only when the page gave a time and an
offset: a time zone is never invented). ``fetched_at`` is always UTC. DuckDB reads
these as DATE and TIMESTAMP WITH TIME ZONE, Parquet stores them typed.

Rows are written as they are read: memory does not grow with the number of records.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from typing import IO, Any, Literal

from cleaner import Article
from cleaner.dates import parse_iso_date
from scraper.errors import ScraperError
from scraper.store.records import safe_component

Format = Literal["jsonl", "csv", "parquet"]
FORMATS: tuple[Format, ...] = ("jsonl", "csv", "parquet")
ADDED = ("published_date", "published_at")
# Parquet row groups: big enough for fast scans, small enough to keep memory flat.
_BATCH = 1000


class ParquetUnavailable(ScraperError):
    """Parquet output needs pyarrow, an optional extra."""

    def __init__(self) -> None:
        super().__init__(
            "--format parquet needs pyarrow: pip install 'opinion-scraper[parquet]' "
            "(or use --format jsonl or csv)"
        )


def columns() -> list[str]:
    """The columns of every row, in order: the record's fields, then the typed dates."""
    return [*Article.model_fields, *ADDED]


def _utc(value: str | None) -> str | None:
    """An ISO datetime with an offset as UTC ``...Z``; None for anything else."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        return None
    return parsed.astimezone(UTC).isoformat().replace("+00:00", "Z")


def to_row(record: dict[str, Any]) -> dict[str, Any]:
    """One saved record as an export row: every column present, dates normalized."""
    # Every column in every row (a record saved before a field existed has it as null).
    row = {name: record.get(name) for name in Article.model_fields}
    published_date: str | None = None
    published_at: str | None = None
    if isinstance(record.get("date"), str):
        try:
            published = parse_iso_date(record["date"])
        except ValueError:
            published = None
        if isinstance(published, datetime):
            published_date = published.date().isoformat()
            published_at = _utc(record["date"])
        elif isinstance(published, dt.date):
            published_date = published.isoformat()
    if isinstance(row.get("fetched_at"), str):
        row["fetched_at"] = _utc(row["fetched_at"]) or row["fetched_at"]
    row["published_date"] = published_date
    row["published_at"] = published_at
    return row


def keep(row: dict[str, Any], since: dt.date | None, sources: set[str] | None) -> bool:
    """Whether ``row`` passes --since (published on or after) and --source (publisher
    names as `safe_component` folds them)."""
    if sources is not None and safe_component(str(row.get("source", ""))) not in sources:
        return False
    if since is None:
        return True
    published = row.get("published_date")
    return published is not None and dt.date.fromisoformat(published) >= since


def write_jsonl(rows: Iterable[dict[str, Any]], out: IO[str]) -> int:
    count = 0
    for row in rows:
        out.write(json.dumps(row, ensure_ascii=False) + "\n")
        count += 1
    return count


def write_csv(rows: Iterable[dict[str, Any]], out: IO[str]) -> int:
    """CSV with a header; lists (authors) as JSON arrays, so nothing is lost."""
    writer = csv.DictWriter(out, fieldnames=columns())
    writer.writeheader()
    count = 0
    for row in rows:
        writer.writerow(
            {
                k: json.dumps(v, ensure_ascii=False) if isinstance(v, list | dict) else v
                for k, v in row.items()
            }
        )
        count += 1
    return count


def _arrow_type(name: str) -> Any:
    import pyarrow as pa

    if name in ("fetched_at", "published_at"):
        return pa.timestamp("us", tz="UTC")
    if name == "published_date":
        return pa.date32()
    annotation = str(Article.model_fields[name].annotation) if name in Article.model_fields else ""
    if "list" in annotation:
        return pa.list_(pa.string())
    if "bool" in annotation:
        return pa.bool_()
    return pa.string()


def _arrow_value(name: str, value: Any) -> Any:
    if value is None:
        return None
    if name in ("fetched_at", "published_at"):
        return datetime.fromisoformat(value)
    if name == "published_date":
        return dt.date.fromisoformat(value)
    return value


def write_parquet(rows: Iterable[dict[str, Any]], out: IO[bytes]) -> int:
    """Parquet with typed columns, written a row group at a time."""
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise ParquetUnavailable() from None
    names = columns()
    schema = pa.schema([(name, _arrow_type(name)) for name in names])
    count = 0
    with pq.ParquetWriter(out, schema) as writer:
        for batch in _batches(rows, _BATCH):
            data = {name: [_arrow_value(name, row.get(name)) for row in batch] for name in names}
            writer.write_table(pa.table(data, schema=schema))
            count += len(batch)
    return count


def _batches(rows: Iterable[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def check_format(fmt: Format) -> None:
    """Fail early, before any output, when the format's library is missing."""
    if fmt == "parquet":
        try:
            import pyarrow.parquet  # noqa: F401
        except ImportError:
            raise ParquetUnavailable() from None


WRITERS: dict[Format, Callable[[Iterable[dict[str, Any]], Any], int]] = {
    "jsonl": write_jsonl,
    "csv": write_csv,
    "parquet": write_parquet,
}
