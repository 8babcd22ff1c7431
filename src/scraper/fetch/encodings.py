"""Content-Encoding decoding under the size cap: gzip (every member), deflate (zlib-wrapped
or raw), br, stacked in any order; a stream cut before its end is an error."""

from __future__ import annotations

import zlib
from typing import Any

import brotli

from scraper.errors import NetworkError, TooLarge

# More stacked Content-Encodings than any server sends on purpose: refused, not unwrapped.
_MAX_ENCODINGS = 4


class _Stage:
    """One Content-Encoding layer, decoded without producing more than the cap."""

    def __init__(self, encoding: str) -> None:
        self.encoding = encoding
        self.fed = False
        self._zlib: Any = None
        self._brotli: Any = None
        self._first = True
        if encoding in ("gzip", "x-gzip"):
            self._zlib = zlib.decompressobj(zlib.MAX_WBITS | 16)
        elif encoding == "deflate":
            self._zlib = zlib.decompressobj()
        elif encoding == "br":
            self._brotli = brotli.Decompressor()

    def decode(self, data: bytes, room: int) -> bytes:
        """Up to ``room + 1`` bytes from ``data`` (one more than the room means: too large)."""
        if data:
            self.fed = True
        if self._brotli is not None:
            return bytes(self._brotli.process(data, output_buffer_limit=room + 1))
        if self._zlib is None:
            return data
        if self.encoding == "deflate" and self._first and data:
            self._first = False
            try:  # "deflate" is zlib-wrapped by the standard, raw deflate by some servers
                return self._inflate(data, room)
            except zlib.error:
                self._zlib = zlib.decompressobj(-zlib.MAX_WBITS)
        return self._inflate(data, room)

    def _inflate(self, data: bytes, room: int) -> bytes:
        out = self._zlib.decompress(data, room + 1)
        # A gzip body may hold several members one after the other (RFC 1952 2.2).
        while (
            self.encoding != "deflate"
            and self._zlib.eof
            and self._zlib.unused_data[:2] == b"\x1f\x8b"
            and len(out) <= room
        ):
            rest = self._zlib.unused_data
            self._zlib = zlib.decompressobj(zlib.MAX_WBITS | 16)
            out += self._zlib.decompress(rest, room + 1 - len(out))
        return bytes(out)

    def complete(self) -> bool:
        """True when the compressed stream reached its end (or none was sent at all)."""
        if not self.fed:
            return True
        if self._brotli is not None:
            return bool(self._brotli.is_finished())
        return self._zlib is None or bool(self._zlib.eof)


class BoundedDecoder:
    """Content-Encoding decoding (stacked layers too) that never produces more than ``limit``.

    Decoding a 64 KB chunk of a gzip bomb in one call makes 64 MB before any cap can look;
    here zlib's ``max_length`` and brotli's ``output_buffer_limit`` stop each layer at the
    cap. A compressed stream that ends before its end marker is an error, not a page.
    """

    def __init__(self, header: str, url: str, limit: int) -> None:
        self.url = url
        self.left = limit
        self.limit = limit
        names = [name.strip().lower() for name in header.split(",")]
        names = [name for name in names if name and name != "identity"]
        if len(names) > _MAX_ENCODINGS:
            raise NetworkError(url, f"{len(names)} stacked content encodings: {header!r}")
        # "gzip, br" was gzipped first: undo the last one first.
        self._stages = [_Stage(name) for name in reversed(names)]

    def decode(self, data: bytes) -> bytes:
        try:
            for stage in self._stages:
                data = stage.decode(data, self.left)
                if len(data) > self.left:
                    raise TooLarge(
                        self.url, f"decompressed body over the cap of {self.limit} bytes"
                    )
        except (zlib.error, brotli.error) as exc:
            raise NetworkError(self.url, f"cannot decode the body: {exc}") from None
        self.left -= len(data)
        if self.left < 0:
            raise TooLarge(self.url, f"body over the cap of {self.limit} bytes")
        return data

    def finish(self) -> None:
        """Raise unless every compressed layer reached its end."""
        for stage in self._stages:
            if not stage.complete():
                raise NetworkError(
                    self.url, f"the {stage.encoding} body is cut short (its stream never ends)"
                )


__all__ = ["BoundedDecoder"]
