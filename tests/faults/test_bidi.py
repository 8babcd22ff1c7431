"""Bidirectional controls from a page never reach a record: a U+202E in a title would show
it reversed (and hide what follows) wherever the record is displayed."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from cleaner import Article, extract, extract_text
from tests.conftest import run_scraper

NOW = datetime(2026, 11, 20, tzinfo=UTC)
# Marks, embeddings, overrides, isolates (Unicode bidi classes LRM..PDI, and ALM).
CONTROLS = list("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
PROSE = "The harbour board voted to keep the ferry running through the winter months. "


def _fields(article: Article) -> list[str]:
    record = article.model_dump(mode="json")
    return [str(value) for value in record.values() if value is not None] + article.authors


@pytest.mark.parametrize("control", CONTROLS, ids=[f"U+{ord(c):04X}" for c in CONTROLS])
def test_no_bidi_control_survives_in_any_field_of_an_html_page(control: str) -> None:
    c = control
    html = (
        f'<html lang="en{c}"><head><title>Ferry{c} stays | Harbour{c} News</title>'
        f'<meta property="og:site_name" content="Harbour{c} News">'
        f'<meta name="author" content="Jane{c} Roe">'
        f'<meta property="article:published_time" content="2026-01-05{c}"></head>'
        f"<body><article><h1>Ferry{c} stays</h1>"
        + f"<p>{c}{PROSE}{c}exe.txt</p>" * 6
        + "</article></body></html>"
    )
    article = extract(html, url="http://harbour.test/ferry", fetched_at=NOW)
    assert article.title == "Ferry stays"
    for value in _fields(article):
        assert not set(value) & set(CONTROLS), value


def test_no_bidi_control_survives_in_a_text_dump() -> None:
    text = "Ferry\u202e stays\n\nBy Jane\u2066 Roe\u2069\n\n" + (PROSE + "\u202c") * 6
    article = extract_text(text, url="http://harbour.test/ferry")
    for value in _fields(article):
        assert not set(value) & set(CONTROLS), value


def test_the_record_model_refuses_to_carry_them_whatever_the_caller_passes() -> None:
    article = Article(
        url="http://harbour.test/ferry",
        title="\u202eFerry stays",
        body=PROSE * 2 + "\u2067",
        source="Harbour\u202d News",
        authors=["\u2068Jane Roe\u2069"],
    )
    assert (article.title, article.source, article.authors) == (
        "Ferry stays",
        "Harbour News",
        ["Jane Roe"],
    )


def test_scraper_clean_prints_a_record_without_them(workdir: Path) -> None:
    page = workdir / "page.html"
    page.write_text(
        "<html><head><title>\u202eFerry stays</title></head><body><article><h1>\u202eFerry "
        "stays</h1>" + f"<p>{PROSE}</p>" * 6 + "</article></body></html>",
        encoding="utf-8",
    )
    result = run_scraper("clean", str(page), "--url", "http://harbour.test/f", cwd=workdir)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["title"] == "Ferry stays"
