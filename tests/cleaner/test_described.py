"""The fields a page states about itself beyond the core ones: description, image, section,
tags, date_modified, and a language detected (and flagged) when the page declares none."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from cleaner import Article, extract, extract_text

FETCHED = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
_BODY_EN = (
    "<p>The early ferry to the island is gone from Monday, and the harbour office never asked "
    "the people who take it every morning to work.</p>"
    "<p>Nurses on the first shift, the baker and the school bus driver all relied on it, and "
    "the next boat leaves an hour later than anyone can afford to arrive.</p>"
) * 3
_BODY_DE = (
    "<p>Die erste Fähre zur Insel fällt ab Montag weg, und das Hafenamt hat die Menschen, die "
    "sie jeden Morgen zur Arbeit nehmen, nie gefragt.</p>"
    "<p>Pflegekräfte der Frühschicht, der Bäcker und der Schulbusfahrer waren auf sie "
    "angewiesen, und das nächste Boot fährt eine Stunde später.</p>"
) * 3


def _page(head: str, body: str = _BODY_EN, lang: str = ' lang="en"') -> str:
    return (
        f"<!doctype html><html{lang}><head><title>The ferry we lost</title>{head}</head>"
        f"<body><article><h1>The ferry we lost</h1>{body}</article></body></html>"
    )


def _extract(html: str) -> Article:
    return extract(html, url="https://harbour.example/opinion/ferry", fetched_at=FETCHED)


def test_json_ld_fields() -> None:
    ld = {
        "@context": "https://schema.org",
        "@type": "OpinionNewsArticle",
        "headline": "The ferry we lost",
        "description": "Why the island's early boat mattered.",
        "image": {"@type": "ImageObject", "url": "https://cdn.harbour.example/ferry.jpg"},
        "articleSection": "Opinion",
        "keywords": "ferries, island life,  transport ",
        "datePublished": "2026-02-20T07:00:00+01:00",
        "dateModified": "2026-02-21T10:30:00+01:00",
    }
    article = _extract(_page(f'<script type="application/ld+json">{json.dumps(ld)}</script>'))
    assert article.description == "Why the island's early boat mattered."
    assert article.image == "https://cdn.harbour.example/ferry.jpg"
    assert article.section == "Opinion"
    assert article.tags == ["ferries", "island life", "transport"]
    assert article.date == "2026-02-20T07:00:00+01:00"
    assert article.date_modified == "2026-02-21T10:30:00+01:00"
    assert (article.language, article.language_detected) == ("en", False)


def test_meta_tag_fields_and_a_relative_image() -> None:
    head = (
        '<meta property="og:description" content="Why the early boat mattered.">'
        '<meta property="og:image" content="/img/ferry.jpg">'
        '<meta property="article:section" content="Columns">'
        '<meta property="article:tag" content="ferries">'
        '<meta property="article:tag" content="tides">'
        '<meta property="article:published_time" content="2026-02-20">'
        '<meta property="article:modified_time" content="2026-02-22T08:00:00Z">'
    )
    article = _extract(_page(head))
    assert article.description == "Why the early boat mattered."
    assert article.image == "https://harbour.example/img/ferry.jpg"
    assert article.section == "Columns"
    assert article.tags == ["ferries", "tides"]
    assert article.date_modified == "2026-02-22T08:00:00+00:00"


def test_nothing_stated_nothing_invented() -> None:
    article = _extract(_page(""))
    assert article.description is None and article.image is None and article.section is None
    assert article.tags == [] and article.date_modified is None


def test_modified_dates_after_the_fetch_or_before_publication_are_dropped() -> None:
    future = (
        '<meta property="article:published_time" content="2026-02-20">'
        '<meta property="article:modified_time" content="2027-01-01T00:00:00Z">'
    )
    before = (
        '<meta property="article:published_time" content="2026-02-20">'
        '<meta property="og:updated_time" content="2026-02-10">'
    )
    assert _extract(_page(future)).date_modified is None
    assert _extract(_page(before)).date_modified is None


def test_a_description_that_only_repeats_the_title_is_not_kept() -> None:
    article = _extract(_page('<meta name="description" content="The ferry we lost">'))
    assert article.description is None


def test_language_detected_from_the_text_when_not_declared() -> None:
    article = _extract(_page("", _BODY_DE, lang=""))
    assert (article.language, article.language_detected) == ("de", True)
    declared = _extract(_page("", _BODY_DE, lang=' lang="de-AT"'))
    assert (declared.language, declared.language_detected) == ("de-AT", False)


def test_text_dump_language_is_detected() -> None:
    text = "Die Fähre, die wir verloren haben\n20.02.2026\n" + (
        "Die erste Fähre zur Insel fällt ab Montag weg, und das Hafenamt hat niemanden gefragt.\n"
        * 3
    )
    article = extract_text(text, url="https://harbour.example/f", fetched_at=FETCHED)
    assert (article.language, article.language_detected) == ("de", True)


def test_records_saved_before_these_fields_still_load() -> None:
    old = {
        "id": "",
        "url": "https://harbour.example/opinion/ferry",
        "title": "The ferry we lost",
        "date": "2026-02-20",
        "date_raw": "20.02.2026",
        "body": "The early ferry to the island is gone from Monday, and nobody asked us.",
        "source": "Harbour Post",
        "authors": [],
        "aggregator": None,
        "source_url": None,
        "language": "en",
        "truncated": False,
        "paywalled": None,
        "fetched_at": "2026-03-01T09:00:00Z",
    }
    article = Article.model_validate(old)
    assert article.tags == [] and article.description is None and not article.language_detected
