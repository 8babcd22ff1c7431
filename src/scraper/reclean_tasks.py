"""The two tasks of `scraper reclean`, pure functions of a WARC file path, run in any process.

`index_file` reads the headers of every response in one file (no cleaning); `clean_batch`
cleans the responses at given offsets and returns records as JSON text. Both are plain
top-level functions over picklable arguments and results, so a Dask worker runs them as
they are, and a task retried on another worker gives the same answer.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed

from cleaner import ExtractionError, Reject, extract
from scraper.errors import FetchError
from scraper.http import check_article_response
from scraper.rawstore import page_from_record
from scraper.storage import clean_path, reject_path, to_json

_PATTERNS = ("*.warc.gz", "*.warc")
_GZIP_MAGIC = b"\x1f\x8b\x08"
_READ_ERRORS = (ArchiveLoadFailed, EOFError, OSError, ValueError, zlib.error)


@dataclass(frozen=True, slots=True)
class IndexEntry:
    """The headers of one stored response: enough to pick the winner without cleaning."""

    url: str
    date: str
    status: int
    offset: int


@dataclass(frozen=True)
class FileIndex:
    """The responses of one WARC file, and what could not be read."""

    path: str
    entries: list[IndexEntry]
    damage: Literal["tail", "middle", "unreadable"] | None = None
    detail: str = ""


@dataclass(frozen=True, slots=True)
class Outcome:
    """The cleaned form of one stored response: a record to write, or an error."""

    offset: int
    kind: Literal["article", "reject", "error"]
    path: str  # relative to the data folder; empty for an error
    text: str  # the record's JSON, or the error message
    reason: str = ""


def list_warc_files(raw: Path) -> list[Path]:
    """The WARC files of ``raw`` (a file or a folder searched recursively), in path order."""
    if raw.is_file():
        return [raw]
    return sorted({file for pattern in _PATTERNS for file in raw.rglob(pattern)})


def _iter_from(handle: Any, start: int) -> Iterator[tuple[int, Any]]:
    """Records from byte ``start`` on, with their offsets (their bodies already skipped)."""
    handle.seek(start)
    iterator = ArchiveIterator(handle)
    for record in iterator:
        # get_record_offset reads the record to its end: fine here, the index needs no body.
        yield iterator.get_record_offset(), record


def _next_member(data: bytes, after: int) -> int:
    """Offset of the next plausible gzip member after ``after``, or -1."""
    return data.find(_GZIP_MAGIC, after + 1)


def index_file(path: str) -> FileIndex:
    """Read the response headers of one WARC file; skip over a damaged region when possible."""
    entries: list[IndexEntry] = []
    damage: Literal["tail", "middle", "unreadable"] | None = None
    detail = ""
    try:
        handle = Path(path).open("rb")  # noqa: SIM115 - closed below, reused across resyncs
    except OSError as exc:
        return FileIndex(path, [], "unreadable", f"cannot open: {exc.strerror or exc}")
    with handle:
        start, last = 0, -1
        while True:
            pending: IndexEntry | None = None  # kept once the reader has got past its end
            try:
                for offset, record in _iter_from(handle, start):
                    if pending is not None:
                        entries.append(pending)
                        pending = None
                    last = offset
                    if record.rec_type == "response" and record.http_headers is not None:
                        pending = _entry(record, offset)
                if pending is not None:
                    entries.append(pending)
                break
            except _READ_ERRORS as exc:
                where = max(last, start)
                detail = f"unreadable from byte {where}: {type(exc).__name__}: {exc}".strip()
                # Only gzip'd WARC can be resynchronised: each record is its own gzip member.
                start = _resync(handle, where)
                if start < 0:
                    damage = "unreadable" if not entries and last < 0 else (damage or "tail")
                    break
                damage = "middle"
    return FileIndex(path, entries, damage, detail)


def _entry(record: Any, offset: int) -> IndexEntry:
    headers = record.rec_headers
    return IndexEntry(
        url=headers.get_header("WARC-Source-URI") or headers.get_header("WARC-Target-URI") or "",
        date=headers.get_header("WARC-Date") or "",
        status=int(record.http_headers.get_statuscode() or 0),
        offset=offset,
    )


def _resync(handle: Any, damaged_at: int) -> int:
    """The offset of the next gzip member after a damaged one that starts a WARC record, or -1."""
    handle.seek(0)
    data = handle.read()
    candidate = _next_member(data, damaged_at)
    while candidate >= 0:
        try:
            decompressed = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(
                data[candidate : candidate + 4096], 16
            )
        except zlib.error:
            decompressed = b""
        if decompressed.startswith(b"WARC/"):
            return candidate
        candidate = _next_member(data, candidate)
    return -1


def clean_batch(path: str, offsets: Sequence[int]) -> list[Outcome]:
    """Clean the responses stored at ``offsets`` of one WARC file (the task of pass 2)."""
    outcomes: list[Outcome] = []
    with Path(path).open("rb") as handle:
        for offset in offsets:
            outcomes.append(_clean_one(handle, offset))
    return outcomes


def _clean_one(handle: Any, offset: int) -> Outcome:
    try:
        handle.seek(offset)
        page = page_from_record(next(iter(ArchiveIterator(handle))))
        if page is None:
            return Outcome(offset, "error", "", f"no response record at byte {offset}")
    except (*_READ_ERRORS, StopIteration) as exc:
        return Outcome(offset, "error", "", f"cannot read record at byte {offset}: {exc}")
    reject: Reject
    try:
        check_article_response(page)
        article = extract(
            page.body, url=page.final_url, fetched_at=page.fetched_at, headers=dict(page.headers)
        )
        relative = clean_path(Path(), article).as_posix()
        return Outcome(offset, "article", relative, to_json(article))
    except FetchError as exc:
        reject = Reject(
            url=page.url,
            reason=exc.reason,
            detail=exc.detail,
            status=page.status,
            fetched_at=page.fetched_at,
        )
    except ExtractionError as exc:
        reject = Reject(
            url=page.url,
            reason=exc.reason,
            detail=exc.detail,
            status=page.status,
            fetched_at=page.fetched_at,
        )
    except Exception as exc:  # a cleaner bug must not stop the other pages; it is reported
        return Outcome(offset, "error", "", f"{page.url}: {type(exc).__name__}: {exc}")
    relative = reject_path(Path(), reject).as_posix()
    return Outcome(offset, "reject", relative, to_json(reject), reject.reason.value)
