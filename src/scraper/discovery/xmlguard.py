"""The prolog of a feed or sitemap read by a real XML parser before anything else sees the
document: a DTD with an internal subset (where entities are declared) is refused, and what
reaches the next parser carries nothing of the prolog but the XML declaration.

Why a parser and not a text scan: a scan must guess where the prolog ends, and a comment
(``<!-- <a -->``) before the DOCTYPE fooled the guess; expat, configured as defusedxml's
``forbid_dtd`` does, reads comments as comments. Why the prolog is dropped: feedparser's
own DOCTYPE handling is a text scan too, and its fallback parser expands the "safe"
entities it finds there, comments included. Feeds and sitemaps never need a DTD.
"""

from __future__ import annotations

import xml.parsers.expat as expat

from scraper.discovery.errors import DiscoveryError

_WIDE = (
    (b"\xff\xfe\x00\x00", "utf-32-le"),  # expat cannot read UTF-32: transcoded first
    (b"\x00\x00\xfe\xff", "utf-32-be"),
    (b"<\x00\x00\x00", "utf-32-le"),
    (b"\x00\x00\x00<", "utf-32-be"),
    (b"\xff\xfe", "utf-16-le"),
    (b"\xfe\xff", "utf-16-be"),
    (b"<\x00", "utf-16-le"),
    (b"\x00<", "utf-16-be"),
)
_LEADING = b"\xef\xbb\xbf \t\r\n"  # a UTF-8 BOM and blank lines before "<?xml": CMS bugs


class _RootReached(Exception):
    """Raised from expat's start-element handler: the prolog is over."""


def _wide_codec(data: bytes) -> str | None:
    """The UTF-16 or UTF-32 codec the first bytes show, if any."""
    return next((codec for mark, codec in _WIDE if data.startswith(mark)), None)


class _Refused(Exception):
    """Raised from expat's DTD handlers."""


def _refuse_internal_subset(
    name: str, sysid: str | None, pubid: str | None, has_internal_subset: int
) -> None:
    if has_internal_subset:
        raise _Refused("a DTD internal subset")


def _refuse_entity(*args: object) -> None:
    raise _Refused("an entity declaration")


def without_prolog(data: bytes, what: str) -> bytes:
    """``data`` with its prolog checked and dropped: the XML declaration is kept, and UTF-16
    or UTF-32 input comes back as UTF-8 from its root element on.

    Raises:
        DiscoveryError: a DTD internal subset or an entity declaration, XML that is not
            well-formed before its root element, or no root element at all.
    """
    data = data.lstrip(_LEADING) if _wide_codec(data) is None else data
    wide = _wide_codec(data)
    if wide is not None:
        # To UTF-8 (expat cannot read UTF-32, nor every name UTF-16 goes by); the
        # declaration, which no longer describes the bytes, goes with the prolog.
        data = data.decode(wide, errors="replace").lstrip("\ufeff").encode("utf-8")
    # Read as Latin-1 whatever it declares: every byte is a character, and the markup of
    # any ASCII-compatible encoding (UTF-8, Shift_JIS, GB18030, ...) reads the same.
    parser = expat.ParserCreate("iso-8859-1")
    parser.StartDoctypeDeclHandler = _refuse_internal_subset
    parser.EntityDeclHandler = _refuse_entity

    def root(name: str, attributes: object) -> None:
        raise _RootReached(parser.CurrentByteIndex)

    parser.StartElementHandler = root
    try:
        parser.Parse(data, True)
    except _RootReached as reached:
        start = int(reached.args[0])
    except _Refused as exc:
        raise DiscoveryError(
            f"{what} declares XML entities ({exc}); refused (entity-expansion risk)"
        ) from None
    except expat.ExpatError as exc:
        raise DiscoveryError(
            f"{what} is not well-formed XML before its root element ({exc})"
        ) from None
    else:
        raise DiscoveryError(f"{what} has no root element")
    declaration_end = data.find(b"?>") + 2 if data.startswith(b"<?xml") and wide is None else 0
    return data[:declaration_end] + data[start:]
