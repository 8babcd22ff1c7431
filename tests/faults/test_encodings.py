"""Content-Encoding as hostile servers send it: cut short inside correct framing, stacked
(``gzip, gzip``), several gzip members, a bomb inside an inner layer. A body is either the
whole decoded page or a classified error, never a silently shortened "article"."""

from __future__ import annotations

import asyncio
import gzip
import zlib
from typing import Any

import brotli
import pytest

from scraper.errors import FetchError, NetworkError, TooLarge
from scraper.fetch.http import fetch_page, make_client
from scraper.settings import Limits, Settings
from tests.faults.rawserver import RawServer, reply

ARTICLE = (
    "<html><head><title>Night buses stay</title></head><body><article>"
    + "<p>The council met on Tuesday and agreed to keep the night buses running.</p>" * 80
    + "</article></body></html>"
).encode()
SETTINGS = Settings(allow_private_addresses=True)


def _deflate(data: bytes) -> bytes:
    return zlib.compress(data)


def _raw_deflate(data: bytes) -> bytes:
    packer = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    return packer.compress(data) + packer.flush()


ENCODERS = {
    "gzip": gzip.compress,
    "x-gzip": gzip.compress,
    "deflate": _deflate,
    "br": brotli.compress,
}


def fetch(body: bytes, encoding: str, settings: Settings = SETTINGS) -> Any:
    """Serve ``body`` with a correct Content-Length and ``Content-Encoding: encoding``."""

    async def main() -> Any:
        headers = [("Content-Type", "text/html"), ("Content-Encoding", encoding)]
        async with (
            RawServer({"/": reply(200, body, headers)}) as server,
            make_client(settings) as client,
        ):
            try:
                return await fetch_page(client, server.url("/"), settings)
            except FetchError as exc:
                return exc

    return asyncio.run(main())


@pytest.mark.parametrize("encoding", list(ENCODERS))
def test_a_compressed_body_cut_inside_correct_framing_is_an_error(encoding: str) -> None:
    whole = ENCODERS[encoding](ARTICLE)
    result = fetch(whole[: len(whole) * 2 // 3], encoding)
    assert isinstance(result, NetworkError), result
    assert "cut short" in result.detail


def test_a_raw_deflate_body_is_decoded_and_its_cut_is_caught() -> None:
    whole = _raw_deflate(ARTICLE)
    assert fetch(whole, "deflate").body == ARTICLE
    assert isinstance(fetch(whole[:-20], "deflate"), NetworkError)


@pytest.mark.parametrize(
    ("encoding", "encode"),
    [
        ("gzip, gzip", lambda b: gzip.compress(gzip.compress(b))),
        ("GZIP,gzip", lambda b: gzip.compress(gzip.compress(b))),
        ("deflate, gzip", lambda b: gzip.compress(_deflate(b))),
        ("gzip, br", lambda b: brotli.compress(gzip.compress(b))),
        ("identity, gzip", gzip.compress),
    ],
)
def test_stacked_encodings_are_undone_last_first(encoding: str, encode: Any) -> None:
    assert fetch(encode(ARTICLE), encoding).body == ARTICLE


def test_a_cut_in_the_inner_layer_of_a_stack_is_an_error() -> None:
    inner = gzip.compress(ARTICLE)
    result = fetch(gzip.compress(inner[:-30]), "gzip, gzip")
    assert isinstance(result, NetworkError) and "cut short" in result.detail


def test_every_gzip_member_is_decoded() -> None:
    """RFC 1952 lets a gzip file hold members one after the other (e.g. appended logs)."""
    half = len(ARTICLE) // 2
    body = gzip.compress(ARTICLE[:half]) + gzip.compress(ARTICLE[half:])
    assert fetch(body, "gzip").body == ARTICLE


def test_a_bomb_in_the_inner_layer_stops_at_the_cap() -> None:
    bomb = gzip.compress(gzip.compress(bytes(50 * 1024 * 1024), 1), 1)
    result = fetch(bomb, "gzip, gzip", Settings(limits=Limits(max_bytes=1024 * 1024)))
    assert isinstance(result, TooLarge) and "cap" in result.detail


def test_too_many_stacked_encodings_are_refused() -> None:
    result = fetch(ARTICLE, ", ".join(["gzip"] * 9))
    assert isinstance(result, NetworkError) and "stacked" in result.detail


def test_an_empty_body_with_an_encoding_is_empty() -> None:
    assert fetch(b"", "gzip").body == b""
