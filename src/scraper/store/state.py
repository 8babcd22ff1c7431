"""The run state in one SQLite file: URLs seen (with ETags and content hashes) and runs.

WAL mode, so readers (a report, a second run checking the log) never block the one
writer; every method commits at once, so a killed run loses nothing it reported.
Timestamps are ISO 8601 UTC strings, which sort as time does.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import sqlite3
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, NamedTuple, Self

from scraper.errors import StorageError

SCHEMA_VERSION = 2  # 2: the fingerprints of saved records (near-duplicates)
_DAMAGED = frozenset({sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB})

_SCHEMA = """
CREATE TABLE IF NOT EXISTS urls (
    url TEXT PRIMARY KEY,          -- canonical URL
    source TEXT,
    first_seen TEXT NOT NULL,
    last_seen TEXT NOT NULL,
    etag TEXT,
    last_modified TEXT,
    content_hash TEXT,
    record_id TEXT,
    record_path TEXT,
    last_status INTEGER,
    last_error TEXT,
    fetch_count INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    status TEXT NOT NULL,
    counts TEXT NOT NULL DEFAULT '{}',  -- JSON object
    pid INTEGER
);
CREATE INDEX IF NOT EXISTS urls_source ON urls (source);
CREATE TABLE IF NOT EXISTS fingerprints (
    record_id TEXT PRIMARY KEY,
    record_path TEXT NOT NULL,
    body INTEGER NOT NULL,         -- SimHash of the body (signed 64-bit)
    lead INTEGER NOT NULL,         -- SimHash of its opening words
    rank INTEGER NOT NULL,         -- how likely the original: higher wins (duplicates.py)
    truncated INTEGER NOT NULL,
    duplicate_of TEXT
);
CREATE TABLE IF NOT EXISTS fingerprint_bands (
    kind INTEGER NOT NULL,         -- 0 body, 1 lead
    band INTEGER NOT NULL,
    value INTEGER NOT NULL,
    record_id TEXT NOT NULL,
    PRIMARY KEY (kind, band, value, record_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS fingerprints_duplicate_of ON fingerprints (duplicate_of);
"""
_SEEN = "INSERT INTO urls (url, source, first_seen, last_seen)"
_SEEN_AGAIN = (
    "ON CONFLICT (url) DO UPDATE SET last_seen = excluded.last_seen,"
    " source = coalesce(excluded.source, urls.source)"
)
# A fingerprint cut into bands: two within k bits of each other agree on at least one of
# k + 1 bands (pigeonhole), so a lookup reads a few index entries, never the whole table.
_BANDS = (0, 11, 22, 33, 44, 54, 64)  # 6 bands: finds every pair within 5 bits
_FINGERPRINT_COLUMNS = (
    "fingerprints.rowid, record_id, record_path, body, lead, rank, truncated, duplicate_of"
)


def _iso(when: datetime) -> str:
    if when.tzinfo is None:
        raise ValueError("state timestamps must be time-zone aware")
    return when.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class RunRow:
    """One row of the run log."""

    id: int
    started_at: str
    finished_at: str | None
    status: str
    counts: dict[str, Any]
    pid: int | None


class StateDB:
    """The state database at ``path`` (created on first use); use as a context manager."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(path, timeout=30, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")  # durable enough with WAL, far faster
            self._db.create_function("bit_distance", 2, _bit_distance, deterministic=True)
            self._migrate()
        except sqlite3.Error as exc:
            raise self._error(exc, "open") from exc

    def _migrate(self) -> None:
        version = self._db.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise StorageError(
                f"{self.path} has schema version {version}; this scraper knows {SCHEMA_VERSION}"
            )
        if version < SCHEMA_VERSION:
            # One script, one transaction: a second process creating it too waits, then no-ops.
            self._db.executescript(
                f"BEGIN IMMEDIATE; {_SCHEMA} PRAGMA user_version = {SCHEMA_VERSION}; COMMIT;"
            )

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        self._db.close()

    def _error(self, exc: sqlite3.Error, doing: str) -> StorageError:
        """The one-line error for a failed database call, with the way out when damaged."""
        if (getattr(exc, "sqlite_errorcode", 0) or 0) & 0xFF in _DAMAGED:  # extended codes too
            return StorageError(
                f"state database {self.path} is damaged ({exc}). Move it aside (keep it for "
                "`sqlite3 state.sqlite .recover` if you want its history) and run again: "
                "records and raw pages are kept, and the next run rebuilds the state"
            )
        return StorageError(f"cannot {doing} state database {self.path}: {exc}")

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[None]:
        """Statements that commit together (or not at all); a failure is a StorageError.
        Inside `batch`, they commit with the batch."""
        try:
            if self._db.in_transaction:
                yield
                return
            with self._db:
                self._db.execute("BEGIN")
                yield
        except sqlite3.Error as exc:
            raise self._error(exc, "write") from exc

    def batch(self) -> contextlib.AbstractContextManager[None]:
        """Every write in the block in one transaction: what one page's outcome changes
        (its fingerprint, its URL's row) costs one commit, not one a statement."""
        return self._transaction()

    def _write(self, sql: str, params: tuple[Any, ...]) -> sqlite3.Cursor:
        try:
            return self._db.execute(sql, params)
        except sqlite3.Error as exc:
            raise self._error(exc, "write") from exc

    def _read(self, sql: str, params: tuple[Any, ...]) -> tuple[list[tuple[Any, ...]], list[str]]:
        """The rows of a query and its column names; a damaged page is a StorageError."""
        try:
            cursor = self._db.execute(sql, params)
            return cursor.fetchall(), [column[0] for column in cursor.description or ()]
        except sqlite3.Error as exc:
            raise self._error(exc, "read") from exc

    # URLs

    def is_known(self, url: str) -> bool:
        """True once ``url`` has been marked seen."""
        rows, _ = self._read("SELECT 1 FROM urls WHERE url = ?", (url,))
        return bool(rows)

    def mark_seen(self, url: str, source: str | None, when: datetime) -> bool:
        """Note that discovery saw ``url``; True when it is new."""
        stamp = _iso(when)
        new = not self.is_known(url)  # one writer, so nothing slips in between
        self._write(f"{_SEEN} VALUES (?, ?, ?, ?) {_SEEN_AGAIN}", (url, source, stamp, stamp))
        return new

    def mark_all_seen(self, urls: Iterable[tuple[str, str | None]], when: datetime) -> None:
        """`mark_seen` for every (url, source), in one transaction: a run's 10,000 links
        cost one commit, not 20,000 statements each its own, before the first fetch."""
        stamp = _iso(when)
        with self._transaction():
            self._db.executemany(
                f"{_SEEN} VALUES (?, ?, ?, ?) {_SEEN_AGAIN}",
                ((url, source, stamp, stamp) for url, source in urls),
            )

    def conditional(self, url: str) -> tuple[str | None, str | None] | None:
        """(ETag, Last-Modified) to send back for ``url``, or None when we have neither."""
        rows, _ = self._read("SELECT etag, last_modified FROM urls WHERE url = ?", (url,))
        if not rows or (rows[0][0] is None and rows[0][1] is None):
            return None
        return (rows[0][0], rows[0][1])

    def record_fetch(
        self,
        url: str,
        status: int,
        etag: str | None,
        last_modified: str | None,
        when: datetime,
    ) -> None:
        """Note one fetch of ``url``; a 304 keeps the validators already stored."""
        stamp = _iso(when)
        keep = status == 304
        self._write(
            "INSERT INTO urls (url, first_seen, last_seen, etag, last_modified, last_status,"
            " fetch_count) VALUES (?, ?, ?, ?, ?, ?, 1) "
            "ON CONFLICT (url) DO UPDATE SET last_seen = excluded.last_seen,"
            " last_status = excluded.last_status, fetch_count = urls.fetch_count + 1,"
            " last_error = NULL,"
            " etag = CASE WHEN ? THEN coalesce(excluded.etag, urls.etag) ELSE excluded.etag END,"
            " last_modified = CASE WHEN ? THEN coalesce(excluded.last_modified,"
            " urls.last_modified) ELSE excluded.last_modified END",
            (url, stamp, stamp, etag, last_modified, status, keep, keep),
        )

    def record_result(
        self, url: str, content_hash: str, record_id: str | None, record_path: str | None
    ) -> None:
        """Note what the last fetch of ``url`` produced (a saved record, or a reject)."""
        self._write(
            "UPDATE urls SET content_hash = ?, record_id = ?, record_path = ? WHERE url = ?",
            (content_hash, record_id, record_path, url),
        )

    def record_error(self, url: str, error_text: str, status: int | None = None) -> None:
        """Note why the last fetch of ``url`` failed (kept until a fetch succeeds)."""
        self._write(
            "UPDATE urls SET last_error = ?, last_status = coalesce(?, last_status) WHERE url = ?",
            (error_text, status, url),
        )

    def content_hash(self, url: str) -> str | None:
        """The hash recorded for ``url``'s last result, if any."""
        rows, _ = self._read("SELECT content_hash FROM urls WHERE url = ?", (url,))
        return rows[0][0] if rows else None

    def url_row(self, url: str) -> dict[str, Any] | None:
        """Every column of ``url``'s row, for reports and tests."""
        rows, columns = self._read("SELECT * FROM urls WHERE url = ?", (url,))
        return dict(zip(columns, rows[0], strict=True)) if rows else None

    # Fingerprints of saved records

    def near_originals(
        self, body: int, lead: int, truncated: bool, body_bits: int, lead_bits: int
    ) -> list[FingerprintRow]:
        """The originals of the records near a fingerprint: of each record whose body is
        within ``body_bits`` of ``body``, or (when either is truncated) whose lead is within
        ``lead_bits`` of ``lead``, the record it duplicates, or itself when it duplicates
        none (or one no longer indexed).

        One row per original, however many copies of it match: the distances are measured
        and the copies folded into their original inside SQLite, and a copy identical to
        its original has no band keys to read (`save_fingerprint`), so saving the
        hundredth copy of an article reads what saving the second did.
        """
        selects, params = [], []
        # (kind, its column, fingerprint, bits, a condition on the match with its parameter)
        for kind, column, value, bits, only, flag in (
            (0, "body", body, body_bits, "1", ()),
            (1, "lead", lead, lead_bits, "(f.truncated OR ?)", (truncated,)),
        ):
            keys = band_keys(value)
            # One indexed equality per band: an OR of (band, value) pairs makes SQLite read
            # every band row of the kind, the whole index, on every lookup.
            hits = " UNION ".join(
                "SELECT record_id FROM fingerprint_bands WHERE kind = ? AND band = ? AND value = ?"
                for _ in keys
            )
            selects.append(
                f"SELECT coalesce(o.record_id, f.record_id) FROM ({hits})"
                " JOIN fingerprints f USING (record_id)"
                " LEFT JOIN fingerprints o ON o.record_id = f.duplicate_of"
                f" WHERE {only} AND bit_distance(f.{column}, ?) <= ?"
            )
            params += [*(item for key in keys for item in (kind, *key)), *flag]
            params += [_signed(value), bits]
        rows, _ = self._read(
            f"SELECT {_FINGERPRINT_COLUMNS} FROM fingerprints WHERE record_id IN"
            f" ({' UNION '.join(selects)})",
            tuple(params),
        )
        return [_fingerprint_row(row) for row in rows]

    def fingerprint_row(self, record_id: str) -> FingerprintRow | None:
        rows, _ = self._read(
            f"SELECT {_FINGERPRINT_COLUMNS} FROM fingerprints WHERE record_id = ?", (record_id,)
        )
        return _fingerprint_row(rows[0]) if rows else None

    def duplicates_of(self, record_id: str) -> list[FingerprintRow]:
        rows, _ = self._read(
            f"SELECT {_FINGERPRINT_COLUMNS} FROM fingerprints WHERE duplicate_of = ?",
            (record_id,),
        )
        return [_fingerprint_row(row) for row in rows]

    def save_fingerprint(self, row: FingerprintRow) -> None:
        """Store (or replace) a record's fingerprint; it keeps its place in saving order.

        One transaction for the row and its band keys: one commit a saved record. A copy
        that holds its original's very fingerprint gets no band keys of that kind: a lookup
        that would find it finds its original, and answers the original either way, so the
        hundredth identical copy of an article adds nothing a lookup has to read.
        """
        with self._transaction():
            old = self._fingerprint_values(row.record_id)
            self._db.execute(
                "INSERT INTO fingerprints (record_id, record_path, body, lead, rank, truncated,"
                " duplicate_of) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (record_id) DO UPDATE"
                " SET record_path = excluded.record_path, body = excluded.body,"
                " lead = excluded.lead, rank = excluded.rank, truncated = excluded.truncated,"
                " duplicate_of = excluded.duplicate_of",
                (
                    row.record_id,
                    row.record_path,
                    _signed(row.body),
                    _signed(row.lead),
                    row.rank,
                    row.truncated,
                    row.duplicate_of,
                ),
            )
            new = _Values(row.body, row.lead, row.truncated, row.duplicate_of)
            if old is not None:
                self._drop_bands(row.record_id, old)
                if old != new:
                    self._restore_copies(row.record_id)
            self._add_bands(row.record_id, new, self._fingerprint_values(row.duplicate_of))

    def set_duplicate_of(self, record_id: str, original: str | None) -> None:
        with self._transaction():
            # Its band keys, and its copies', may have been left out for being its own
            # original's fingerprint: with another original they are needed again.
            self._restore_copies(record_id, itself=True)
            self._db.execute(
                "UPDATE fingerprints SET duplicate_of = ? WHERE record_id = ?",
                (original, record_id),
            )

    def forget_fingerprint(self, record_id: str) -> None:
        with self._transaction():
            old = self._fingerprint_values(record_id)
            if old is None:
                return
            self._restore_copies(record_id)  # they are their own originals now
            self._drop_bands(record_id, old)
            self._db.execute("DELETE FROM fingerprints WHERE record_id = ?", (record_id,))

    def _fingerprint_values(self, record_id: str | None) -> _Values | None:
        if record_id is None:
            return None
        found = self._db.execute(
            "SELECT body, lead, truncated, duplicate_of FROM fingerprints WHERE record_id = ?",
            (record_id,),
        ).fetchone()
        if found is None:
            return None
        return _Values(_unsigned(found[0]), _unsigned(found[1]), bool(found[2]), found[3])

    def _drop_bands(self, record_id: str, values: _Values) -> None:
        # By its keys (the table's primary key), not by record_id, which no index leads with.
        self._db.executemany(
            "DELETE FROM fingerprint_bands WHERE kind = ? AND band = ? AND value = ?"
            " AND record_id = ?",
            ((*key, record_id) for key in _band_rows(values, None)),
        )

    def _add_bands(self, record_id: str, values: _Values, original: _Values | None) -> None:
        self._db.executemany(
            "INSERT OR IGNORE INTO fingerprint_bands VALUES (?, ?, ?, ?)",
            ((*key, record_id) for key in _band_rows(values, original)),
        )

    def _restore_copies(self, record_id: str, *, itself: bool = False) -> None:
        """Every band key of the records that duplicate ``record_id`` (and of it, with
        ``itself``): those left out as their original's are needed once it changes."""
        rows = self._db.execute(
            "SELECT record_id, body, lead, truncated FROM fingerprints WHERE duplicate_of = ?"
            + (" OR record_id = ?" if itself else ""),
            (record_id, record_id) if itself else (record_id,),
        ).fetchall()
        for copy, body, lead, truncated in rows:
            values = _Values(_unsigned(body), _unsigned(lead), bool(truncated), None)
            self._add_bands(copy, values, None)

    # Runs

    def start_run(self, when: datetime) -> int:
        """Open a run in the log; returns its id.

        The caller holds the run lock, so a run still ``running`` in the log is one that
        was killed (the kernel dropped its lock): it is marked ``interrupted`` now, not
        left running forever.
        """
        self._write("UPDATE runs SET status = 'interrupted' WHERE status = 'running'", ())
        cursor = self._write(
            "INSERT INTO runs (started_at, status, pid) VALUES (?, 'running', ?)",
            (_iso(when), os.getpid()),
        )
        run_id = cursor.lastrowid
        if run_id is None:
            raise StorageError(f"cannot start a run in {self.path}")
        return run_id

    def finish_run(
        self, run_id: int, status: str, counts: Mapping[str, object], when: datetime
    ) -> None:
        """Close run ``run_id`` with its final status and counts."""
        cursor = self._write(
            "UPDATE runs SET finished_at = ?, status = ?, counts = ? WHERE id = ?",
            (_iso(when), status, json.dumps(dict(counts), sort_keys=True), run_id),
        )
        if cursor.rowcount != 1:
            raise StorageError(f"no run {run_id} in {self.path}")

    def last_runs(self, n: int = 10) -> list[RunRow]:
        """The ``n`` latest runs, newest first."""
        rows, _ = self._read(
            "SELECT id, started_at, finished_at, status, counts, pid FROM runs "
            "ORDER BY id DESC LIMIT ?",
            (n,),
        )
        return [RunRow(r[0], r[1], r[2], r[3], json.loads(r[4]), r[5]) for r in rows]


@dataclass(frozen=True)
class FingerprintRow:
    """A saved record's fingerprints, as the near-duplicate index holds them."""

    record_id: str
    record_path: str
    body: int
    lead: int
    rank: int
    truncated: bool
    duplicate_of: str | None
    order: int = 0  # when it was first saved, relative to the others


class _Values(NamedTuple):
    """What a record's band keys depend on."""

    body: int
    lead: int
    truncated: bool
    duplicate_of: str | None


def _band_rows(values: _Values, original: _Values | None) -> list[tuple[int, int, int]]:
    """(kind, band, value) of each band key a record needs, given its original's values
    (None: all of them). A kind is left out when the original (itself an original) has the
    same fingerprint and would be matched by every lookup that matches this record: the
    lead of a teaser is matched by lookups the lead of a whole original is not."""
    root = original if original is not None and original.duplicate_of is None else None
    rows = []
    for kind, value in ((0, values.body), (1, values.lead)):
        if root is not None and kind == 0 and root.body == value:
            continue
        if (
            root is not None
            and kind == 1
            and root.lead == value
            and (root.truncated or not values.truncated)
        ):
            continue
        rows += [(kind, band, key) for band, key in band_keys(value)]
    return rows


def _signed(value: int) -> int:
    """An unsigned 64-bit fingerprint as SQLite's signed INTEGER."""
    return value - (1 << 64) if value >= 1 << 63 else value


def _unsigned(value: int) -> int:
    """A fingerprint as SQLite's signed INTEGER holds it, unsigned again."""
    return value & ((1 << 64) - 1)


def _bit_distance(a: int, b: int) -> int:
    """Bits that differ between two fingerprints as SQLite holds them (signed 64-bit)."""
    return _unsigned(a ^ b).bit_count()


def band_keys(value: int) -> list[tuple[int, int]]:
    """(band, value) of each band of a fingerprint: near fingerprints share one."""
    return [
        (band, (value >> low) & ((1 << (high - low)) - 1))
        for band, (low, high) in enumerate(itertools.pairwise(_BANDS))
    ]


def _fingerprint_row(row: tuple[Any, ...]) -> FingerprintRow:
    order, record_id, path, body, lead, rank, truncated, duplicate_of = row
    return FingerprintRow(
        record_id,
        path,
        _unsigned(body),
        _unsigned(lead),
        rank,
        bool(truncated),
        duplicate_of,
        order,
    )
