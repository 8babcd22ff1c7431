"""The two tasks of `scraper reclean`, pure functions of a WARC file path, run in any process.

`index_file` reads the headers of every response in one file (no cleaning); `clean_batch`
cleans the responses at given offsets and returns records as JSON text. Both are plain
top-level functions over picklable arguments and results, so a Dask worker runs them as
they are, and a task retried on another worker gives the same answer.
"""

from __future__ import annotations

import contextlib
import io
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Literal

from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed

from cleaner import Article
from cleaner.fingerprint import Fingerprint, fingerprint
from scraper.jobs.pipeline import clean_page
from scraper.store.duplicates import original_rank
from scraper.store.records import clean_path, reject_path, to_json
from scraper.store.warc import PURPOSE_HEADER, page_from_record

_PATTERNS = ("*.warc.gz", "*.warc")
_GZIP_MAGIC = b"\x1f\x8b\x08"
_GZIP_TRAILER = 8  # CRC-32 and size, little-endian: may end in zero bytes
_MIN_PADDING = 512  # a run of NULs this long at the end of a file is a crash's padding
# AttributeError: warcio trips over a header line cut by a crash.
_READ_ERRORS = (ArchiveLoadFailed, EOFError, OSError, ValueError, AttributeError, zlib.error)


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
    discovery: int = 0  # robots.txt, feeds, sitemaps, listings: stored, never cleaned


@dataclass(frozen=True, slots=True)
class Outcome:
    """The cleaned form of one stored response: a record to write, or an error."""

    offset: int
    kind: Literal["article", "reject", "error"]
    path: str  # relative to the data folder; empty for an error
    text: str  # the record's JSON, or the error message
    reason: str = ""
    # An article's near-duplicate witnesses, computed here so the driver need not.
    fingerprint: Fingerprint | None = None
    rank: int = 0


def list_warc_files(raw: Path) -> list[Path]:
    """The WARC files of ``raw`` (a file or a folder searched recursively), in path order."""
    if raw.is_file():
        return [raw]
    return sorted({file for pattern in _PATTERNS for file in raw.rglob(pattern)})


def index_file(path: str) -> FileIndex:
    """Read the response headers of one WARC file, skipping over damaged records."""
    try:
        handle = Path(path).open("rb")  # noqa: SIM115 - closed below, reused across resyncs
    except OSError as exc:
        return FileIndex(path, [], "unreadable", f"cannot open: {exc.strerror or exc}")
    entries: list[IndexEntry] = []
    discovery = 0
    problems: list[tuple[int, str]] = []  # (offset, what), in file order
    seen = 0  # records read, of any type
    # warcio prints its own warnings about damaged records to stderr; the driver reports
    # the damage once instead.
    with handle, contextlib.redirect_stderr(io.StringIO()):
        # warcio reads bytes that are no gzip member as one text line, whole (~45x their
        # size in memory): a crash's NUL padding is cut off, and a start that is no
        # member is skipped to the next one, never handed to it.
        end = _end_before_padding(handle)
        if end < Path(path).stat().st_size:
            problems.append((end, "NUL padding (a crash leftover)"))
        bounded = _Bounded(handle, end)
        start = 0
        while 0 <= start < end:
            last = start
            try:
                handle.seek(start)
                if path.endswith(".gz") and handle.read(2) != _GZIP_MAGIC[:2]:
                    problems.append((start, "not a gzip member"))
                    start = _resync(handle, start)
                    continue
                handle.seek(start)
                iterator = ArchiveIterator(bounded)
                for record in iterator:
                    cut = _cut_short(record)  # reads the body: the offset call would anyway
                    last = iterator.get_record_offset()
                    if not str(record.format).startswith("warc"):
                        # warcio reads any text as ARC lines; the raw store only writes WARC.
                        problems.append((last, f"not a WARC record ({record.format})"))
                        continue
                    seen += 1
                    if cut:
                        problems.append((last, cut))
                    elif record.rec_type == "response" and record.http_headers is not None:
                        if record.rec_headers.get_header(PURPOSE_HEADER) not in (None, "page"):
                            discovery += 1
                        else:
                            entries.append(_entry(record, last))
                break
            except _READ_ERRORS as exc:
                problems.append((last, f"{type(exc).__name__}: {_short(str(exc))}"))
                # Each record of a .warc.gz is its own gzip member: go on at the next one.
                start = _resync(handle, last)
    if not seen and not problems and Path(path).stat().st_size > 0:
        problems.append((0, "no WARC record found"))
    if not problems:
        return FileIndex(path, entries, discovery=discovery)
    problems.sort()
    where, what = problems[0]
    detail = f"unreadable from byte {where} ({what})"
    if not seen:
        return FileIndex(path, entries, "unreadable", detail, discovery)
    # A crash cuts the file inside its last gzip member; a member that inflates whole but
    # will not parse is a damaged record, wherever it sits, and says so (exit 11).
    damaged_tail = (not entries or where > entries[-1].offset) and _ends_cut(Path(path), where)
    return FileIndex(path, entries, "tail" if damaged_tail else "middle", detail, discovery)


class _Bounded:
    """A file seen only up to ``end``: what warcio reads stops there."""

    def __init__(self, handle: BinaryIO, end: int) -> None:
        self._handle = handle
        self._end = end

    def read(self, size: int = -1) -> bytes:
        left = max(0, self._end - self._handle.tell())
        return self._handle.read(left if size < 0 else min(size, left))

    def tell(self) -> int:
        return self._handle.tell()

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        return self._handle.seek(offset, whence)


def _end_before_padding(handle: BinaryIO, block: int = 1 << 20) -> int:
    """Where the run of NUL bytes the file ends with starts, when it is padding.

    A gzip member's trailer (CRC, size) may itself end in up to 8 zero bytes: a shorter
    run is no padding, and 8 bytes of a longer one are kept for the trailer.
    """
    size = end = handle.seek(0, io.SEEK_END)
    while end > 0:
        start = max(0, end - block)
        handle.seek(start)
        kept = handle.read(end - start).rstrip(b"\x00")
        if kept:
            end = start + len(kept)
            break
        end = start
    return size if size - end < _MIN_PADDING else end + _GZIP_TRAILER


def _ends_cut(path: Path, start: int, chunk: int = 1 << 16) -> bool:
    """True when the gzip members from ``start`` on end in one the file cuts short, or in
    bytes that are no member (a crash's NUL padding); a plain .warc file counts as cut:
    its records carry no end marker to check."""
    with path.open("rb") as handle:
        handle.seek(start)
        data = handle.read(chunk)
        if not data.startswith(_GZIP_MAGIC[:2]):
            return True
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        while data:
            try:
                inflater.decompress(data, chunk)  # output dropped: only the framing counts
                while inflater.unconsumed_tail and not inflater.eof:
                    inflater.decompress(inflater.unconsumed_tail, chunk)
            except zlib.error:
                return True
            if not inflater.eof:
                data = handle.read(chunk)
                continue
            data = inflater.unused_data or handle.read(chunk)
            if not data:
                return False  # the last member ends with the file: nothing was cut
            inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        return True  # the file ends inside a member


def _cut_short(record: Any) -> str:
    """Why a response's body is shorter than its Content-Length says, or "" if it is whole."""
    if record.rec_type != "response" or record.http_headers is None:
        return ""
    size = 0
    while chunk := record.raw_stream.read(65536):
        size += len(chunk)
    declared = (record.http_headers.get_header("Content-Length") or "").strip()
    if declared.isdigit() and int(declared) != size:
        return f"response body cut short: {size} of {declared} bytes"
    return ""


def _short(text: str, limit: int = 120) -> str:
    """An error message fit for one terminal line: no control bytes, bounded length."""
    printable = "".join(
        c if c.isascii() and c.isprintable() else "?" for c in " ".join(text.split())
    )
    return printable if len(printable) <= limit else printable[: limit - 3] + "..."


def _entry(record: Any, offset: int) -> IndexEntry:
    headers = record.rec_headers
    return IndexEntry(
        url=headers.get_header("WARC-Source-URI") or headers.get_header("WARC-Target-URI") or "",
        date=headers.get_header("WARC-Date") or "",
        status=int(record.http_headers.get_statuscode() or 0),
        offset=offset,
    )


def _resync(handle: BinaryIO, after: int, block_size: int = 1 << 20) -> int:
    """Offset of the first gzip member after ``after`` that opens a WARC record, or -1."""
    position = after + 1
    while True:
        handle.seek(position)
        block = handle.read(block_size)
        if len(block) < len(_GZIP_MAGIC):
            return -1
        found = block.find(_GZIP_MAGIC)
        while found >= 0:
            handle.seek(position + found)
            try:
                head = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(handle.read(4096), 8)
            except zlib.error:
                head = b""
            if head.startswith(b"WARC/"):
                return position + int(found)
            found = block.find(_GZIP_MAGIC, found + 1)
        position += len(block) - len(_GZIP_MAGIC) + 1


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
        detail = _short(f"{type(exc).__name__}: {exc}")
        return Outcome(offset, "error", "", f"cannot read record at byte {offset}: {detail}")
    try:
        result = clean_page(page)
    except Exception as exc:  # a cleaner bug must not stop the other pages; it is reported
        return Outcome(offset, "error", "", f"{page.url}: {type(exc).__name__}: {exc}")
    if isinstance(result, Article):
        relative = clean_path(Path(), result).as_posix()
        found = fingerprint(result.body, result.title)
        return Outcome(
            offset, "article", relative, to_json(result), "", found, original_rank(result)
        )
    relative = reject_path(Path(), result).as_posix()
    return Outcome(offset, "reject", relative, to_json(result), result.reason.value)
