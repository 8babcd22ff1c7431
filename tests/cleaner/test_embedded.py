"""Article text that Next.js-style pages carry only in their hydration scripts."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from cleaner import extract
from cleaner.embedded import embedded_article_html
from tests.cleaner.test_fuzz import FUZZ

_PARAGRAPHS = [
    "The harbour board voted late on Monday to close the north pier for a year of repairs.",
    "Fishers who moor there say the notice came too late to find other berths this season.",
    "The board's chair answered that the survey left no choice once the piles were tested.",
    "A public meeting is set for next week, and the council wants the ferry kept running.",
]
_ARTICLE = "".join(f'<p class="editor-p">{text}</p>' for text in _PARAGRAPHS)


def _flight_page(article_html: str, rows_before: str = '1:["$","div",null,{}]\n') -> str:
    """A page shaped like a Next.js App Router page: empty shell, article in a text row."""
    data = article_html.encode()
    stream = f'{rows_before}a:T{len(data):x},{article_html}2:["$","$La",null,{{}}]\n'
    # Split the stream over several pushes, as the framework does, mid-row included.
    cut = len(stream) // 2
    pushes = "".join(
        f"<script>self.__next_f.push([1,{json.dumps(part)}])</script>"
        for part in (stream[:cut], stream[cut:])
    )
    return (
        "<html><head><title>North pier to close | Harbour Times</title>"
        '<meta property="og:title" content="North pier to close"></head>'
        f'<body><div id="root"><nav>Home News Sport</nav></div>{pushes}</body></html>'
    )


def test_the_article_in_a_flight_text_row_becomes_the_body() -> None:
    article = extract(_flight_page(_ARTICLE), url="https://harbour.example/news/pier")
    assert article.body.split("\n\n") == _PARAGRAPHS


def test_multibyte_text_rows_are_cut_by_their_byte_length() -> None:
    korean = "".join(
        f"<p>{'항구 위원회는 북쪽 부두를 일 년 동안 닫기로 했다. ' * 3}{n}</p>" for n in range(4)
    )
    page = _flight_page(korean)
    found = embedded_article_html(page)
    assert found == korean


def test_json_hydration_data_with_article_html() -> None:
    data = {"props": {"pageProps": {"story": {"teaser": "<p>short</p>", "contentHtml": _ARTICLE}}}}
    page = (
        "<html><head><title>North pier to close</title></head><body><div id='app'></div>"
        f'<script id="__NEXT_DATA__" type="application/json">{json.dumps(data)}</script>'
        "</body></html>"
    )
    article = extract(page, url="https://harbour.example/news/pier")
    assert article.body.split("\n\n") == _PARAGRAPHS


def test_a_page_with_its_article_in_the_dom_ignores_script_copies() -> None:
    dom = "".join(f"<p>{text} In the markup.</p>" for text in _PARAGRAPHS * 2)
    page = _flight_page(_ARTICLE).replace('<div id="root">', f"<article>{dom}</article><div>")
    article = extract(page, url="https://harbour.example/news/pier")
    assert "In the markup." in article.body


def test_fewer_than_three_paragraphs_in_scripts_is_not_an_article() -> None:
    page = _flight_page("<p>One caption.</p><p>Another caption.</p>")
    assert embedded_article_html(page) is None


@FUZZ
@given(st.text(max_size=300), st.integers(min_value=0, max_value=0xFFFFFFFF))
def test_broken_flight_streams_never_crash(junk: str, length: int) -> None:
    page = _flight_page(junk, rows_before=f"{junk}\nb:T{length:x},{junk}")
    found = embedded_article_html(page)
    assert found is None or found.count("<p") >= 3
