"""The Article record: validation reasons, canonical ids, dates without invented zones."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from pydantic import ValidationError

from cleaner import Article, ExtractionError, RejectReason, article_id, canonicalize_url, extract

FETCHED = datetime(2025, 3, 20, 12, 0, tzinfo=UTC)


def _article(**changes: object) -> Article:
    fields: dict[str, object] = {
        "url": "https://example.org/a",
        "title": "T",
        "body": "A body long enough to be the first paragraph of a real column.",
        "source": "S",
        "fetched_at": FETCHED,
    }
    return Article.model_validate({**fields, **changes})


@pytest.mark.parametrize(
    "variant",
    [
        "https://Example.org:443/col/1?b=2&a=1",
        "https://example.org/col/1?a=1&b=2&utm_source=x&utm_medium=y",
        "https://example.org/col/1?a=1&b=2#comments",
        "HTTPS://EXAMPLE.ORG/col/1?fbclid=abc&a=1&b=2",
    ],
)
def test_id_is_stable_across_url_variants(variant: str) -> None:
    assert canonicalize_url(variant) == "https://example.org/col/1?a=1&b=2"
    assert article_id(variant) == article_id("https://example.org/col/1?a=1&b=2")
    assert _article(url=variant).id == article_id(variant)


def test_different_paths_get_different_ids() -> None:
    assert article_id("https://example.org/a") != article_id("https://example.org/b")
    assert article_id("http://example.org:8080/a") != article_id("http://example.org/a")


def test_a_wrong_id_is_refused() -> None:
    with pytest.raises(ValidationError, match="does not match the url"):
        _article(id="0000000000000000")


@pytest.mark.parametrize("url", ["ftp://example.org/a", "/relative/path", "javascript:alert(1)"])
def test_url_must_be_absolute_http(url: str) -> None:
    with pytest.raises(ValidationError, match="absolute http"):
        _article(url=url)


@pytest.mark.parametrize("field", ["title", "body", "source"])
def test_blank_required_text_is_refused(field: str) -> None:
    with pytest.raises(ValidationError):
        _article(**{field: "   \n "})


def test_dates_keep_their_precision_and_zone() -> None:
    assert _article(date="2025-03-14").date == "2025-03-14"
    assert _article(date="2025-03-14").published == date(2025, 3, 14)
    assert _article(date="2025-03-14T09:00:00").date == "2025-03-14T09:00:00"
    assert _article(date="2025-03-14T09:00:00+05:30").date == "2025-03-14T09:00:00+05:30"


def test_date_after_fetch_time_is_refused() -> None:
    with pytest.raises(ValidationError, match="after the fetch time"):
        _article(date="2025-03-22")
    with pytest.raises(ValidationError, match="after the fetch time"):
        _article(date="2025-03-20T15:00:00+00:00")
    # The same calendar day in a zone east of UTC is not the future.
    assert _article(date="2025-03-21").date == "2025-03-21"


def test_fetched_at_must_be_aware() -> None:
    with pytest.raises(ValidationError, match="time zone"):
        _article(fetched_at=datetime(2025, 1, 1))


def test_record_is_frozen_and_strict() -> None:
    article = _article()
    with pytest.raises(ValidationError):
        article.title = "other"  # type: ignore[misc]
    with pytest.raises(ValidationError, match="extra"):
        _article(colour="blue")


def test_body_paragraphs_are_normalized() -> None:
    one, two = "The first paragraph of the column.", "The second paragraph."
    assert _article(body=f"{one}\r\n\r\n\r\n\r\n{two}\n").body == f"{one}\n\n{two}"


def test_a_menu_label_is_not_a_body() -> None:
    with pytest.raises(ValidationError, match="is not an article"):
        _article(body="Home")
    page = "<html><head><title>Site</title></head><body><nav>Home</nav></body></html>"
    with pytest.raises(ExtractionError) as caught:
        extract(page, url="https://example.org/x", fetched_at=FETCHED)
    assert caught.value.reason in (RejectReason.NOT_ARTICLE, RejectReason.EMPTY_BODY)


def test_authors_deduplicated_in_order() -> None:
    assert _article(authors=["B", " A ", "B", ""]).authors == ["B", "A"]


def test_json_round_trip() -> None:
    article = _article(date="2025-03-14", authors=["A"], truncated=True)
    assert Article.model_validate_json(article.model_dump_json()) == article


def test_extract_names_the_reason() -> None:
    page = "<html><head><title>Only a title</title></head><body><nav>Menu</nav></body></html>"
    with pytest.raises(ExtractionError) as caught:
        extract(page, url="https://example.org/x", fetched_at=FETCHED)
    assert caught.value.reason is RejectReason.EMPTY_BODY
    # In words, not pydantic's "String should have at least 1 character".
    assert caught.value.detail == "no article text found on the page"


def test_a_page_without_a_title_says_so() -> None:
    with pytest.raises(ExtractionError) as caught:
        extract("<html><body><p></p></body></html>", url="https://example.org/x")
    assert caught.value.reason is RejectReason.NO_TITLE
    assert caught.value.detail == "no title found on the page"


def test_extract_rejects_future_dates() -> None:
    page = (
        '<html><head><meta property="article:published_time" content="2030-01-01">'
        "<title>A column</title></head><body><article><p>"
        + "A sentence of a real column. " * 20
        + "</p></article></body></html>"
    )
    with pytest.raises(ExtractionError) as caught:
        extract(page, url="https://example.org/x", fetched_at=FETCHED)
    assert caught.value.reason is RejectReason.FUTURE_DATE
