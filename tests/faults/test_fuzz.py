"""Fuzz what the parser fuzz tests elsewhere do not reach: a whole response judged and
cleaned (status, headers and body all hostile), the address checks, and file names.

`extract`/`extract_text` are fuzzed in tests/cleaner/test_fuzz.py; the feed, sitemap
and listing parsers and the sources file in tests/scraper/discovery and test_sources.
"""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from cleaner import Article, Reject
from scraper.fetch.addresses import AddressPolicy
from scraper.fetch.page import FetchedPage
from scraper.jobs.pipeline import clean_page
from scraper.store.records import safe_component

FUZZ = settings(
    max_examples=int(os.environ.get("SCRAPER_FUZZ_EXAMPLES", "80")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
_CONTENT_TYPES = st.sampled_from(
    [
        "text/html",
        "text/html; charset=utf-8",
        "text/html; charset=x-unknown",
        "text/html; charset=",
        "text/html; charset=utf-16",
        "application/xhtml+xml",
        "application/octet-stream",
        "",
        "text/html; charset=\x00",
        "text/html;;;charset=utf-7",
    ]
)
_BODIES = st.one_of(
    st.binary(max_size=3000),
    st.text(max_size=2000).map(lambda text: text.encode("utf-8", "surrogatepass")),
    st.lists(
        st.sampled_from(
            [
                "<html>",
                "<title>",
                "Tide",
                "</title>",
                "<h1>",
                "<p>",
                "word " * 30,
                "</p>",
                "<div/>",
                "</span>",
                "<meta charset=cp1252>",
                "\x00",
                "\xff",
                "<![CDATA[",
                "-->",
            ]
        ),
        max_size=60,
    ).map(lambda parts: "".join(parts).encode("utf-8", "replace")),
)


@FUZZ
@given(
    status=st.sampled_from([200, 200, 200, 204, 301, 304, 403, 404, 429, 500, 999]),
    content_type=_CONTENT_TYPES,
    body=_BODIES,
    path=st.text(max_size=40),
)
def test_any_response_is_cleaned_to_a_record_or_a_reject(
    status: int, content_type: str, body: bytes, path: str
) -> None:
    url = "http://news.example/" + re.sub(r"[^a-z0-9/._-]", "", path)
    page = FetchedPage(
        url=url,
        final_url=url,
        status=status,
        headers=[("Content-Type", content_type)] if content_type else [],
        body=body,
        fetched_at=datetime(2026, 3, 1, tzinfo=UTC),
    )
    assert isinstance(clean_page(page), Article | Reject)


_URLISH = st.one_of(
    st.text(max_size=60),
    st.builds(
        lambda scheme, host, port, path: f"{scheme}://{host}{port}{path}",
        st.sampled_from(["http", "https", "HTTP", "file", "ftp", "", "javascript"]),
        st.one_of(
            st.sampled_from(["127.1", "[::1", "::1]", "[fe80::1%eth0]", "0x7f.1", "a..b", ""]),
            st.text(max_size=20),
        ),
        st.sampled_from(["", ":80", ":99999", ":-1", ":x", ":"]),
        st.text(max_size=20),
    ),
)


@FUZZ
@given(from_url=st.one_of(st.none(), _URLISH), to_url=_URLISH, allow=st.booleans())
@example(from_url=None, to_url="0://[]@", allow=False)  # yarl raised IndexError on it
@example(from_url="0://[]@", to_url="http://example.org/", allow=False)
def test_hop_refusal_never_raises(from_url: str | None, to_url: str, allow: bool) -> None:
    refusal = AddressPolicy(allow_private=allow).hop_refusal(from_url, to_url)
    assert refusal is None or isinstance(refusal, str)


@FUZZ
@given(name=st.text(max_size=300))
def test_safe_component_of_any_text_is_a_plain_name(name: str) -> None:
    component = safe_component(name)
    assert re.fullmatch(r"[a-z0-9_][a-z0-9._-]{0,80}", component), component
    assert component not in {".", ".."}  # "0..0" is a plain name; only a whole ".." climbs
