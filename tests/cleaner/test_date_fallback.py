"""htmldate, the last date fallback, runs only on a page that can hold a date.

Every page here is written for the test in the shape of a real one.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

import lxml.html  # type: ignore[import-untyped]
from htmldate import find_date
from hypothesis import given, settings
from hypothesis import strategies as st

from cleaner.dates import page_may_hold_date, url_may_hold_date
from cleaner.extraction import extract

_FETCHED = datetime(2025, 6, 1, tzinfo=UTC)
_PROSE = "".join(
    f"<p>{text}</p>"
    for text in (
        "The ferry across the bay kept its winter timetable after a long argument at the"
        " council, and the harbour master said the boats would run as before.",
        "Fishermen who use the quay before dawn had asked for the early crossing to stay,"
        " and the town agreed to pay for the crew out of the parking fees.",
        "A review of the service is planned for the spring, when the council will look"
        " again at the fares, the boats and the state of the old landing stage.",
    )
)


def may_hold_date(page: str, url: str) -> bool:
    """Whether extract asks htmldate at all: the page or its URL may hold a date."""
    return page_may_hold_date(page) or url_may_hold_date(url)


def _page(lead: str, heading: str = "<h1>Ferry keeps running</h1>") -> str:
    return (
        "<!DOCTYPE html><html lang='en'><head><title>Ferry keeps running</title></head>"
        f"<body><header><a href='/'>The Bay Herald</a></header><article>"
        f"{heading}{lead}{_PROSE}</article>"
        "<footer>Contact - Terms - Privacy</footer></body></html>"
    )


def test_a_date_only_in_the_prose_is_still_found() -> None:
    page = _page("<p>Filed on 3 March 2025 from the quay</p>")

    article = extract(page, url="https://herald.example/ferry", fetched_at=_FETCHED)

    assert article.date == "2025-03-03"


def test_a_date_split_over_elements_still_counts_as_digits() -> None:
    page = _page("<p>Filed on <b>3.3.</b><i>25</i></p>")

    assert may_hold_date(page, "https://herald.example/ferry")


def test_a_page_without_digits_is_not_searched_and_has_no_date() -> None:
    page = _page("<p>Filed from the quay by our harbour reporter</p>")

    # "127.0.0.1" and "/7": digits in the URL, but no year.
    url = "http://127.0.0.1/column/7"
    article = extract(page, url=url, fetched_at=_FETCHED)

    assert not may_hold_date(page, url)
    assert article.date is None
    assert find_date(lxml.html.document_fromstring(page), url=url, extensive_search=True) is None


def test_a_date_in_the_url_of_a_page_without_digits_is_still_read() -> None:
    page = _page("<p>Filed from the quay by our harbour reporter</p>")

    article = extract(page, url="https://herald.example/2025/03/03/ferry", fetched_at=_FETCHED)

    assert article.date == "2025-03-03"


def test_superscript_digits_and_character_references_count_as_digits() -> None:
    # str.isdigit counts superscripts, as htmldate's text parser does; re's \d does not.
    # A reference is one character of the parsed page: "&#50;&#48;" is "20".
    url = "https://herald.example/ferry"
    assert may_hold_date("<p>3 March ²⁵²⁵</p>", url)
    assert not may_hold_date("<p>3 March ²</p>", url)
    assert may_hold_date("<p>March &#50;&#48;&#x32;&#x35;</p>", url)
    assert may_hold_date("<p>March &sup2;&sup2;&sup2;&sup2;</p>", url)


# Day, month and a two-digit year: a date with as few digits as htmldate reads.
_DATE_LIKE = st.builds(
    "{}{}{}{}{}".format,
    st.sampled_from(["3", "21", "07", ""]),
    st.sampled_from([" ", "/", ".", "-", ". "]),
    st.sampled_from(["March", "Mar", "mars", "Januar", "3", "11"]),
    st.sampled_from([" ", "/", ".", "-", ", "]),
    st.sampled_from(["95", "21", "07", "2"]),
)
_WORDS = st.sampled_from(["on", "Posted", "Datum:", "©", "Copyright", "updated", "the"])
_PLACES = st.sampled_from(
    [
        "<p>{}</p>",
        "<span class='date'>{}</span>",
        "<time>{}</time>",
        "<abbr class='published' title='{}'>x</abbr>",
        "<footer><small>{}</small></footer>",
        "<meta name='date' content='{}'>",
    ]
)


@settings(max_examples=100, deadline=None)
@given(_PLACES, _WORDS, _DATE_LIKE)
def test_htmldate_finds_nothing_where_the_check_says_no_date(
    place: str, word: str, date: str
) -> None:
    """The check's claim against htmldate itself: a page it rules out gets no date from
    an extensive search, whatever date-like text with few digits it holds."""
    page = _page(place.format(f"{word} {date}"), heading="")
    url = "https://herald.example/news/21/3"
    if may_hold_date(page, url):
        return
    tree = lxml.html.document_fromstring(page)

    assert find_date(tree, url=url, extensive_search=True, original_date=True) is None


_URLS = st.builds(
    "https://herald.example{}/{}{}".format,
    st.sampled_from(["", ":8443", ":34567"]),
    st.sampled_from(["news/", "2025/03/03/", "2025/03/", "2025-03-03-", "p/2031/", "21/3/"]),
    st.sampled_from(["ferry", "ferry-12345", "7"]),
)


@settings(max_examples=60, deadline=None)
@given(_PLACES, _WORDS, _DATE_LIKE, _URLS)
def test_a_page_without_date_digits_gets_the_date_htmldate_reads_in_its_whole(
    place: str, word: str, date: str, url: str
) -> None:
    """A page too short of digits is not searched, only its URL: the date is still the
    one htmldate finds when it reads the whole page."""
    page = _page(place.format(f"{word} {date}"), heading="")
    whole = find_date(
        lxml.html.document_fromstring(page),
        url=url,
        extensive_search=True,
        original_date=True,
        max_date=_FETCHED.strftime("%Y-%m-%d"),
    )

    article = extract(page, url=url, fetched_at=_FETCHED)

    assert (article.date or "")[:10] == (whole or "")[:10]


def _digit_like_count(html: str) -> int:
    """The definition the check's faster counts must agree with."""
    digits = len(re.findall(r"\d|&#|&sup", html, re.IGNORECASE))
    return max(digits, sum(map(str.isdigit, html)) if not html.isascii() else 0)


@given(st.text(st.sampled_from("ab &#;sSuUpP0123456789²٣\u00e9<>"), max_size=40))
def test_the_digit_check_counts_digits_and_references_as_defined(html: str) -> None:
    assert page_may_hold_date(html) == (_digit_like_count(html) >= 4)
