"""Raw responses as WARC files under ``data/raw/``, so cleaning can be re-run without refetching.

Each writer owns its own file (process id and a sequence number in the name), so
concurrent runs never interleave; files rotate by size. A record pair (request,
response) is written in one go and flushed, so a crash leaves at most a truncated
tail that readers skip.

The WARC writer process (`scraper.store.warc_writer_child`) imports this module and should be
ready at once: `scraper.errors` and `scraper.fetch.page`, which pull in the cleaner's errors
and with them pydantic (~75 ms), are imported here only where they are needed. So is warcio
(~18 ms with fsspec), which the fetching process, importing this module for its constants,
never uses.
"""

from __future__ import annotations

import base64
import hashlib
import os
import uuid
import zlib
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from http import HTTPStatus
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, BinaryIO, Self
from urllib.parse import quote, urlsplit

from isal import isal_zlib

from scraper import __version__

if TYPE_CHECKING:
    from warcio.recordloader import ArcWarcRecord

    from scraper.fetch.page import FetchedPage

DEFAULT_MAX_FILE_BYTES = 256 * 1024 * 1024  # keeps files easy to move and shard
# At hundreds of pages/s the CPU is the scarce part. Per 50 KB page (fundus-dev pages):
# zlib level 9 (warcio's own choice) ~9 ms, zlib 1 ~0.6 ms, ISA-L 1 ~0.2 ms with files no
# larger than zlib 1's. ISA-L levels are 0-3; its output is plain gzip, read by any reader.
DEFAULT_COMPRESS_LEVEL = 1
# A WARC field of our own on responses that are not article fetches (robots.txt, feeds,
# sitemaps, listings): absent means an article fetch, as in files written before it.
PURPOSE_HEADER = "Scraper-Purpose"
SOFTWARE = f"opinion-scraper/{__version__}"
WARC_FORMAT = "WARC File Format 1.0"


class WarcStore:
    """Appends fetched pages to rotating gzip'd WARC files in one directory."""

    def __init__(
        self,
        directory: Path,
        max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
        compress_level: int = DEFAULT_COMPRESS_LEVEL,
    ) -> None:
        self.directory = directory
        self.max_file_bytes = max_file_bytes
        self.compress_level = compress_level
        self._handle: BinaryIO | None = None
        self._path: Path | None = None
        self._sequence = 0

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    @property
    def path(self) -> Path | None:
        """The file being written, if any."""
        return self._path

    def _open_next(self) -> BinaryIO:
        self.close()
        self._sequence += 1
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
        name = f"raw-{stamp}-{os.getpid()}-{self._sequence:04d}.warc.gz"
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            self._path = self.directory / name
            # Created as open() creates files (0666 less the umask), like the records.
            self._handle = self._path.open("ab")
        except OSError as exc:
            raise _storage_error(f"cannot open raw store {self.directory}: {exc.strerror}") from exc
        # Every file starts with a warcinfo record saying what wrote it (WARC 1.0, 6.2).
        fields = f"software: {SOFTWARE}\r\nformat: {WARC_FORMAT}\r\n".encode()
        info = [("WARC-Type", "warcinfo"), ("WARC-Record-ID", _record_id())]
        info += [("WARC-Filename", name), ("WARC-Date", _warc_date(datetime.now(UTC)))]
        self._write_members([_record(info, "application/warc-fields", b"", fields)])
        return self._handle

    def _write_members(self, records: Iterable[list[bytes]]) -> None:
        """Append ``records`` (each the parts of one record), one gzip member each (as the
        WARC spec asks), at our level."""
        assert self._handle is not None
        members: list[bytes] = []
        for parts in records:
            compressor = isal_zlib.compressobj(
                self.compress_level, isal_zlib.DEFLATED, isal_zlib.MAX_WBITS | 16
            )
            members.extend(compressor.compress(part) for part in parts)
            members.append(compressor.flush())
        try:
            self._handle.write(b"".join(members))
            self._handle.flush()
        except OSError as exc:
            raise _storage_error(f"cannot write raw store {self._path}: {exc.strerror}") from exc

    def append(self, page: FetchedPage) -> None:
        """Write the response and request of ``page`` as two WARC records."""
        from warcio.statusandheaders import StatusAndHeaders  # see the module note

        if self._handle is None or self._handle.tell() >= self.max_file_bytes:
            self._open_next()
        date = _warc_date(page.fetched_at)
        headers = [(k, v) for k, v in page.headers if k.lower() not in _RECODED]
        headers.append(("Content-Length", str(len(page.body))))
        response_head = StatusAndHeaders(
            f"{page.status} {_reason(page.status)}", headers, protocol=page.http_version
        ).to_ascii_bytes()
        response_id = _record_id()
        fields = [("WARC-Type", "response"), ("WARC-Record-ID", response_id)]
        fields += [("WARC-Date", date), ("WARC-Target-URI", page.final_url)]
        fields.append(("WARC-Source-URI", page.url))
        if page.purpose != "page":
            fields.append((PURPOSE_HEADER, page.purpose))
        response = _record(fields, _HTTP_RESPONSE, response_head, page.body)
        request_head = StatusAndHeaders(
            f"GET {_target(page.final_url)} {page.http_version}",
            page.request_headers,
            is_http_request=True,
        ).to_ascii_bytes()
        fields = [("WARC-Type", "request"), ("WARC-Record-ID", _record_id())]
        fields += [("WARC-Date", date), ("WARC-Target-URI", page.final_url)]
        # The pair is one exchange: readers find the request of a response by it.
        fields.append(("WARC-Concurrent-To", response_id))
        request = _record(fields, _HTTP_REQUEST, request_head, b"")
        self._write_members((response, request))

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None


def _storage_error(message: str) -> Exception:
    from scraper.errors import StorageError  # here, not at the top: see the module note

    return StorageError(message)


_HTTP_RESPONSE = "application/http; msgtype=response"
_HTTP_REQUEST = "application/http; msgtype=request"


def _record(
    fields: list[tuple[str, str]], content_type: str, http_head: bytes, payload: bytes
) -> list[bytes]:
    """The parts of one WARC record: its header block (``fields``, then the digests,
    Content-Type and Content-Length), the HTTP head, the payload, the closing blank lines.

    Written here rather than by warcio's writer, which copies the payload through two
    buffers and hashes it in 16 KB steps: this is the writer process's CPU a page. The
    digests are the ones warcio writes (WARC 1.0, 5.8-5.9): SHA-1 in base32, of the
    payload (after the HTTP head) and of the whole block; a warcinfo record has no payload
    digest.
    """
    if http_head:
        fields.append(("WARC-Payload-Digest", _digest(hashlib.sha1(payload))))
    block = hashlib.sha1(http_head)
    block.update(payload)
    fields.append(("WARC-Block-Digest", _digest(block)))
    fields.append(("Content-Type", content_type))
    fields.append(("Content-Length", str(len(http_head) + len(payload))))
    head = "".join(f"{name}: {value}\r\n" for name, value in fields)
    return [f"{_VERSION}\r\n{head}\r\n".encode(), http_head, payload, b"\r\n\r\n"]


_VERSION = "WARC/1.0"


def _digest(value: hashlib._Hash) -> str:
    return "sha1:" + base64.b32encode(value.digest()).decode("ascii")


def _record_id() -> str:
    return f"<urn:uuid:{uuid.uuid4()}>"


def _warc_date(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# The body is stored decoded, so the headers describing the transfer encoding would lie.
_RECODED = frozenset({"content-encoding", "transfer-encoding", "content-length"})


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


def _target(url: str) -> str:
    """The request-target as it went on the wire: ASCII, what is not percent-encoded (a
    non-ASCII slug, a control character a site put in a link) as UTF-8 escapes."""
    parts = urlsplit(url)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return quote(target, safe=_TARGET_SAFE)


# Reserved and unreserved characters, and "%" so that existing escapes stay as they are.
_TARGET_SAFE = "/?#[]@!$&'()*+,;=:-._~%"


def iter_pages(path: Path) -> Iterator[FetchedPage]:
    """Pages stored in one WARC file (or every ``*.warc.gz`` under a directory), in order."""
    from warcio.archiveiterator import ArchiveIterator  # see the module note
    from warcio.exceptions import ArchiveLoadFailed

    files = sorted(path.rglob("*.warc.gz")) if path.is_dir() else [path]
    for file in files:
        with file.open("rb") as handle:
            try:
                for record in ArchiveIterator(handle):
                    page = page_from_record(record)
                    if page is None:
                        continue
                    declared = page.header("Content-Length")
                    if (
                        declared is None
                        or not declared.isdigit()
                        or int(declared) != len(page.body)
                    ):
                        # append() always writes Content-Length: without it, or with a
                        # shorter body, this is the tail of a file cut by a crash.
                        break
                    yield page
            # warcio fails in several ways on a tail truncated by a crash (AttributeError on
            # a cut header line); what came before it was yielded.
            except (ArchiveLoadFailed, EOFError, OSError, ValueError, AttributeError, zlib.error):
                continue


def page_from_record(record: ArcWarcRecord) -> FetchedPage | None:
    """The page in a WARC response record, as `iter_pages` yields it; None for other records."""
    from scraper.fetch.page import FetchedPage  # here, not at the top: see the module note

    if record.rec_type != "response" or record.http_headers is None:
        return None
    fetched = record.rec_headers.get_header("WARC-Date")
    return FetchedPage(
        url=record.rec_headers.get_header("WARC-Source-URI")
        or record.rec_headers.get_header("WARC-Target-URI"),
        final_url=record.rec_headers.get_header("WARC-Target-URI"),
        status=int(record.http_headers.get_statuscode()),
        headers=list(record.http_headers.headers),
        body=record.content_stream().read(),
        fetched_at=datetime.fromisoformat(fetched.replace("Z", "+00:00")),
        purpose=record.rec_headers.get_header(PURPOSE_HEADER) or "page",
    )
