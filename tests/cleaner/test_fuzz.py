"""Never crash: any text or bytes give an Article or an ExtractionError, nothing else."""

from __future__ import annotations

import os
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pytest_httpserver import HTTPServer

from cleaner import Article, ExtractionError, RejectReason, extract, extract_text
from cleaner.limits import MAX_DEPTH, MAX_INPUT_BYTES, MAX_TAGS

URL = "https://fuzz.example/opinion/column"
# Modest by default to keep the suite fast; CLEANER_FUZZ_EXAMPLES=1000 for a deeper run.
FUZZ = settings(
    max_examples=int(os.environ.get("CLEANER_FUZZ_EXAMPLES", "60")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

_TAGS = [
    "html",
    "head",
    "body",
    "title",
    "article",
    "main",
    "div",
    "p",
    "h1",
    "h2",
    "li",
    "ul",
    "script",
    "style",
    "meta",
    "time",
    "a",
    "span",
    "br",
    "table",
    "td",
]
_FRAGMENTS = st.one_of(
    st.sampled_from(_TAGS).map(lambda t: f"<{t}>"),
    st.sampled_from(_TAGS).map(lambda t: f"</{t}>"),
    st.sampled_from(
        [
            '<script type="application/ld+json">{"@type": "NewsArticle", "headline": "H"}</script>',
            '<script type="application/ld+json">{"@graph": [[[{"@type": ["Article"]}]]]}</script>',
            '<script type="application/ld+json">{"author": {"@id": 5}, "@type": "Article"',
            '<meta property="og:title" content="A title">',
            '<meta property="article:published_time" content="9999-99-99T99:99">',
            '<meta charset="x-unknown-charset">',
            '<time datetime="2031-02-30">',
            "<!--",
            "<![CDATA[",
            "&#0;&#xD800;&amp",
            "\x00\ufffd\u202e",
        ]
    ),
    st.text(min_size=0, max_size=40),
    st.integers(1, 3000).map(lambda n: f'<div class="{"x" * n}" data-a="{"y" * n}">'),
)


def _ok(call: object) -> None:
    assert callable(call)
    try:
        result = call()
    except ExtractionError as error:
        assert isinstance(error.reason, RejectReason)
        return
    assert isinstance(result, Article)


@FUZZ
@given(st.text(max_size=2000))
def test_any_text_as_html(text: str) -> None:
    _ok(lambda: extract(text, url=URL))


@FUZZ
@given(
    st.binary(max_size=2000),
    st.sampled_from([None, "text/html; charset=utf-16", "x/y; charset=bogus"]),
)
def test_any_bytes(raw: bytes, content_type: str | None) -> None:
    headers = {"Content-Type": content_type} if content_type else None
    _ok(lambda: extract(raw, url=URL, headers=headers))


@FUZZ
@given(st.lists(_FRAGMENTS, max_size=80))
def test_html_shaped_input(parts: list[str]) -> None:
    _ok(lambda: extract("".join(parts), url=URL))


@FUZZ
@given(
    st.sampled_from(["utf-8", "windows-1252", "shift_jis", "utf-16", "koi8-r"]),
    st.binary(max_size=500),
)
def test_declared_charset_with_broken_bytes(charset: str, raw: bytes) -> None:
    page = f'<html><head><meta charset="{charset}"><title>T</title></head><body><p>'.encode()
    _ok(lambda: extract(page + raw + b"</p></body></html>", url=URL))


@FUZZ
@given(st.text(max_size=2000), st.sampled_from([None, URL, "not a url"]))
def test_any_text_as_dump(text: str, url: str | None) -> None:
    _ok(lambda: extract_text(text, url=url))


@FUZZ
@given(st.integers(1, 400), st.sampled_from(["div", "span", "blockquote", "li", "table"]))
def test_deep_nesting(depth: int, tag: str) -> None:
    body = (
        f"<{tag}>" * depth
        + "<p>"
        + "Some words, in a sentence. " * 30
        + "</p>"
        + f"</{tag}>" * depth
    )
    _ok(lambda: extract(f"<html><head><title>T</title></head><body>{body}</body></html>", url=URL))


@pytest.mark.parametrize(
    "page",
    [
        "<p>" + "x" * (MAX_INPUT_BYTES + 1) + "</p>",
        "<i>a</i>" * (MAX_TAGS // 2 + 1),
        "<div>" * (MAX_DEPTH + 100) + "text",
    ],
    ids=["size", "tags", "depth"],
)
def test_guards_refuse_huge_pages_quickly(page: str) -> None:
    start = time.perf_counter()
    with pytest.raises(ExtractionError) as caught:
        extract(page, url=URL)
    assert caught.value.reason is RejectReason.TOO_LARGE
    assert time.perf_counter() - start < 2.0


def test_pages_under_the_caps_are_extracted() -> None:
    paragraph = "<p>" + "A sentence of a real column, with commas, and more. " * 8 + "</p>"
    page = (
        "<html><head><title>Deep but fine</title></head><body>"
        + "<div>" * (MAX_DEPTH // 2)
        + paragraph * 3
        + "</div>" * (MAX_DEPTH // 2)
        + "</body></html>"
    )

    article = extract(page, url=URL)

    assert article.title == "Deep but fine"
    assert article.body.count("A sentence of a real column") == 24


def test_page_text_that_looks_like_a_url_is_never_fetched(httpserver: HTTPServer) -> None:
    """htmldate downloads a string that looks like a URL; the cleaner must never let it."""
    page = (
        "<html><head><title>Lure</title></head><body><p>Bait text, long enough.</p></body></html>"
    )
    httpserver.expect_request("/lure").respond_with_data(page, content_type="text/html")

    for text in (httpserver.url_for("/lure"), httpserver.url_for("/lure").encode()):
        with pytest.raises(ExtractionError):
            extract(text, url=URL)
        with pytest.raises(ExtractionError):
            extract_text(text.decode() if isinstance(text, bytes) else text, url=URL)

    assert httpserver.log == []
