"""The WARC writer process: ``python -m scraper.store.warc_writer_child DIR MAX_FILE_BYTES LEVEL``.

Reads pages from stdin, one frame each (a 4-byte length, then a pickled tuple of the
page's fields), and appends them with `WarcStore` until end of file. It imports neither
the cleaner nor aiohttp, so it is ready ~0.15 s after it starts instead of ~1 s, during
which the fetcher's pages would pile up. The fetching side is `scraper.store.warc_writer`.
"""

from __future__ import annotations

import pickle
import struct
import sys
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, TextIO, cast

from scraper.store.warc import WarcStore

if TYPE_CHECKING:
    from scraper.fetch.page import FetchedPage

FRAME = struct.Struct("!I")  # length of the pickled page that follows
_FIELDS = (
    "url",
    "final_url",
    "status",
    "headers",
    "body",
    "fetched_at",
    "request_headers",
    "http_version",
    "purpose",
)


class _Page:
    """What `WarcStore.append` reads of a `FetchedPage`, without importing it."""

    url: str
    final_url: str
    status: int
    headers: list[tuple[str, str]]
    body: bytes
    fetched_at: datetime
    request_headers: list[tuple[str, str]]
    http_version: str
    purpose: str

    def __init__(self, values: tuple[Any, ...]) -> None:
        for name, value in zip(_FIELDS, values, strict=True):
            setattr(self, name, value)


def encode(page: FetchedPage) -> bytes:
    """One frame: what `serve` reads back (plain values, so no class is needed to unpickle)."""
    data = pickle.dumps(
        tuple(getattr(page, name) for name in _FIELDS), protocol=pickle.HIGHEST_PROTOCOL
    )
    return FRAME.pack(len(data)) + data


def serve(source: BinaryIO, store: WarcStore, report: TextIO) -> int:
    """Append one page a frame from ``source`` to ``store`` until end of file.

    Returns the exit status: 0 at end of file (a frame cut short is a sender that died
    mid-page: dropped, never half-written), 1 after reporting why a write failed.
    """
    with store:
        while True:
            head = source.read(FRAME.size)
            if len(head) < FRAME.size:
                return 0
            (size,) = FRAME.unpack(head)
            frame = source.read(size)
            if len(frame) < size:
                return 0
            page = _Page(pickle.loads(frame))  # from our own parent, through a private pipe
            try:
                store.append(cast("FetchedPage", page))
            except Exception as exc:
                from scraper.errors import StorageError  # only now: see rawstore's note

                if not isinstance(exc, StorageError):
                    raise
                report.write(f"{exc}\n")
                report.flush()
                return 1


def main(argv: list[str]) -> int:
    directory, max_file_bytes, compress_level = argv
    store = WarcStore(Path(directory), int(max_file_bytes), int(compress_level))
    try:
        return serve(sys.stdin.buffer, store, sys.stdout)
    except Exception as exc:  # a bug: say it where the fetcher will read it
        sys.stdout.write(f"raw store writer for {directory} failed: {exc!r}\n")
        return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
