"""Field-level rules: authors, titles, dates, body container choice."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st
from selectolax.lexbor import LexborHTMLParser as HTMLParser

from cleaner import titles
from cleaner.authors import clean_authors
from cleaner.body import extract_body
from cleaner.dates import normalize_date, pick_date
from cleaner.extract import extract
from cleaner.noise import text_key
from cleaner.titles import choose_title, strip_site_name


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (["By Jane Roe and John Doe"], ["Jane Roe", "John Doe"]),
        (
            ["von Max Muster, Erika Beispiel & Ida Test"],
            ["Max Muster", "Erika Beispiel", "Ida Test"],
        ),
        (["jane@example.org", "Email the author", "https://x.example/a"], []),
        (["12.03.2025", "15:36 Uhr", "(Image: Getty Images)", "jane-roe"], []),
        (["The Harbour Post", "Priya Anand"], ["Priya Anand"]),
        (["dpa"], ["dpa"]),
    ],
)
def test_clean_authors(raw: list[str], expected: list[str]) -> None:
    assert clean_authors(raw, ["The Harbour Post"]) == expected


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("Night buses now | The Gazette", "Night buses now"),
        ("Night buses now - The Gazette - Opinion", "Night buses now"),
        ("The Gazette | Night buses now", "Night buses now"),
        ("Night buses now * Gazette Daily * by Jo Parker", "Night buses now"),
        (
            "Tony Blair: Why there has to be compromise",
            "Tony Blair: Why there has to be compromise",
        ),
        ("Ziele, Chancen, Risiken | DW | 28.04.2023", "Ziele, Chancen, Risiken"),
    ],
)
def test_strip_site_name(title: str, expected: str) -> None:
    assert strip_site_name(title, ["The Gazette", "Gazette Daily"], "www.dw.com") == expected


def test_scraped_bylines_must_not_read_as_a_phrase() -> None:
    bio = "published every Thursday across the country"
    assert clean_authors([bio], scraped=True) == []
    assert clean_authors(["Guardian staff reporter"]) == ["Guardian staff reporter"]


def test_choose_title_skips_the_bare_site_name() -> None:
    assert choose_title(["The Gazette", None, "A real headline"], ["The Gazette"]) == (
        "A real headline"
    )


def test_dates_never_after_the_fetch_and_raw_kept() -> None:
    fetched = datetime(2025, 3, 20, 12, 0, tzinfo=UTC)
    picked = pick_date(["2031-01-01", "not a date", "14.03.2025"], fetched, ["%d.%m.%Y"])
    assert picked == ("14.03.2025", "2025-03-14")
    assert normalize_date("2025-02-07T08:30:00+01:00") == "2025-02-07T08:30:00+01:00"
    assert normalize_date("2025-02-07T08:30:00") == "2025-02-07T08:30:00"  # no zone invented
    assert normalize_date("call 0171 2025 1234") is None


def test_body_keeps_subheadings_and_drops_boilerplate_inside_the_article() -> None:
    prose = "A full sentence of the column, with a clause or two, to score as prose. " * 3
    page = f"""<html><body><nav><a href="/">Home</a></nav><main><article>
      <h1>Headline</h1><div class="standfirst"><p>The lead: {prose}</p></div>
      <div class="article-body"><p>One. {prose}</p><h2>A section</h2><p>Two. {prose}</p>
      <div class="newsletter-box"><p>Sign up for our letter, it is free and weekly.</p></div>
      <ul class="related-links"><li><a href="/x">Another story entirely</a></li></ul>
      <p>Three. {prose}</p></div>
      <div class="comments"><p>Reader: great piece, I agree with all of it, really.</p></div>
    </article></main><footer>About us</footer></body></html>"""

    scored = extract_body(HTMLParser(page), "Headline")

    assert scored is not None
    blocks = scored.text.split("\n\n")
    assert [block.split(":")[0].split(".")[0] for block in blocks] == [
        "The lead",
        "One",
        "A section",
        "Two",
        "Three",
    ]
    assert scored.prose_share == 1.0


def test_lead_in_the_article_header_goes_first() -> None:
    prose = "A full sentence of the column, with a clause or two, to score as prose. " * 3
    page = f"""<html><body><aside class="summary-box"><p>Elsewhere: {prose}</p></aside>
      <article><header><div class="kicker">Opinion</div><h1>Headline</h1>
      <div class="meta"><p class="article-summary">
      The lead sentence that sums up the whole argument.</p></div></header>
      <section><div class="story-body"><p>One. {prose}</p><p>Two. {prose}</p></div></section>
    </article></body></html>"""

    scored = extract_body(HTMLParser(page), "Headline")

    assert scored is not None
    blocks = scored.text.split("\n\n")
    assert blocks[0] == "The lead sentence that sums up the whole argument."
    assert [block[:4] for block in blocks[1:]] == ["One.", "Two."]


_PROSE = "<p>" + "The council met on Tuesday to hear residents on the bridge repairs. " * 6 + "</p>"


def _page(head: str, byline: str) -> str:
    return (
        f"<html><head><title>Bridge repairs | Valley Courier</title>{head}</head><body>"
        f"<article><h1>Bridge repairs</h1>{byline}{_PROSE}{_PROSE}</article></body></html>"
    )


def test_an_agency_credited_as_author_is_not_mistaken_for_the_site() -> None:
    ld = (
        '<script type="application/ld+json">{"@type": "NewsArticle", "headline": "Bridge",'
        ' "author": [{"@type": "Person", "name": "Mara Quell"},'
        ' {"@type": "Organization", "name": "VNA"}],'
        ' "publisher": {"@type": "Organization", "name": "Valley Courier"}}</script>'
    )
    article = extract(_page(ld, ""), url="https://courier.example/bridge")
    assert article.authors == ["Mara Quell", "VNA"]


@pytest.mark.parametrize(
    "byline",
    [
        '<ul class="facts"><li><strong>Autorin/Autor</strong> Mara Quell </li></ul>',
        "<dl><dt>Author:</dt><dd>Mara Quell</dd></dl>",
        '<ul><li class="authors__item"><span>von</span> <span>Mara Quell</span></li></ul>',
    ],
)
def test_bylines_in_fact_lists_and_author_list_items(byline: str) -> None:
    article = extract(_page("", byline), url="https://courier.example/bridge")
    assert article.authors == ["Mara Quell"]


def test_a_label_without_a_name_gives_no_author() -> None:
    byline = "<ul><li><strong>Author</strong> 12.03.2025</li></ul>"
    assert extract(_page("", byline), url="https://courier.example/bridge").authors == []


@pytest.mark.parametrize(
    ("candidates", "sections", "expected"),
    [
        # A section glued to the headline, then the site after a Korean bar letter.
        (["항구 북쪽 부두 일 년간 폐쇄-사회ㅣ항구일보"], ["사회"], "항구 북쪽 부두 일 년간 폐쇄"),
        (
            ["Pier to close for a year - Local News | Harbour Times"],
            ["Local News"],
            "Pier to close for a year",
        ),
        # A section word inside the headline stays.
        (
            ["Local News is changing: our promise to readers"],
            ["Local News"],
            "Local News is changing: our promise to readers",
        ),
        # A trailing segment only one witness has, when another witness ends before it.
        (
            ["Pier to close for a year - Coast", "Pier to close for a year"],
            [],
            "Pier to close for a year",
        ),
        (
            ["Pier to close for a year - Coast", "Another headline"],
            [],
            "Pier to close for a year - Coast",
        ),
    ],
)
def test_title_section_suffixes(candidates: list[str], sections: list[str], expected: str) -> None:
    assert choose_title(candidates, ["Harbour Times", "항구일보"], "", sections) == expected


def test_endless_scroll_keeps_the_first_article_only() -> None:
    prose = "A full sentence of the column, with a clause or two, to score as prose. "

    def story(name: str, paragraphs: int) -> str:
        body = "".join(f"<p>{name} {n}. {prose * 2}</p>" for n in range(paragraphs))
        return f'<article class="story"><h1>{name} headline</h1>{body}</article>'

    # The next story is longer: the container holding both must not win as a whole.
    page = (
        "<html><body><main>"
        f"{story('First', 4)}<aside><p>Promo</p></aside>{story('Second', 7)}"
        "</main></body></html>"
    )

    scored = extract_body(HTMLParser(page), "First headline")

    assert scored is not None
    blocks = scored.text.split("\n\n")
    assert [block.split(".")[0] for block in blocks] == [f"First {n}" for n in range(4)]


def test_one_article_with_nested_story_cards_is_kept_whole() -> None:
    prose = "A full sentence of the column, with a clause or two, to score as prose. "
    page = (
        "<html><body><main><article><h1>Main headline</h1>"
        + "".join(f"<p>Main {n}. {prose * 2}</p>" for n in range(5))
        + "<article><h2>Card</h2><p>A card that quotes another piece at some length here.</p>"
        "</article></article></main></body></html>"
    )

    scored = extract_body(HTMLParser(page), "Main headline")

    assert scored is not None
    assert scored.text.split("\n\n")[0].startswith("Main 0.")
    assert len([b for b in scored.text.split("\n\n") if b.startswith("Main")]) == 5


def test_byline_and_date_stamp_lines_are_not_body() -> None:
    prose = "A full sentence of the column, with a clause or two, to score as prose. "
    ld = (
        '<script type="application/ld+json">{"@type": "NewsArticle", "headline": "Bridge",'
        ' "author": {"@type": "Person", "name": "Mara Quell"}}</script>'
    )
    page = (
        f"<html><head>{ld}</head><body><main><article><h1>Bridge</h1>"
        "<p>Mara Quell</p><p>28.04.2024 | 09:36 Uhr</p>"
        + "".join(f"<p>Part {n}. {prose * 2}</p>" for n in range(4))
        + "<p>On 28.04.2024 Mara Quell spoke to the council about it.</p>"
        "</article></main></body></html>"
    )

    article = extract(page, url="https://courier.example/bridge")

    blocks = article.body.split("\n\n")
    assert blocks[0].startswith("Part 0.")
    assert blocks[-1] == "On 28.04.2024 Mara Quell spoke to the council about it."


_UNSURE_UNDATED = (
    "<html><head><title>Harbour ferries</title></head><body>"
    "<div class='col'><h1>Harbour ferries</h1>"
    "<div class='byline'>Published 12 March 2024</div>"
    "<div class='txt'><p>The council kept the night ferry, and the harbour is busier for it"
    " than anyone expected when the budget was cut.</p></div></div>"
    "<div class='more'>"
    + "<p>Another column about the town's market square and river.</p>" * 6
    + "</div><script>var page = {};</script><noscript>Turn on scripts.</noscript></body></html>"
)


def test_trafilatura_leaves_the_tree_it_reads_unchanged() -> None:
    """extract() parses a page once for lxml and hands the same tree to htmldate after
    trafilatura: that is only sound while trafilatura works on its own copy."""
    import lxml.html  # type: ignore[import-untyped]
    import trafilatura

    tree = lxml.html.document_fromstring(_UNSURE_UNDATED)
    before = lxml.html.tostring(tree)
    assert trafilatura.extract(tree, url="https://example.org/a", include_comments=False)
    assert lxml.html.tostring(tree) == before


def test_trafilatura_body_and_htmldate_date_from_one_page() -> None:
    """The scorer is unsure (a short container) and no metadata dates the page: the body
    is trafilatura's and the date htmldate's, both read from the one lxml tree."""
    article = extract(
        _UNSURE_UNDATED,
        url="https://example.org/columns/harbour-ferries",
        fetched_at=datetime(2024, 6, 1, tzinfo=UTC),
    )
    assert article.date == "2024-03-12"
    assert "night ferry" in article.body
    assert "Turn on scripts" not in article.body


_TITLE_PARTS = st.lists(
    st.sampled_from(
        ["Night buses", "stay", "NIGHT-buses", "«Quote", "end»", "Ça", "ß", "-", "2025"]
    ),
    min_size=1,
    max_size=6,
)
_SEPARATOR = st.sampled_from([" | ", " - ", " » ", " : ", "｜", " / "])


@given(st.lists(st.tuples(_TITLE_PARTS, _SEPARATOR), min_size=1, max_size=6), st.data())
def test_a_title_is_cut_where_a_witness_ends_as_a_fresh_key_per_head_would_cut_it(
    pieces: list[tuple[list[str], str]], data: st.DataObject
) -> None:
    title = "".join(" ".join(words) + separator for words, separator in pieces).rstrip()
    heads = [title[: separator.start()] for separator in titles._separators(title)]
    witnesses = data.draw(st.lists(st.sampled_from([*heads, title, "Other", "--"]), max_size=4))
    expected = next(
        (
            head.strip()
            for head in heads
            if head.strip() and text_key(head) in {text_key(w) for w in witnesses}
        ),
        title,
    )
    assert titles._confirmed_prefix(title, witnesses) == expected
