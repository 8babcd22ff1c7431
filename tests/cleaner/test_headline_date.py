"""A page with no date in its markup is dated by the date printed beside its ``<h1>``.

Every page here is written for the test in the shape of a real one: a company blog
with no JSON-LD, no date ``<meta>`` and no ``<time>``, whose byline is plain text.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from cleaner.dates import text_dates
from cleaner.extraction import extract

_FETCHED = datetime(2026, 3, 1, tzinfo=UTC)
_URL = "https://tidewater-tools.example/blog/choosing-a-chisel"
_PROSE = "".join(
    f"<p>{text}</p>"
    for text in (
        "A bevel-edged chisel does most of the work in a small shop: paring a tenon,"
        " cleaning out a dovetail socket, squaring the corner a router leaves round.",
        "Buy three widths before a set of twelve, and spend the difference on a strop,"
        " because an edge that is honed often never needs the grinder.",
        "The handle matters less than the steel, but a hooped handle takes a mallet"
        " for years where a plain one splits in the first winter.",
    )
)
_SIDEBAR = (
    "<aside><h2>Older posts</h2><ul>"
    "<li><a href='/blog/saws'>Saws for beginners</a> 2019-06-14</li>"
    "<li><a href='/blog/glue'>Hide glue or PVA?</a> 2020-02-03</li></ul></aside>"
)
_FOOTER = "<footer>© 2026 Tidewater Tools · Terms · Privacy</footer>"


def _page(before: str, after: str) -> str:
    return (
        "<!DOCTYPE html><html lang='en'><head><title>Choosing a chisel</title></head>"
        "<body><header><a href='/'>Tidewater Tools</a><nav>Shop Blog Contact</nav></header>"
        f"<main><div class='crumbs'><a href='/blog'>Blog</a> {before}</div>"
        f"<h1>Choosing a chisel that lasts</h1>{after}"
        f"<article>{_PROSE}</article>{_SIDEBAR}</main>{_FOOTER}</body></html>"
    )


@pytest.mark.parametrize(
    ("before", "after", "expected"),
    [
        ("", "<p class='meta'>By Ruth Okafor · Updated Feb 4, 2025 · 6 min read</p>", "2025-02-04"),
        (
            "<span>Last updated: 12 January 2025</span>",
            "<p class='meta'>By Ruth Okafor</p>",
            "2025-01-12",
        ),
        ("", "<div><span>Ruth Okafor</span><span>03.02.2025</span></div>", "2025-02-03"),
    ],
)
def test_the_byline_date_beside_the_headline_dates_the_page(
    before: str, after: str, expected: str
) -> None:
    article = extract(_page(before, after), url=_URL, fetched_at=_FETCHED)

    assert article.date == expected


def test_a_date_deep_in_the_first_paragraph_is_not_the_byline() -> None:
    lead = (
        "<p class='standfirst'>The shop's oldest chisel, a gift from a neighbour who kept"
        " bees, was forged on March 3, 1921 in Sheffield.</p>"
    )
    article = extract(_page("", lead), url=_URL, fetched_at=_FETCHED)

    assert article.date != "1921-03-03"


def test_a_byline_date_after_the_fetch_is_not_taken() -> None:
    page = _page("", "<p class='meta'>By Ruth Okafor · Updated Feb 4, 2027</p>")

    assert extract(page, url=_URL, fetched_at=_FETCHED).date != "2027-02-04"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Updated: Dec. 4, 2025 | 5 min", [("Dec. 4, 2025", "2025-12-04")]),
        ("Friday, December 19th, 2025", [("December 19th, 2025", "2025-12-19")]),
        ("aktualisiert am 4. März 2024", [("4. März 2024", "2024-03-04")]),
        ("publicado el 4 de diciembre de 2025", [("4 de diciembre de 2025", "2025-12-04")]),
        ("Stand: 04.12.2025, 10:15 Uhr", [("04.12.2025", "2025-12-04")]),
        ("Posted 2025-12-04 by the team", [("2025-12-04", "2025-12-04")]),
        # Slashes are ambiguous (which is the month?), a time stamp is the markup's.
        ("Posted 03/04/2025 at 2025-12-04T10:00", []),
        ("31 February 2025, the mayor 5 2021", []),
    ],
)
def test_text_dates(text: str, expected: list[tuple[str, str]]) -> None:
    assert text_dates(text) == expected
