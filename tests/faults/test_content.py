"""Hostile content, fetched from a real server and cleaned: every page ends as an
`Article` or a `Reject` with a reason, in bounded time and memory, never a crash."""

from __future__ import annotations

import asyncio
import gzip
import time
import tracemalloc
from typing import Any

import pytest

from cleaner import Article, Reject, RejectReason
from cleaner.limits import nesting_depth
from scraper.discovery import DiscoveryError, load_listing_rules, parse_listing
from scraper.errors import FetchError, TooLarge, TooManyRedirects
from scraper.fetch.http import fetch_page, make_client
from scraper.jobs.pipeline import clean_page
from scraper.settings import Limits, Settings
from tests.faults.rawserver import RawServer, Route, head, reply

WORDS = "The council met on Tuesday and agreed to keep the night buses running. "
ARTICLE = (
    "<html><head><title>Night buses stay</title></head><body><article>"
    "<h1>Night buses stay</h1>" + f"<p>{WORDS * 6}</p>" * 6 + "</article></body></html>"
)
MB = 1024 * 1024


def page(body: bytes, content_type: str | None = "text/html; charset=utf-8") -> Route:
    return reply(200, body, [("Content-Type", content_type)] if content_type else [])


async def _get(routes: dict[str, Route], path: str, settings: Settings) -> tuple[Any, RawServer]:
    async with RawServer(routes) as server, make_client(settings) as client:
        try:
            result: Any = await fetch_page(client, server.url(path), settings)
        except FetchError as exc:
            result = exc
        return result, server


def fetch_and_clean(route: Route) -> Article | Reject:
    fetched, _ = asyncio.run(_get({"/p": route}, "/p", Settings()))
    assert not isinstance(fetched, FetchError), fetched
    return clean_page(fetched)


def _stream_forever(declare: bool) -> Route:
    async def route(writer: Any) -> None:
        headers = [("Content-Type", "text/html")]
        headers.append(("Content-Length", str(1024 * MB)) if declare else ("Connection", "close"))
        writer.write(head(200, headers))
        chunk = b"<p>" + b"all work and no play " * 3000 + b"</p>"
        for _ in range(1024 * MB // len(chunk)):  # 1 GB, made on the fly
            writer.write(chunk)
            await writer.drain()

    return route


@pytest.mark.parametrize("declare", [True, False], ids=["declared", "undeclared"])
def test_one_gigabyte_body_is_stopped_at_the_cap_without_being_held(declare: bool) -> None:
    settings = Settings(limits=Limits(max_bytes=2 * MB))
    tracemalloc.start()
    try:
        result, server = asyncio.run(_get({"/huge": _stream_forever(declare)}, "/huge", settings))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert isinstance(result, TooLarge)
    assert server.sent < 64 * MB, "the client stopped reading long before 1 GB"
    assert peak < 12 * MB, f"peak {peak / MB:.1f} MB for a 2 MB cap"


def _deep(n: int, tag: str = "<div>") -> bytes:
    return ("<html><head><title>Deep</title></head><body>" + tag * n + ARTICLE).encode()


HOSTILE: dict[str, Route] = {
    "binary as text/html": page(bytes(range(256)) * 4000),
    "gzip bytes as text/html": page(gzip.compress(ARTICLE.encode() * 50)),
    "wrong charset (utf-8 said, cp1252 sent)": page(
        ARTICLE.replace("buses", "bus\u00e9s \u20ac").encode("cp1252")
    ),
    "latin-1 said, utf-8 sent": page(
        ARTICLE.replace("buses", "bus\u00e9s").encode(), "text/html; charset=iso-8859-1"
    ),
    "unknown charset": page(ARTICLE.encode(), "text/html; charset=x-made-up-42"),
    "missing charset and type": page(ARTICLE.encode(), None),
    "invalid utf-8": page(ARTICLE.encode().replace(b"buses", b"bus\xff\xfe\xc3\x28es")),
    "utf-16 without a bom": page(ARTICLE.encode("utf-16-le"), "text/html"),
    "NUL bytes": page(ARTICLE.encode().replace(b" ", b"\x00 ")),
    "megabyte-long line": page(
        ARTICLE.replace("</article>", f"<p>{'word ' * 200_000}</p></article>").encode()
    ),
    "megabyte-long attribute": page(
        ARTICLE.replace("<article>", f'<article data-x="{"x" * MB}">').encode()
    ),
    "megabyte-long title": page(ARTICLE.replace("Night buses stay", "T" * MB).encode()),
    "10,000-deep nesting": page(_deep(10_000)),
    "20,000 self-closed divs": page(_deep(20_000, "<div/>")),
    "stray end tags": page(_deep(20_000, "<div></span>")),
    "10,000 unclosed formatting tags": page(_deep(10_000, "<b><i>")),
    "distinct formatting tags": page(
        ("".join(f'<b class="c{i}">' for i in range(3000)) + ARTICLE).encode()
    ),
    "one table row of 10,000 cells": page(
        ARTICLE.replace(
            "</article>", "<table><tr>" + "<td>7</td>" * 10_000 + "</tr></table></article>"
        ).encode()
    ),
    "a title of 10,000 separators": page(
        ARTICLE.replace("Night buses stay", " | ".join(f"Part {i}" for i in range(10_000)), 1)
        .replace("<h1>Night buses stay", "<h1>" + " » ".join(f"Part {i}" for i in range(10_000)))
        .encode()
    ),
    "no body at all": page(b""),
    "only whitespace": page(b" \n\t " * 1000),
    "only noise": page(
        (
            "<html><body><nav>Home News Opinion</nav>"
            + "<div>Share</div><div>Subscribe</div><div>Accept all cookies</div>" * 300
            + "</body></html>"
        ).encode()
    ),
    "script only": page(b"<html><script>" + b"var a=1;" * 100_000 + b"</script></html>"),
    "comment never closed": page(b"<html><body><!-- " + ARTICLE.encode() * 100),
    "cdata and doctype junk": page(b"<!DOCTYPE [<!ENTITY x 'y'>]><![CDATA[" + b"]]>" * 10_000),
    "204 no content": reply(204),
}


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_page_becomes_a_record_or_a_reject(name: str) -> None:
    # CPU seconds (the server runs in this process too): the bound is about work done,
    # and a loaded CI runner stretches wall time several times over.
    started = time.process_time()
    result = fetch_and_clean(HOSTILE[name])
    seconds = time.process_time() - started
    assert isinstance(result, Article | Reject)
    assert seconds < 10, f"{name}: {seconds:.1f} CPU s"
    if isinstance(result, Reject):
        assert result.reason in RejectReason and result.detail


@pytest.mark.parametrize("name", ["20,000 self-closed divs", "stray end tags"])
def test_hidden_depth_is_refused_not_parsed(name: str) -> None:
    result = fetch_and_clean(HOSTILE[name])
    assert isinstance(result, Reject) and result.reason is RejectReason.TOO_LARGE
    assert "nesting depth" in result.detail


def test_an_ordinary_page_survives_the_same_path() -> None:
    result = fetch_and_clean(page(ARTICLE.encode()))
    assert isinstance(result, Article) and result.title == "Night buses stay"


@pytest.mark.parametrize(
    ("html", "depth"),
    [
        ("<div/>" * 50, 50),  # HTML parsers ignore "/>" on a div: each one stays open
        ("<div></span>" * 50, 50),  # a stray end tag closes nothing
        ("<svg><path/><path/></svg>" * 50, 1),  # SVG honours "/>"
        ("<div><span><b>x</div>" * 50, 3),  # an end tag closes what is open inside it
        ("<ul><li>a<li>b</ul>" * 50, 1),
    ],
)
def test_nesting_depth_estimate_follows_the_parser(html: str, depth: int) -> None:
    assert nesting_depth(html) == depth


def test_deep_listing_page_is_refused_fast() -> None:
    started = time.monotonic()
    with pytest.raises(DiscoveryError, match="nesting depth"):
        parse_listing(_deep(40_000, "<div/>"), "http://news.example/", load_listing_rules("qoshe"))
    assert time.monotonic() - started < 2


def test_redirect_chain_of_fifty_stops_at_the_limit() -> None:
    routes: dict[str, Route] = {
        f"/r{i}": reply(302, b"", [("Location", f"/r{i + 1}")]) for i in range(50)
    }
    routes["/r50"] = page(ARTICLE.encode())
    result, server = asyncio.run(_get(routes, "/r0", Settings()))
    assert isinstance(result, TooManyRedirects)
    assert sum(server.hits.values()) == Settings().limits.max_redirects + 1
    allowed = Settings(limits=Limits(max_redirects=50))
    result, _ = asyncio.run(_get(routes, "/r0", allowed))
    assert result.status == 200 and len(result.redirects) == 50


@pytest.mark.parametrize(
    "location", ["/a", "/b?x=1", "http://[::1/", "http://127.0.0.1:99999/", "//"]
)
def test_redirect_loops_and_broken_locations_are_clean_errors(location: str) -> None:
    routes: dict[str, Route] = {
        "/a": reply(302, b"", [("Location", "/b?x=1")]),
        "/b?x=1": reply(301, b"", [("Location", location)]),
    }
    result, _ = asyncio.run(_get(routes, "/a", Settings()))
    assert isinstance(result, FetchError), result
