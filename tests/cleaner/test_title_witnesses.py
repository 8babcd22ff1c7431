"""Which title witness leads: og:title, unless it only repeats ``<title>`` while the
JSON-LD headline and the ``<h1>`` agree on the page's visible headline.

Every page here is written for the test in the shape of a real one (a how-to blog
whose SEO plugin copies the document title into og:title).
"""

from __future__ import annotations

import json

import pytest

from cleaner.extraction import extract

_URL = "https://garden-notes.example/blog/raised-beds"
_PROSE = "".join(
    f"<p>{text}</p>"
    for text in (
        "A raised bed warms up sooner in spring, drains after a heavy shower and keeps"
        " the paths between the rows dry enough to walk on in boots.",
        "Untreated larch lasts ten years or more; the boards want screws, not nails,"
        " because the soil pushes outwards once it is wet and heavy.",
        "Fill the bottom third with turf turned upside down, then compost, then a sieved"
        " topsoil, and water each layer before the next goes in.",
    )
)


def _page(*, og_title: str, title_tag: str, headline: str, h1: str) -> str:
    article = {"@context": "https://schema.org", "@type": "BlogPosting", "headline": headline}
    return (
        "<!DOCTYPE html><html lang='en'><head>"
        f"<title>{title_tag}</title>"
        f"<meta property='og:title' content='{og_title}'>"
        "<meta property='og:site_name' content='Garden Notes'>"
        f"<script type='application/ld+json'>{json.dumps(article)}</script>"
        "</head><body><header><a href='/'>Garden Notes</a></header>"
        f"<article><h1>{h1}</h1><p class='byline'>By Ada Fern</p>{_PROSE}</article>"
        "<footer>About - Contact - Privacy</footer></body></html>"
    )


def test_the_shown_headline_beats_an_og_title_that_repeats_the_document_title() -> None:
    page = _page(
        og_title="Raised Garden Beds: 7 Easy Steps (2025) | Garden Notes",
        title_tag="Raised Garden Beds: 7 Easy Steps (2025) | Garden Notes",
        headline="How to Build a Raised Bed That Lasts",
        h1="How to Build a Raised Bed That Lasts",
    )

    assert extract(page, url=_URL).title == "How to Build a Raised Bed That Lasts"


@pytest.mark.parametrize(
    ("og_title", "headline"),
    [
        # An og:title of its own (not the document title's copy) is the editors' choice.
        ("Seven steps to a raised bed", "How to Build a Raised Bed That Lasts"),
        # A JSON-LD headline that is not the <h1> gives the <h1> no second witness.
        ("Raised Garden Beds: 7 Easy Steps (2025)", "Raised beds, step by step"),
    ],
)
def test_og_title_leads_without_both_conditions(og_title: str, headline: str) -> None:
    page = _page(
        og_title=og_title,
        title_tag="Raised Garden Beds: 7 Easy Steps (2025) | Garden Notes",
        headline=headline,
        h1="How to Build a Raised Bed That Lasts",
    )

    assert extract(page, url=_URL).title == og_title
