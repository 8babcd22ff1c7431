"""Generic mechanisms that held-out pages needed (issue 15), each on a hand-written page.

Every page here is written for the test in the shape of a real one; none is taken from
a corpus.
"""

from __future__ import annotations

from datetime import UTC, datetime

from cleaner.extract import extract

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


def _page(body: str, head: str = "", prolog: str = "<!DOCTYPE html>") -> str:
    return (
        f"{prolog}<html lang='en'><head><meta charset='utf-8'><title>Pool stays open</title>"
        f"{head}</head><body><header><a href='/'>The Valley Courier</a></header>"
        f"{body}<footer>Contact - Terms - Privacy</footer></body></html>"
    )


# 5. Fallbacks -------------------------------------------------------------------------


def test_a_page_with_an_xml_declaration_still_gets_its_fallback_date() -> None:
    # XHTML served with its declaration; the date is only in the visible text.
    paragraphs = "".join(f"<p>{text}</p>" for text in _PROSE)
    body = f"<article><h1>Pool stays open</h1><p>Posted on March 3, 2025</p>{paragraphs}</article>"
    page = _page(body, prolog='<?xml version="1.0" encoding="utf-8"?>\n<!DOCTYPE html>')

    article = extract(page, url="https://courier.example/pool", fetched_at=_FETCHED)

    assert article.date == "2025-03-03"


def test_the_date_fallback_searches_the_text_extensively() -> None:
    paragraphs = "".join(f"<p>{text}</p>" for text in _PROSE)
    body = (
        "<article><h1>Pool stays open</h1>"
        f"<p>Filed on March 3, 2025, in Town news</p>{paragraphs}</article>"
    )

    article = extract(_page(body), url="https://courier.example/pool", fetched_at=_FETCHED)

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
    paragraphs = "".join(f"<p>{text}</p>" for text in _PROSE)
    byline = "<div class='author-name'>Ada\n      Lindqvist</div>"
    page = _page(f"<article><h1>Pool stays open</h1>{byline}{paragraphs}</article>")

    article = extract(page, url="https://courier.example/pool", fetched_at=_FETCHED)

    assert article.authors == ["Ada Lindqvist"]
