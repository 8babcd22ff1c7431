"""py3langid's model, uncompressed once and mapped from a cache file by every cleaning pool.

py3langid ships its model LZMA-compressed: decompressing it is ~0.5 s of every warm
parent's start-up (and of every test that starts a pool). The cache holds the same
tables uncompressed, as raw arrays behind a JSON header; they are read with `mmap`, so
loading takes milliseconds and the pages are the page cache's, shared by every process
that maps the file (the workers, other runs, the test suite's workers) instead of copied
into each. The cleaner never reads it: this module hands it the identifier
(`cleaner.language.use_identifier`), and the cleaner alone still loads py3langid's file.

The file is named by nothing but its directory; its header holds the key it was built
from (py3langid's version, the model file's size and modification time, this format's
version, the byte order), and a file whose key, header or size is not what it should
be is built again, never trusted. It is written whole to a temporary file and renamed
into place, so two processes building it at once each rename a whole file, and a
process that mapped the old one keeps reading it.
"""

from __future__ import annotations

import contextlib
import json
import mmap
import os
import struct
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scraper.errors import StorageError

if TYPE_CHECKING:
    from py3langid.langid import LanguageIdentifier

# Where the cache lives instead of the per-user cache directory.
CACHE_DIR_ENV = "SCRAPER_CACHE_DIR"
FILE_NAME = "py3langid-model.bin"
# Bump when what is stored, or how, changes: a file of another format is built again.
FORMAT = 1
_MAGIC = b"opinion-scraper py3langid cache\n"
_HEAD = struct.Struct("<Q")  # the JSON header's length, after the magic line
_ALIGN = 64
# The identifier's tables, in the order stored. numpy's dtype names, native byte order.
_TABLES = ("nb_ptc", "nb_pc", "tk_nextmove", "tk_row", "rowbase", "tk_output")


def cache_dir() -> Path:
    """``$SCRAPER_CACHE_DIR``, else ``$XDG_CACHE_HOME/opinion-scraper``, else
    ``~/.cache/opinion-scraper``."""
    if override := os.environ.get(CACHE_DIR_ENV):
        return Path(override)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "opinion-scraper"


def load_identifier(directory: Path | None = None) -> LanguageIdentifier:
    """The identifier from the cache in ``directory`` (default `cache_dir`), building the
    cache first when it is missing, stale or damaged; py3langid's own file, loaded as the
    cleaner loads it, when the cache can be neither read nor written."""
    from cleaner.language import packaged_identifier

    path = (directory or cache_dir()) / FILE_NAME
    key = _key()
    if (identifier := _read(path, key)) is not None:
        return identifier
    identifier = packaged_identifier()
    with contextlib.suppress(StorageError):
        _write(path, key, identifier)
        # Mapped, not the copy just built: its pages are then the ones every other
        # process maps too.
        return _read(path, key) or identifier
    return identifier


def _key() -> dict[str, Any]:
    """What the cache was built from: a change in any of it makes the cache stale."""
    import py3langid
    from py3langid.langid import MODEL_DIR, MODEL_FILE

    stat = (MODEL_DIR / MODEL_FILE).stat()
    return {
        "format": FORMAT,
        "py3langid": getattr(py3langid, "__version__", "unknown"),
        "model_size": stat.st_size,
        "model_mtime_ns": stat.st_mtime_ns,
        "byteorder": sys.byteorder,
    }


def _tables(identifier: LanguageIdentifier) -> dict[str, Any]:
    import numpy as np

    return {
        "nb_ptc": np.ascontiguousarray(identifier.nb_ptc),
        "nb_pc": np.ascontiguousarray(identifier.nb_pc),
        "tk_nextmove": np.asarray(identifier.tk_nextmove),
        "tk_row": np.asarray(identifier.tk_row),
        "rowbase": np.asarray(identifier._rowbase, dtype=np.int64),
        "tk_output": np.asarray(identifier.tk_output, dtype=np.int64),
    }


def _write(path: Path, key: dict[str, Any], identifier: LanguageIdentifier) -> None:
    """Raises:
    StorageError: the directory cannot be created or the disk refused the write."""
    from scraper.store.records import open_atomic

    tables = _tables(identifier)
    layout: dict[str, Any] = {}
    offset = 0
    for name in _TABLES:
        array = tables[name]
        layout[name] = {"dtype": array.dtype.str, "shape": list(array.shape), "offset": offset}
        offset += -(-array.nbytes // _ALIGN) * _ALIGN
    header = json.dumps(
        {"key": key, "classes": list(identifier.nb_classes), "tables": layout, "size": offset}
    ).encode()
    start = -(-(len(_MAGIC) + _HEAD.size + len(header)) // _ALIGN) * _ALIGN
    with open_atomic(path, binary=True) as out:
        out.write(_MAGIC + _HEAD.pack(len(header)) + header)
        for name in _TABLES:
            out.seek(start + layout[name]["offset"])
            out.write(memoryview(tables[name]).cast("B"))
        out.truncate(start + offset)


def _read(path: Path, key: dict[str, Any]) -> LanguageIdentifier | None:
    """The identifier mapped from ``path``, or None when the file is not a whole cache
    built from ``key``."""
    try:
        with path.open("rb") as file:
            mapped = mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ)
    except (OSError, ValueError):  # missing, unreadable, or empty (mmap refuses size 0)
        return None
    try:
        return _identifier_from(mapped, key)
    except (ValueError, KeyError, TypeError, IndexError, AttributeError, struct.error):
        with contextlib.suppress(BufferError):  # an array made before the fault holds it
            mapped.close()
        return None


def _identifier_from(mapped: mmap.mmap, key: dict[str, Any]) -> LanguageIdentifier | None:
    import numpy as np
    from py3langid.langid import LanguageIdentifier

    if mapped[: len(_MAGIC)] != _MAGIC:
        return None
    (length,) = _HEAD.unpack_from(mapped, len(_MAGIC))
    begin = len(_MAGIC) + _HEAD.size
    if begin + length > len(mapped):
        return None
    header = json.loads(mapped[begin : begin + length].decode())
    start = -(-(begin + length) // _ALIGN) * _ALIGN
    if header["key"] != key or len(mapped) != start + header["size"]:
        return None
    tables = {}
    for name in _TABLES:
        spec = header["tables"][name]
        dtype = np.dtype(spec["dtype"])
        count = int(np.prod(spec["shape"], dtype=np.int64))
        if spec["offset"] + count * dtype.itemsize > header["size"]:
            return None
        table = np.frombuffer(mapped, dtype=dtype, count=count, offset=start + spec["offset"])
        tables[name] = table.reshape(spec["shape"])
    classes = [str(code) for code in header["classes"]]
    if tables["nb_ptc"].shape[1:] != (len(classes),) or tables["nb_pc"].shape != (len(classes),):
        return None
    # The tokenizer's tables as memoryviews: indexed one byte of text at a time, they give
    # Python ints (numpy would make a scalar object for each), as fast as py3langid's arrays.
    identifier = LanguageIdentifier(
        tables["nb_ptc"],
        tables["nb_pc"],
        classes,
        tables["tk_nextmove"].data,
        tables["tk_output"].data,
        norm_probs=True,
        tk_row=tables["tk_row"].data,
    )
    identifier._rowbase = tables["rowbase"].data
    return identifier
