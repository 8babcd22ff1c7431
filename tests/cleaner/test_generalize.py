"""Generic mechanisms that held-out pages needed (issue 15), each on a hand-written page.

Every page here is written for the test in the shape of a real one; none is taken from
a corpus.
"""

from __future__ import annotations

from datetime import UTC, datetime

from selectolax.lexbor import LexborHTMLParser as HTMLParser

from cleaner.body import extract_body
from cleaner.extraction import extract
from cleaner.titles import choose_title

_FETCHED = datetime(2025, 6, 1, tzinfo=UTC)
_PROSE = [
    "The council voted on Tuesday to keep the old swimming pool open for three more"
    " summers, after a petition signed by more than four thousand residents.",
    "Engineers had warned that the roof needed repairs, and the budget for them will now"
    " come from the sale of a car park that nobody has used since the station closed.",
    "Swimmers who train there before work said the decision saved them a long drive, and"
    " the lifeguards, who had been told to look for other jobs, were relieved.",
    "A review of the building is planned for next spring, when the council will decide"
    " whether to rebuild the changing rooms or to replace the whole hall.",
]
_PARAGRAPHS = "".join(f"<p>{text}</p>" for text in _PROSE)


def _page(body: str, head: str = "", prolog: str = "<!DOCTYPE html>") -> str:
    return (
        f"{prolog}<html lang='en'><head><meta charset='utf-8'><title>Pool stays open</title>"
        f"{head}</head><body><header><a href='/'>The Valley Courier</a></header>"
        f"{body}<footer>Contact - Terms - Privacy</footer></body></html>"
    )


# 5. Fallbacks -------------------------------------------------------------------------


def test_a_page_with_an_xml_declaration_still_gets_its_fallback_date() -> None:
    # XHTML served with its declaration; the date is only in the visible text.
    body = f"<article><h1>Pool stays open</h1><p>Posted on March 3, 2025</p>{_PARAGRAPHS}</article>"
    page = _page(body, prolog='<?xml version="1.0" encoding="utf-8"?>\n<!DOCTYPE html>')

    article = extract(page, url="https://courier.example/pool", fetched_at=_FETCHED)

    assert article.date == "2025-03-03"


def test_the_date_fallback_searches_the_text_extensively() -> None:
    body = (
        "<article><h1>Pool stays open</h1>"
        f"<p>Filed on March 3, 2025, in Town news</p>{_PARAGRAPHS}</article>"
    )

    article = extract(_page(body), url="https://courier.example/pool", fetched_at=_FETCHED)

    assert article.date == "2025-03-03"


def test_the_extensive_date_search_runs_on_a_page_big_with_scripts() -> None:
    # 150,000 characters of inline script, a few thousand of text: the size that counts
    # for the search is the text's.
    body = (
        "<article><h1>Pool stays open</h1>"
        f"<p>Filed on March 3, 2025, in Town news</p>{_PARAGRAPHS}</article>"
    )
    head = "<script>var config = {" + "'key': 'value', " * 10_000 + "};</script>"

    article = extract(_page(body, head), url="https://courier.example/pool", fetched_at=_FETCHED)

    assert article.date == "2025-03-03"


# 6. Newlines --------------------------------------------------------------------------


def test_a_line_break_inside_a_source_paragraph_does_not_split_it() -> None:
    wrapped = [
        text.replace(" after ", "\n  after ").replace(", and ", ",\n and ") for text in _PROSE
    ]
    body = "<article><h1>Pool stays open</h1>" + "".join(f"<p>{t}</p>" for t in wrapped)
    body += "</article>"

    article = extract(_page(body), url="https://courier.example/pool", fetched_at=_FETCHED)

    assert article.body.split("\n\n") == _PROSE


def test_an_author_name_written_over_two_lines_is_one_name() -> None:
    byline = "<div class='author-name'>Ada\n      Lindqvist</div>"
    page = _page(f"<article><h1>Pool stays open</h1>{byline}{_PARAGRAPHS}</article>")

    article = extract(page, url="https://courier.example/pool", fetched_at=_FETCHED)

    assert article.authors == ["Ada Lindqvist"]


def _body_of(body: str, head: str = "") -> str:
    return extract(_page(body, head), url="https://courier.example/pool", fetched_at=_FETCHED).body


_NOTE = (
    "<div class='author-note'><p>Nell Varga writes about the valley's public services and"
    " has covered the council for the Courier since the floods of the last decade, when she"
    " reported from the flooded villages for three weeks.</p><p>Before that she taught"
    " geography at the secondary school in Millbrook, ran its debating club, and wrote a"
    " weekly column about walking routes, rivers and the history of the old mills.</p><p>Her"
    " book about the valley's railways, bridges and canals came out last spring, and she is"
    " now writing a second one about its schools.</p></div>"
)
_MORE = [
    "The pool was built in 1968 by the mining company, and generations of children from the"
    " valley learned to swim in it before the mines closed.",
    "Its supporters now want to raise money for solar panels on the roof, which they say"
    " would cut the heating bill by a third within five years.",
    "The swimming club, which has trained there since 1971, will hold a gala in August to"
    " thank the residents who signed the petition, with races for every age group.",
    "Entry to the gala will be free, and the club says any money raised on the day will go"
    " towards the solar panels, the changing rooms or new lane ropes.",
]


# 1. Prose outside <p> ------------------------------------------------------------------


def test_an_article_written_in_br_separated_lines_is_read() -> None:
    lines = "<br><br>\n".join([*_PROSE, *_MORE])
    body = f"<main><h1>Pool stays open</h1><div class='entry'>{lines}</div></main>{_NOTE}"

    assert _body_of(body).split("\n\n") == [*_PROSE, *_MORE]


def test_an_article_in_div_paragraphs_beats_an_author_note_in_p() -> None:
    # Without <p> prose the note looked like the whole article (all of the page's <p>
    # prose, over 500 characters), and the fallback never ran.
    divs = "".join(f"<div>{text}</div>" for text in [*_PROSE, *_MORE])
    body = (
        "<article><h1>Pool stays open</h1><h2>Three more summers for the valley's pool</h2>"
        f"<div class='txt'>{divs}</div>{_NOTE}</article>"
    )

    assert _body_of(body).split("\n\n")[1:9] == [*_PROSE, *_MORE]


def test_text_runs_between_blocks_beat_an_author_note_in_p() -> None:
    # The article is bare text between <div>s (images, ad slots), its paragraphs split
    # by empty <span>s; the one <p> on the page is the author's note, "all" the prose.
    runs = "<span class='br'></span>".join([*_PROSE, *_MORE])
    body = (
        "<article><h1>Pool stays open</h1><div class='story'>"
        "<div class='photo'><img src='/pool.jpg' alt=''></div>"
        f"{runs}<div class='ad-slot'></div>{_NOTE}</div></article>"
    )

    text = _body_of(body)

    assert all(sentence in text for sentence in [*_PROSE, *_MORE])


# 2. Deletion rules ---------------------------------------------------------------------


def test_a_repeated_line_keeps_its_first_copy() -> None:
    paragraphs = [f"<p>{text}</p>" for text in _PROSE]
    body = (
        "<article><h1>Pool stays open</h1><h2>What happens next</h2>"
        + "".join(paragraphs[:2])
        + "<p>Opening hours stay the same.</p>"
        + "".join(paragraphs[2:])
        + "<p>Opening hours stay the same.</p></article>"
    )

    blocks = _body_of(body).split("\n\n")

    assert blocks.count("Opening hours stay the same.") == 1
    assert blocks[0] == "What happens next"


def test_class_words_match_whole_words_not_substrings() -> None:
    body = (
        "<article><h1>Pool stays open</h1>"
        f"<p>{_PROSE[0][:-1]}, as <a class='popup-trigger' href='/p'>the petition</a> asked.</p>"
        "<table class='shareholders'><tr><td>Council</td><td>Sixty per cent of the pool trust</td>"
        "</tr></table>"
        f"<div class='read-more-content'><p>{_PROSE[1]}</p><p>{_PROSE[2]}</p><p>{_PROSE[3]}</p>"
        "</div><div class='read-more'><a href='/more'>Read more</a></div></article>"
    )

    text = _body_of(body)

    assert "as the petition asked." in text
    assert "Sixty per cent of the pool trust" in text
    assert all(paragraph in text for paragraph in _PROSE[1:])


def test_a_quoted_tweet_stays_in_the_article() -> None:
    tweet = (
        "<blockquote class='twitter-tweet'><p>Our pool is staying open for three more summers,"
        " thank you to everyone who signed!</p>- Valley Swimmers (@valleyswim)</blockquote>"
    )
    body = f"<article><h1>Pool stays open</h1>{_PARAGRAPHS}{tweet}</article>"

    assert "thank you to everyone who signed!" in _body_of(body)


def test_a_comment_inside_a_code_listing_is_code() -> None:
    # Syntax highlighters mark a code comment with a "comment" class.
    code = (
        "<pre><code class='language-bash'><span class='hljs-comment'># fetch the timetable"
        "</span>\ncurl -O https://courier.example/pool/timetable.csv</code></pre>"
    )
    body = f"<article><h1>Pool stays open</h1>{_PARAGRAPHS}{code}</article>"

    assert "# fetch the timetable curl -O" in _body_of(body)


# 3. Split articles ---------------------------------------------------------------------


def _nested(html: str, depth: int) -> str:
    return "<div class='slot'>" * depth + html + "</div>" * depth


def test_an_article_split_into_deeply_wrapped_sections_is_read_whole() -> None:
    first, middle, last = _MORE[:1], _PROSE, _MORE[1:]
    sections = "<div class='ad-slot'>Advertisement</div>".join(
        _nested("".join(f"<p>{text}</p>" for text in part), 5) for part in (first, middle, last)
    )
    body = f"<div class='page'><h1>Pool stays open</h1><div class='story'>{sections}</div></div>"

    assert _body_of(body).split("\n\n") == [*first, *middle, *last]


def test_an_article_built_from_page_builder_widgets_is_read_whole() -> None:
    # Page builders put each section of the text in a "widget" panel of its own.
    panels = "".join(
        "<div class='panel-grid-cell'><div class='so-panel widget widget_text'>"
        f"<div class='textwidget'><h2>Part {n}</h2>"
        + "".join(f"<p>{text}</p>" for text in texts)
        + "</div></div></div>"
        for n, texts in enumerate([_PROSE, _MORE[:3]])
    )
    body = f"<article><h1>Pool stays open</h1><div class='entry-content'>{panels}</div></article>"

    text = _body_of(body)

    assert all(sentence in text for sentence in [*_PROSE, *_MORE[:3]])


# 4. Tables, lists, captions ------------------------------------------------------------


def test_an_article_that_is_a_table_and_a_list_keeps_them() -> None:
    rows = "".join(
        f"<tr><td>{day}</td><td>{hours}</td></tr>"
        for day, hours in [("Monday", "6:30 to 21:00"), ("Saturday", "8:00 to 18:00")]
    )
    # A guide whose text is mostly its list of links, between two paragraphs.
    guides = [
        "Swimming fees for 2025",
        "Lane timetable",
        "Lessons for beginners",
        "Aqua fitness classes",
        "Parking near the pool",
        "Accessible changing rooms",
        "Lost property office",
        "Booking a lane for a club",
        "Swimming club training times",
        "Hiring the pool for a party",
        "Sauna and steam room opening",
        "Safety rules for the diving board",
    ]
    links = "".join(f"<li><a href='/{n}'>{name}</a></li>" for n, name in enumerate(guides))
    body = (
        f"<article><h1>Pool stays open</h1><p>{_PROSE[0]}</p>"
        f"<table><caption>Opening hours from June</caption>{rows}</table>"
        f"<ul>{links}</ul><p>The guides are updated every week.</p>"
        "<ul class='more'><li><a href='/x'>Bridge repairs start in May</a></li></ul></article>"
    )

    scored = extract_body(HTMLParser(_page(body)), "Pool stays open")

    assert scored is not None
    text = scored.text

    for kept in ["Opening hours from June", "Saturday", "8:00 to 18:00", "Lane timetable"]:
        assert kept in text
    assert "Bridge repairs" not in text


def test_a_closing_section_of_other_pages_is_cut_where_the_article_goes_on() -> None:
    # The container ends with the site's "Related articles" cards (a heading and a teaser
    # each, their links on the images, which are gone), and holds an "Also read:" box
    # mid-piece; the piece goes on under its next sub-heading.
    cards = "".join(
        f"<div class='card'><h3>{title}</h3><p>{teaser}</p></div>"
        for title, teaser in [
            ("Library hours cut", "The town library will close on Mondays from next month."),
            ("New bus line", "A bus will link the station and the hospital from May."),
        ]
    )
    body = (
        f"<article><h1>Pool stays open</h1><p>{_PROSE[0]}</p><p>{_PROSE[1]}</p>"
        "<p><strong>Also read:</strong></p><p>Bridge repairs will close the river road for"
        " two weeks in June.</p>"
        f"<h2>What comes next</h2><p>{_PROSE[2]}</p><p>{_PROSE[3]}</p>"
        f"<h2>Related articles</h2><div class='cards'>{cards}</div></article>"
    )

    text = _body_of(body)

    assert all(sentence in text for sentence in _PROSE)
    assert "What comes next" in text
    for gone in ["Bridge repairs", "Related articles", "Library hours", "town library", "bus"]:
        assert gone not in text


def test_a_table_keeps_every_row_whole_with_its_repeated_and_numeric_cells() -> None:
    # A training plan: its cells repeat ("Rest", "30 min") and some are bare numbers, which
    # the noise and repeat filters drop when a cell is read as a line of its own.
    plan = [
        ("Week", "Monday", "Tuesday", "Sunday"),
        ("1", "Rest", "Easy run 30 min", "Rest"),
        ("2", "Rest", "Easy run 30 min", "Long run 8 km"),
        ("3", "Rest", "Hills 30 min", "Long run 10 km"),
    ]
    rows = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in plan)
    body = (
        f"<article><h1>Pool stays open</h1>{_PARAGRAPHS}"
        f"<table><tbody>{rows}</tbody></table><p>{_MORE[0]}</p></article>"
    )

    text = _body_of(body)

    assert "Week | Monday | Tuesday | Sunday" in text.split("\n\n")
    assert "2 | Rest | Easy run 30 min | Long run 8 km" in text.split("\n\n")
    assert "3 | Rest | Hills 30 min | Long run 10 km" in text.split("\n\n")


def test_a_table_inside_a_figure_is_kept() -> None:
    # Block editors wrap every table in a <figure>; figures (images) are dropped, tables not.
    rows = "".join(
        f"<tr><td>{day}</td><td>{hours}</td></tr>"
        for day, hours in [("Monday", "6:30 to 21:00"), ("Saturday", "8:00 to 18:00")]
    )
    paragraphs = [f"<p>{text}</p>" for text in _PROSE]
    body = (
        f"<article><h1>Pool stays open</h1>{paragraphs[0]}{paragraphs[1]}"
        f"<figure class='wp-block-table'><table>{rows}</table>"
        "<figcaption>Opening hours from June</figcaption></figure>"
        f"{paragraphs[2]}<figure><img src='/pool.jpg'><figcaption>The pool in 1968"
        f"</figcaption></figure>{paragraphs[3]}</article>"
    )

    text = _body_of(body)

    assert "Saturday" in text and "8:00 to 18:00" in text
    assert "The pool in 1968" not in text


# 7. Titles -----------------------------------------------------------------------------


def test_a_closing_guillemet_is_not_a_site_separator() -> None:
    for title in ["Das Ende des «Widerstands»", "Die «Seebrücke» | Stadtanzeiger"]:
        assert choose_title([title], ["Stadtanzeiger"], "www.stadtanzeiger.example") == (
            title.removesuffix(" | Stadtanzeiger")
        )


def test_a_title_holding_a_date_is_still_a_title() -> None:
    # A newsletter names each issue by its date; only a title that is nothing but a
    # date is refused (a page whose <h1> is its date stamp).
    head = "<meta property='og:title' content='Valley Notes: The pool (2025-03-03)'>"
    page = _page(f"<article><h1>2025-03-03</h1>{_PARAGRAPHS}</article>", head).replace(
        "<title>Pool stays open</title>", "<title>Valley Notes: The pool (2025-03-03)</title>"
    )

    article = extract(page, url="https://courier.example/pool", fetched_at=_FETCHED)

    assert article.title == "Valley Notes: The pool (2025-03-03)"
    assert choose_title(["2025-03-03", "The pool"], []) == "The pool"


def test_a_bullet_separates_the_site_name_in_a_title() -> None:
    # Blog themes write "Post • Site" in <title> and og:title; the site's name goes, and a
    # bullet inside a headline (no spaces around it) stays.
    head = (
        "<meta property='og:title' content='Pool stays open \u2022 The Valley Courier'>"
        "<meta property='og:site_name' content='The Valley Courier'>"
    )
    page = _page(f"<article>{_PARAGRAPHS}</article>", head)

    article = extract(page, url="https://courier.example/pool", fetched_at=_FETCHED)

    assert article.title == "Pool stays open"
    assert choose_title(["Pool\u2022Gym \u2022 Valley Courier"], ["Valley Courier"]) == (
        "Pool\u2022Gym"
    )


# 8. Authors ----------------------------------------------------------------------------


def test_a_visible_byline_without_a_known_class_is_read() -> None:
    for byline, name in [
        ("<div class='meta'><span>By</span>\n <span>Ines Okafor</span></div>", "Ines Okafor"),
        ("<div class='meta'>Par <strong>Margaux Lenoir</strong></div>", "Margaux Lenoir"),
        ("<p class='info'>von Jonas Wehrli</p>", "Jonas Wehrli"),
    ]:
        page = _page(f"<article><h1>Pool stays open</h1>{byline}{_PARAGRAPHS}</article>")
        article = extract(page, url="https://courier.example/pool", fetched_at=_FETCHED)
        assert article.authors == [name], byline


def test_an_author_bio_in_a_byline_box_is_not_split_into_names() -> None:
    # The bio's commas and "and"s split it into "names" that only a sentence break betrays.
    bio = (
        "<div class='byline'>Nell Varga covers data and technology. Based in Millbrook,"
        " she writes on schools, rivers and roads.</div>"
    )
    page = _page(f"<article><h1>Pool stays open</h1>{bio}{_PARAGRAPHS}</article>")

    article = extract(page, url="https://courier.example/pool", fetched_at=_FETCHED)

    assert not any("Based in" in name or "technology" in name for name in article.authors)
