"""Binary data told from text before anything is parsed: a PDF, an archive or an image is
refused as ``not_html``, never cleaned into an "article" of mojibake.

The rule is WHATWG MIME Sniffing's (a resource is binary when its first 1,445 bytes hold
a "binary data byte"), applied to the decoded text so that a page declared UTF-16 stays
text, and loosened for the stray control character real pages carry: a NUL, or more than
one such character in fifty. Known signatures name what the file is; some (PDF,
PostScript) start with plain ASCII and would pass as text otherwise.
"""

from __future__ import annotations

import re

from cleaner.errors import ExtractionError
from cleaner.models import RejectReason

SNIFF_LENGTH = 1445
_BINARY_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0e-\x1a\x1c-\x1f]")
_MAX_BINARY_SHARE = 0.02
_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", "a PDF document"),
    (b"%!PS-Adobe-", "a PostScript document"),
    (b"\x1f\x8b", "gzip data"),
    (b"PK\x03\x04", "a ZIP archive (or an office document)"),
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"\xfd7zXZ\x00", "xz data"),
    (b"(\xb5/\xfd", "zstd data"),
    (b"Rar!\x1a\x07", "a RAR archive"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an old Office document"),
    (b"\x7fELF", "an executable"),
    (b"wOFF", "a web font"),
    (b"wOF2", "a web font"),
)


def binary_kind(data: bytes | str) -> str | None:
    """What ``data`` is when it is binary (a PDF, gzip data, …), or None for text."""
    head = data[: len(b"%!PS-Adobe-")]
    if isinstance(head, str):
        head = head.encode("latin-1", errors="replace")
    for signature, kind in _SIGNATURES:
        if head.startswith(signature):
            return kind
    if isinstance(data, bytes):
        return None  # bytes are judged once decoded: their charset may be UTF-16
    sample = data[:SNIFF_LENGTH]
    found = _BINARY_CHARACTERS.findall(sample)
    if "\x00" in found or len(found) > _MAX_BINARY_SHARE * len(sample):
        return "binary data"
    return None


def refuse_binary(data: bytes | str) -> None:
    """Raise `ExtractionError` (``not_html``) when ``data`` is binary, not a page."""
    kind = binary_kind(data)
    if kind is not None:
        raise ExtractionError(RejectReason.NOT_HTML, f"the input is {kind}, not a page")
