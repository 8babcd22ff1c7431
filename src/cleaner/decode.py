"""Bytes to text, decoded once, in the order that is right most often.

HTTP header charset, then a byte-order mark, then ``<meta charset>`` in the first
bytes, then detection. A wrong declared charset is caught by a strict decode.
"""

from __future__ import annotations

import codecs
import re

from charset_normalizer import from_bytes

_META_CHARSET = re.compile(
    rb"""<meta[^>]+charset\s*=\s*["']?\s*([a-zA-Z0-9_.:-]+)""", re.IGNORECASE
)
_HEADER_CHARSET = re.compile(r"""charset\s*=\s*["']?([a-zA-Z0-9_.:-]+)""", re.IGNORECASE)
_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
# HTML5 says a declared latin-1 means windows-1252; browsers agree.
_ALIASES = {"latin-1": "cp1252", "iso-8859-1": "cp1252", "iso8859-1": "cp1252", "ascii": "cp1252"}
_META_SCAN_BYTES = 4096


def _known_codec(name: str | None) -> str | None:
    if not name:
        return None
    name = _ALIASES.get(name.lower(), name.lower())
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def charset_from_content_type(content_type: str | None) -> str | None:
    """The charset parameter of a Content-Type header, if it names a known codec."""
    if not content_type:
        return None
    match = _HEADER_CHARSET.search(content_type)
    return _known_codec(match.group(1)) if match else None


def decode_html(raw: bytes, content_type: str | None = None) -> str:
    """Decode a page's bytes to text; never raises, undecodable bytes become U+FFFD."""
    for bom, bom_encoding in _BOMS:
        if raw.startswith(bom):
            return raw[len(bom) :].decode(bom_encoding, errors="replace")
    candidates = [charset_from_content_type(content_type)]
    meta = _META_CHARSET.search(raw[:_META_SCAN_BYTES])
    candidates.append(_known_codec(meta.group(1).decode("ascii")) if meta else None)
    for encoding in candidates:
        if encoding is None:
            continue
        try:
            return raw.decode(encoding)
        except (UnicodeDecodeError, LookupError):
            continue  # a wrong declaration: fall through to the next witness
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        pass
    best = from_bytes(raw[: 1 << 20]).best()
    detected = best.encoding if best is not None else None
    return raw.decode(detected or "cp1252", errors="replace")
