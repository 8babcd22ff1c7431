"""Every regex of the cleaner runs in linear time: 100 KB built to make a backtracking
pattern quadratic (runs of unterminated tags, of Unicode spaces, of dots, of pushed
script strings) takes well under a second through the function that holds the pattern,
and a page made of it is cleaned, end to end, in under SECURITY.md's 10 s."""

from __future__ import annotations

import contextlib
import importlib
import time
import tracemalloc
from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from cleaner import ExtractionError, extract
from cleaner.embedded import embedded_article_html
from cleaner.limits import nesting_depth
from cleaner.noise import normalize_text, strip_truncation, text_key
from cleaner.titles import choose_title, strip_section, strip_site_name

extract_module = importlib.import_module("cleaner.extraction")
N = 100_000
# Whitespace the text normalizer does not fold, so each reaches the patterns as a run.
SPACES = ["\u2028", "\u2029", "\u1680", "\r", "\n", " "]
NOW = datetime(2026, 11, 20, tzinfo=UTC)


def _timed(call: Callable[[], object], limit: float = 0.5) -> None:
    started = time.perf_counter()
    call()
    elapsed = time.perf_counter() - started
    assert elapsed < limit, f"{elapsed:.2f} s"


def test_nesting_depth_on_unterminated_tags() -> None:
    _timed(lambda: nesting_depth("<a" * (N // 2)))
    _timed(lambda: nesting_depth("<div>" * 10 + "<a href=x " * (N // 10)))


@pytest.mark.parametrize("space", SPACES, ids=[f"U+{ord(s):04X}" for s in SPACES])
def test_title_separators_on_space_runs(space: str) -> None:
    title = "Ferry" + space * N + "stays"
    _timed(lambda: strip_site_name(title, ["Harbour News"], "harbour.test"))
    _timed(lambda: strip_section(title + " - News", ["News"]))
    _timed(lambda: choose_title([title, "Ferry stays"], ["Harbour News"]))


@pytest.mark.parametrize("space", SPACES, ids=[f"U+{ord(s):04X}" for s in SPACES])
def test_date_stamp_on_space_runs(space: str) -> None:
    stamp = extract_module._DATE_STAMP
    for line in ["·" + space * N + "x", "28.04.2024" + space * N + "x", "09:36" + space * N + "x"]:
        _timed(lambda line=line: stamp.match(line))
    assert stamp.match("28.04.2024 | 09:36 Uhr") and stamp.match("14:05")


def test_truncation_dots_on_long_runs() -> None:
    _timed(lambda: strip_truncation("Ferry" + "." * N + "x", ()))
    _timed(lambda: strip_truncation("Ferry" + "…" * N + "x", ()))
    _timed(lambda: strip_truncation("Ferry..." + " " * N + "x", ()))
    assert strip_truncation("Ferry stays....", ()) == ("Ferry stays", True)


def test_text_normalizers_on_long_runs() -> None:
    _timed(lambda: normalize_text(("\u3000" * 10 + "x") * (N // 11)))
    _timed(lambda: text_key("-_" * N))


def test_flight_data_is_linear_in_time_and_memory() -> None:
    # Pushed strings full of escapes, and pushes left unterminated.
    chunk = '"' + '\\"a' * (N // 3) + '"'
    pages = [
        f"<script>self.__next_f.push([1, {chunk}])</script>",
        "<script>" + 'self.__next_f.push([1, "' * (N // 25) + "</script>",
        "<script>self.__next_f.push([1, " + '"\\' * (N // 2) + "</script>",
    ]
    for html in pages:
        tracemalloc.start()
        try:
            _timed(lambda html=html: embedded_article_html(html))
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert peak < 20 * len(html), f"{peak / 1e6:.1f} MB for {len(html) / 1e3:.0f} KB"


HOSTILE_PAGES = {
    "unterminated tags": "<a" * (N // 2),
    "title of spaces": "<title>Ferry" + "\u2028" * N + "stays</title>",
    "stamp of spaces": "<article><p>·" + "\u2029" * N + "x</p></article>",
    "dots": "<article><p>Ferry" + "." * N + "x</p></article>",
    "flight": '<script>self.__next_f.push([1, "' + "\\n<p>" * (N // 6) + '"])</script>',
}


@pytest.mark.parametrize("name", HOSTILE_PAGES)
def test_hostile_page_is_cleaned_in_bounded_time(name: str) -> None:
    html = "<html><head></head><body>" + HOSTILE_PAGES[name] + "</body></html>"

    def clean() -> None:
        with contextlib.suppress(ExtractionError):
            extract(html, url="http://harbour.test/ferry", fetched_at=NOW)

    _timed(clean, limit=10.0)
